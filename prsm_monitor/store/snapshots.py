"""Snapshots: what the pages draw that is not a number series, kept with the history.

A page's past needs more than the series of :mod:`.tiered`: the node table (names, statuses,
links up, models), the links and their states (the topology's colours), the model table, the
recent consensus proposals, the thresholds then in force (the colour bands), the sources'
errors. A *snapshot* is those records (the ``system``, ``network``, ``ai`` and ``collector``
records of :meth:`~prsm_monitor.core.collector.MetricsCollector.latest`, plus ``errors`` and
``thresholds``) as JSON, stamped with the data time of its newest record.

:class:`SnapshotJournal` is a journal source of the :class:`~.writer.Writer` (called on its
thread once per flush): it takes a snapshot at most every :data:`EVERY` seconds, and at the
next flush when the *look* changed (a node's status or links, a link going down, a model's
status, a source failing), and only when anything changed since the last one. Its
operation ``("snapshot", ts, tier, key, data)`` is committed with the writer's next batch.

Compression, like the chunks: zlib. The first snapshot of each :data:`KEYFRAME` (5 min) is
a *keyframe* (tier 1; the first of each hour tier 2), compressed on its own; the others (tier 0) are
compressed with their keyframe as zlib's preset dictionary (``zdict``), so a snapshot that
differs from the keyframe in some numbers costs under a kilobyte (5-node demo: about 860 B
against 1.4 to 2 KB for a keyframe). ``key``
is the keyframe's time (its own time for a keyframe).

Retention follows the tiers: tier-0 snapshots live as long as raw points
(``PRSM_RETENTION_RAW``), minute keyframes as long as minute rollups, hour keyframes as long
as hour rollups; over ``PRSM_RETENTION_MAX_MB`` the oldest go first, tier 0 first (with the
chunks, :func:`~.statements.cap`). So a moment older than the raw retention is drawn from the
first snapshot of its 5 minutes, and older than the minute retention from the hour's: the reader
gets the snapshot's tier and time and the page says how far it is from the moment asked.
"""

from __future__ import annotations

import json
import math
import sqlite3
import threading
import time
import zlib
from collections.abc import Callable

EVERY = 15.0  # seconds between snapshots while the look is unchanged
KEYFRAME = 300.0  # seconds: the first snapshot of each such bucket is a keyframe (kept like minute rollups)
LEVEL = 6
DIGITS = 5  # significant digits kept of a nested number (a table shows at most 4 or 5)
RECORDS = ("system", "network", "ai", "collector")
SCHEMA = """
CREATE TABLE IF NOT EXISTS snapshots (ts REAL NOT NULL, tier INTEGER NOT NULL, key REAL NOT NULL, data BLOB NOT NULL);
CREATE INDEX IF NOT EXISTS snapshots_time ON snapshots (ts);
"""
TIER_NAMES = {0: "raw", 1: "minute", 2: "hour"}


# -- the writer's side ---------------------------------------------------------------------------
def look(records: dict) -> tuple:
    """What a drawing's colours and the tables' states show: changes here are taken at once."""
    network = records.get("network") or {}
    ai = records.get("ai") or {}
    return (
        tuple((n.get("name"), n.get("status"), n.get("links_up")) for n in network.get("nodes") or ()),
        tuple((e.get("source"), e.get("target"), e.get("up")) for e in network.get("edges") or ()),
        tuple((m.get("node"), m.get("model"), m.get("status")) for m in ai.get("models") or ()),
        tuple(sorted(records.get("errors") or {})),
        tuple(sorted((records.get("thresholds") or {}).items())),
    )


def stamp(records: dict) -> float | None:
    """The data time of a snapshot: its newest record's timestamp."""
    times = [r.get("timestamp") for r in (records.get(c) for c in RECORDS) if isinstance(r, dict)]
    times = [float(t) for t in times if isinstance(t, int | float) and math.isfinite(t)]
    return max(times, default=None)


def encode(payload: bytes, keyframe: bytes | None) -> bytes:
    if keyframe is None:
        return zlib.compress(payload, LEVEL)
    packer = zlib.compressobj(LEVEL, zdict=keyframe)
    return packer.compress(payload) + packer.flush()


def decode(data: bytes, keyframe: bytes | None) -> bytes:
    if keyframe is None:
        return zlib.decompress(data)
    unpacker = zlib.decompressobj(zdict=keyframe)
    return unpacker.decompress(data) + unpacker.flush()


def records_of(collector) -> dict:
    """What a snapshot of ``collector`` holds: of its latest records, what is not a series
    (:func:`structure`), the sources' errors and the thresholds in force."""
    records = {c: structure(collector.latest(c)) for c in RECORDS}
    records["errors"] = dict(getattr(getattr(collector, "custom", None), "errors", None) or {})
    records["thresholds"] = {name: [rule.warning, rule.critical] for name, rule in collector.rules.items()}
    return records


def structure(record: dict | None) -> dict | None:
    """``record`` without its top-level numbers (those are series, stored as such: a reader
    takes them from the series at the moment), its nested numbers rounded to
    :data:`DIGITS` significant digits (tables show fewer): what is left changes less from
    one snapshot to the next, and compresses against its keyframe."""
    if record is None:
        return None
    kept = {k: _rounded(v) for k, v in record.items() if not _scalar(v)}
    kept["timestamp"] = record.get("timestamp")
    return kept


def _scalar(value) -> bool:
    return value is None or isinstance(value, int | float) and not isinstance(value, bool)


def _rounded(value):
    if isinstance(value, float):
        return float(f"{value:.{DIGITS}g}") if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _rounded(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_rounded(v) for v in value]
    return value


