"""The SQL the writer thread runs on the history file (:mod:`.disk`), one function a job.

Operations come from :class:`~.writer.Writer` as tuples: ``("chunk", tier, key, bucket,
start, end, rows, codec, data)``, ``("tail", tier, key, bucket, ts, data)``, ``("event",
id, ts, json)`` and ``("meta", key, json)``.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterable

from . import snapshots
from .tiers import TIERS

EVENTS_KEPT = 100_000  # alert events kept on disk at most (also pruned by the hour tier's age)


def transaction(conn: sqlite3.Connection, work: Callable[[], None]) -> None:
    """``work()`` in one write transaction, rolled back when it raises."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        work()
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise


def apply(conn: sqlite3.Connection, ops: Iterable[tuple], series: dict) -> None:
    """Write ``ops`` (inside a transaction); ``series`` maps keys to ids and gains new ones."""
    for op in ops:
        kind = op[0]
        if kind in ("tail", "chunk"):
            sid = series.get(op[2]) or series_id(conn, op[2], series)
            if kind == "tail":
                conn.execute("INSERT INTO tail VALUES (?, ?, ?, ?, ?)", (op[1], sid, op[3], op[4], op[5]))
            else:
                conn.execute(
                    "INSERT INTO chunks (tier, series, bucket, start, end, rows, codec, data) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (op[1], sid, *op[3:]),
                )
                # the open rows it holds (the table is small: rollup rows of open buckets)
                conn.execute("DELETE FROM tail WHERE tier=? AND series=? AND bucket=?", (op[1], sid, op[3]))
        elif kind == "event":
            conn.execute("INSERT INTO events (id, ts, data) VALUES (?, ?, ?)", op[1:])
        elif kind == "meta":
            conn.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", op[1:])
        elif kind == "snapshot":  # the pages' past (snapshots.py)
            snapshots.insert(conn, op)


def series_id(conn: sqlite3.Connection, key: tuple[str, tuple[str, ...]], cache: dict) -> int:
    fields = json.dumps(list(key[1]))
    conn.execute("INSERT OR IGNORE INTO series (component, fields) VALUES (?, ?)", (key[0], fields))
    (cache[key],) = conn.execute("SELECT id FROM series WHERE component=? AND fields=?", (key[0], fields)).fetchone()
    return cache[key]


def expire(conn: sqlite3.Connection, retention: dict[int, float], clock: float) -> None:
    """Delete rows older than their tier's retention (in data time ``clock``). Run inside the
    transaction that adds chunks: the pages both touch (the header, the freelist, the
    pointer map, index leaves) are then written once."""
    for level, seconds in retention.items():
        cutoff = clock - seconds
        conn.execute("DELETE FROM chunks WHERE tier=? AND bucket<? AND end<?", (level, cutoff, cutoff))
        conn.execute("DELETE FROM tail WHERE tier=? AND ts<?", (level, cutoff))
    snapshots.expire(conn, retention, clock)
    cutoff = clock - max(retention.values())
    conn.execute("DELETE FROM events WHERE ts<? OR seq<=(SELECT max(seq) FROM events)-?", (cutoff, EVENTS_KEPT))


def cap(conn: sqlite3.Connection, used_bytes: Callable[[], int], max_bytes: int) -> None:
    """Delete the oldest chunks, raw first, then minute, then hour, while ``used_bytes()``
    exceeds ``max_bytes``."""
    for level in range(len(TIERS)):
        while used_bytes() > max_bytes:
            trimmed = snapshots.trim(conn, level)  # the pages' past goes with its tier, oldest first
            (count,) = conn.execute("SELECT count(*) FROM chunks WHERE tier=?", (level,)).fetchone()
            if not count:
                if trimmed:
                    continue
                break
            conn.execute(
                "DELETE FROM chunks WHERE rowid IN (SELECT rowid FROM chunks WHERE tier=? ORDER BY bucket LIMIT ?)",
                (level, max(1, count // 10)),
            )


def checkpoint(conn: sqlite3.Connection) -> None:
    """Copy the WAL into the file and empty it. Free pages are reused by the next chunks; a
    file that shrank by an eighth or more (retention, size cap) gives the space back."""
    free, pages = (conn.execute(f"PRAGMA {name}").fetchone()[0] for name in ("freelist_count", "page_count"))
    if free > pages // 8:
        conn.execute("PRAGMA incremental_vacuum")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
