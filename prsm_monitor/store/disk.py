"""The SQLite file behind the on-disk history: schema, writes in one transaction, range reads.

Standard library ``sqlite3`` in WAL mode with ``synchronous=NORMAL``: a committed
transaction survives the process being killed (``kill -9``); readers never block the
writer. One connection writes (the writer thread's); each reading thread gets its own.

Tables:

- ``series(id, component, fields)``: a component's field list (JSON); a new field list
  (a new version of a source) is a new series of the same component.
- ``chunks(tier, series, bucket, start, end, rows, data, codec)``: closed chunks, one per
  tier bucket (see :mod:`.tiers`; a row that came late makes a second chunk, never
  overwrites); ``start``/``end`` are the first and last row's time; ``codec`` says how
  ``data`` is laid out (:mod:`.codec`: 0 plain, as the first version wrote, 1 packed).
- ``tail(tier, series, bucket, ts, data)``: the rows of each still-open rollup chunk, one
  per row (one a minute at most). The raw rows of open chunks are in the row log beside the
  file (``history.db-recent``, :mod:`.rowlog`); a file of the first version also has raw
  rows here, read once and deleted when their chunk closes.
- ``events(seq, id, ts, data)``: alert events (JSON), in the order they were logged.
- ``meta(key, value)``: schema version, saved settings, active alerts (JSON).
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from . import snapshots
from .tiers import TIERS

SCHEMA_VERSION = 2  # 2: chunks.codec (a file of version 1 gets the column at its first open)
POOL = 8  # idle read connections kept (Streamlit runs each script run on a new thread)
PAGE_SIZE = 8192  # measured (bench_store.py): reads as fast as 16 KiB pages, 2/3 of their bytes per commit

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS series (
    id INTEGER PRIMARY KEY, component TEXT NOT NULL, fields TEXT NOT NULL, UNIQUE (component, fields));
CREATE TABLE IF NOT EXISTS chunks (
    tier INTEGER NOT NULL, series INTEGER NOT NULL, bucket REAL NOT NULL,
    start REAL NOT NULL, end REAL NOT NULL, rows INTEGER NOT NULL, data BLOB NOT NULL,
    codec INTEGER NOT NULL DEFAULT 0);
CREATE INDEX IF NOT EXISTS chunks_bucket ON chunks (tier, bucket, series, start, end);
CREATE TABLE IF NOT EXISTS tail (
    tier INTEGER NOT NULL, series INTEGER NOT NULL, bucket REAL NOT NULL, ts REAL NOT NULL, data BLOB NOT NULL);
CREATE INDEX IF NOT EXISTS tail_time ON tail (tier, ts);
CREATE TABLE IF NOT EXISTS events (seq INTEGER PRIMARY KEY AUTOINCREMENT, id INTEGER, ts REAL, data TEXT NOT NULL);
"""