class SnapshotJournal:
    """Journal source of snapshots of ``read()`` (a dict of the records, ``errors`` and
    ``thresholds``, see :func:`records_of`); see the module doc. ``clock`` is monotonic
    seconds (rate limit only)."""

    def __init__(self, read: Callable[[], dict], every: float = EVERY, clock: Callable[[], float] = time.monotonic):
        self.read = read
        self.every = every
        self.clock = clock
        self.written = 0  # snapshots handed to the writer
        self.bytes = 0  # their compressed bytes
        self._taken_at = -math.inf
        self._look: tuple | None = None
        self._last: bytes | None = None
        self._keyframe: tuple[float, bytes] | None = None  # (minute, JSON)
        self._hour: float | None = None
        self._key = 0.0  # the time of the current keyframe
        self._lock = threading.Lock()

    def __call__(self) -> list[tuple]:
        with self._lock:
            records = self.read()
            ts = stamp(records)
            if ts is None:
                return []
            seen = look(records)
            now = self.clock()
            if seen == self._look and now - self._taken_at < self.every:
                return []
            payload = json.dumps(records, default=str, sort_keys=True, separators=(",", ":")).encode()
            if self._last is not None and _without_times(payload) == _without_times(self._last):
                return []  # nothing but the clock moved: the next change is taken at once
            self._look, self._taken_at, self._last = seen, now, payload
            return [self._op(ts, payload)]

    def _op(self, ts: float, payload: bytes) -> tuple:
        minute, hour = math.floor(ts / KEYFRAME) * KEYFRAME, math.floor(ts / 3600) * 3600
        if self._keyframe is None or self._keyframe[0] != minute:
            self._keyframe = (minute, payload)
            tier = 2 if self._hour != hour else 1
            self._hour = hour
            op = ("snapshot", ts, tier, ts, encode(payload, None))
            self._key = ts
        else:
            op = ("snapshot", ts, 0, self._key, encode(payload, self._keyframe[1]))
        self.written += 1
        self.bytes += len(op[-1])
        return op


def _without_times(payload: bytes) -> bytes:
    """``payload`` with every ``"timestamp":<number>`` blanked (change detection only)."""
    out, at = [], 0
    marker = b'"timestamp":'
    while (found := payload.find(marker, at)) >= 0:
        out.append(payload[at : found + len(marker)])
        end = found + len(marker)
        while end < len(payload) and payload[end : end + 1] not in (b",", b"}"):
            end += 1
        at = end
    out.append(payload[at:])
    return b"".join(out)


# -- SQL (on the writer's connection, inside its transactions) -----------------------------------
def insert(conn: sqlite3.Connection, op: tuple) -> None:
    conn.execute("INSERT INTO snapshots (ts, tier, key, data) VALUES (?, ?, ?, ?)", op[1:])


def expire(conn: sqlite3.Connection, retention: dict[int, float], clock: float) -> None:
    """Tier-0 snapshots after the raw retention, minute keyframes after the minute one, hour
    keyframes after the hour one."""
    for level, seconds in retention.items():
        conn.execute("DELETE FROM snapshots WHERE tier=? AND ts<?", (level, clock - seconds))


def trim(conn: sqlite3.Connection, level: int) -> bool:
    """Delete the oldest tenth of tier ``level``'s snapshots (and the deltas on a deleted
    keyframe); False when there were none. For the size cap."""
    (count,) = conn.execute("SELECT count(*) FROM snapshots WHERE tier=?", (level,)).fetchone()
    if not count:
        return False
    (edge,) = conn.execute(
        "SELECT max(ts) FROM (SELECT ts FROM snapshots WHERE tier=? ORDER BY ts LIMIT ?)", (level, max(1, count // 10))
    ).fetchone()
    conn.execute("DELETE FROM snapshots WHERE tier=? AND ts<=?", (level, edge))
    if level:
        conn.execute("DELETE FROM snapshots WHERE tier=0 AND key<=?", (edge,))
    return True


# -- readers -------------------------------------------------------------------------------------
class Snapshot:
    """A stored snapshot: ``ts`` (data time), ``tier`` (0 raw, 1 minute, 2 hour) and ``records``."""

    __slots__ = ("records", "tier", "ts")

    def __init__(self, ts: float, tier: int, records: dict):
        self.ts, self.tier, self.records = ts, tier, records

    @property
    def tier_name(self) -> str:
        return TIER_NAMES[self.tier]


def read_at(conn: sqlite3.Connection, at: float) -> Snapshot | None:
    """The newest snapshot stamped at or before ``at`` that can be decoded (None: none)."""
    rows = conn.execute("SELECT ts, tier, key, data FROM snapshots WHERE ts<=? ORDER BY ts DESC LIMIT 8", (at,))
    for ts, tier, key, data in rows.fetchall():
        keyframe = None
        if tier == 0:
            found = conn.execute("SELECT tier, data FROM snapshots WHERE ts=? AND tier>0 LIMIT 1", (key,)).fetchone()
            if found is None:  # its keyframe was pruned by the size cap: an older one may do
                continue
            keyframe = decode(found[1], None)
        try:
            return Snapshot(ts, tier, json.loads(decode(data, keyframe)))
        except (zlib.error, ValueError):
            continue
    return None


def first(conn: sqlite3.Connection) -> float | None:
    row = conn.execute("SELECT min(ts) FROM snapshots").fetchone()
    return None if row is None else row[0]


def stored(conn: sqlite3.Connection) -> tuple[int, int]:
    """``(snapshots, compressed bytes)`` stored."""
    count, size = conn.execute("SELECT count(*), coalesce(sum(length(data)), 0) FROM snapshots").fetchone()
    return int(count), int(size)