class Database:
    """The history file at ``path``. Opening it checks that it is a prsm-monitor history
    database (a ``sqlite3.DatabaseError`` says it is not, or is damaged)."""

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        self.log_path = Path(f"{self.path}-recent")  # the row log of the open raw chunks
        self._idle: list[tuple[int, sqlite3.Connection]] = []  # (generation, connection)
        self._lock = threading.Lock()
        self.generation = 0  # grows when the file is closed: pooled readers are dropped
        self._closed = False
        self.writer = self._connect(write=True)

    def _connect(self, write: bool) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, timeout=0.2 if write else 5.0, check_same_thread=False, isolation_level=None)
        try:
            if write:
                conn.execute(f"PRAGMA page_size={PAGE_SIZE}")  # effective only for a new file
                conn.execute("PRAGMA auto_vacuum=INCREMENTAL")
                if conn.execute("PRAGMA journal_mode=WAL").fetchone()[0].lower() != "wal":
                    raise sqlite3.OperationalError("the history database cannot use WAL mode here")
                conn.execute("PRAGMA synchronous=NORMAL")
                # builds that delete securely (Debian's) zero every freed page: a write per
                # pruned chunk; FAST zeroes only what is written anyway
                conn.execute("PRAGMA secure_delete=FAST")
                conn.execute("PRAGMA journal_size_limit=8388608")
                conn.executescript(_SCHEMA + snapshots.SCHEMA)
                version = conn.execute("SELECT value FROM meta WHERE key='schema'").fetchone()
                if version is None:
                    conn.execute("INSERT INTO meta VALUES ('schema', ?)", (str(SCHEMA_VERSION),))
                elif int(version[0]) > SCHEMA_VERSION:
                    raise sqlite3.DatabaseError(f"history schema {version[0]} is newer than this version knows")
                elif int(version[0]) < SCHEMA_VERSION:
                    _upgrade(conn)
            else:
                conn.execute("PRAGMA query_only=ON")
        except BaseException:
            conn.close()
            raise
        return conn

    # -- readers ----------------------------------------------------------------------------
    @contextmanager
    def reading(self) -> Iterator[sqlite3.Connection]:
        """A read connection from the pool, returned after use (any thread)."""
        with self._lock:
            while self._idle and self._idle[-1][0] != self.generation:
                self._idle.pop()[1].close()
            generation, conn = self._idle.pop() if self._idle else (self.generation, None)
        if conn is None:
            conn = self._connect(write=False)
        try:
            yield conn
        finally:
            with self._lock:
                keep = generation == self.generation and len(self._idle) < POOL and not self._closed
                if keep:
                    self._idle.append((generation, conn))
            if not keep:
                conn.close()

    def _read(self, sql: str, args: tuple = ()) -> list[tuple]:
        with self.reading() as conn:
            return conn.execute(sql, args).fetchall()

    def series(self, component: str) -> list[tuple[int, tuple[str, ...]]]:
        rows = self._read("SELECT id, fields FROM series WHERE component=? ORDER BY id", (component,))
        return [(sid, tuple(json.loads(fields))) for sid, fields in rows]

    def chunks(self, tier: int, series: int, start: float | None, end: float | None) -> list[tuple[int, bytes]]:
        """Closed chunks of one series overlapping ``[start, end]``, oldest first, as
        ``(codec, data)``. The filter runs on the index (tier, bucket, series, start, end): a
        chunk's rows lie in its bucket, so only the buckets of the range are scanned."""
        lo = -1e300 if start is None else start
        hi = 1e300 if end is None else end
        return self._read(
            "SELECT codec, data FROM chunks INDEXED BY chunks_bucket "
            "WHERE tier=? AND bucket>? AND bucket<=? AND series=? AND end>=? AND start<=? ORDER BY bucket",
            (tier, lo - TIERS[tier].span, hi, series, lo, hi),
        )

    def tail(self, tier: int, series: int, start: float | None, end: float | None) -> list[bytes]:
        rows = self._read(
            "SELECT data FROM tail WHERE tier=? AND series=? AND ts>=? AND ts<=? ORDER BY ts",
            (tier, series, -1e300 if start is None else start, 1e300 if end is None else end),
        )
        return [data for (data,) in rows]

    def first(self, tier: int, series: list[int]) -> float | None:
        """The time of the oldest row of these series in ``tier`` (None: none stored)."""
        if not series:
            return None
        found = []
        first_chunk = (
            "SELECT start FROM chunks INDEXED BY chunks_bucket WHERE tier=? AND series=? ORDER BY bucket LIMIT 1"
        )
        first_row = "SELECT ts FROM tail WHERE tier=? AND series=? ORDER BY ts LIMIT 1"
        with self.reading() as conn:
            for sid in series:  # index seeks: the first chunk by bucket, the first open row by time
                for sql in (first_chunk, first_row):
                    row = conn.execute(sql, (tier, sid)).fetchone()
                    if row is not None:
                        found.append(row[0])
        return min(found) if found else None

    def raw_rows(self, series: list[int], before: float | None) -> int:
        """Raw points of these series in closed chunks that end before ``before`` (None: all)."""
        if not series:
            return 0
        marks = ",".join("?" * len(series))
        limit = 1e300 if before is None else before
        args = (limit, *series)
        rows = self._read(
            f"SELECT sum(rows) FROM chunks WHERE tier=0 AND bucket<? AND end<? AND series IN ({marks})", (limit, *args)
        )
        return int(rows[0][0] or 0)

    def meta(self, key: str):
        rows = self._read("SELECT value FROM meta WHERE key=?", (key,))
        return json.loads(rows[0][0]) if rows else None

    def events(self, limit: int) -> list[dict]:
        """The newest ``limit`` alert events, oldest first."""
        rows = self._read("SELECT data FROM events ORDER BY seq DESC LIMIT ?", (limit,))
        return [json.loads(data) for (data,) in reversed(rows)]

    # -- size -------------------------------------------------------------------------------
    def file_bytes(self) -> int:
        """Bytes the history takes on disk: the database file, its write-ahead log, the row log."""
        total = 0
        for suffix in ("", "-wal", "-shm", "-recent"):
            try:
                total += os.stat(f"{self.path}{suffix}").st_size
            except OSError:
                pass
        return total

    def used_bytes(self) -> int:
        """Bytes of pages in use (free pages excluded)."""
        conn = self.writer
        pages = conn.execute("PRAGMA page_count").fetchone()[0] - conn.execute("PRAGMA freelist_count").fetchone()[0]
        return pages * conn.execute("PRAGMA page_size").fetchone()[0]

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
            self._closed = True
            self.generation += 1
        for _, conn in idle:
            conn.close()
        self.writer.close()


def _upgrade(conn: sqlite3.Connection) -> None:
    """A file of schema 1: chunks get their ``codec`` (0: plain, what version 1 wrote), and
    the indexes become time-major (the new ones were built by the schema script). No data
    is rewritten: old chunks are read as they are."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        for index in ("chunks_series", "chunks_end", "tail_series"):
            conn.execute(f"DROP INDEX IF EXISTS {index}")
        if "codec" not in {row[1] for row in conn.execute("PRAGMA table_info(chunks)")}:
            conn.execute("ALTER TABLE chunks ADD COLUMN codec INTEGER NOT NULL DEFAULT 0")
        conn.execute("UPDATE meta SET value=? WHERE key='schema'", (str(SCHEMA_VERSION),))
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
