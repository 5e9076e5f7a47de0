"""The writer thread: the only code that writes the history file.

The collector's tick only appends rows to a queue (:meth:`Writer.put`). About once a second
the writer routes them into the open chunk of each series and appends them to the row log
(:mod:`.rowlog`, a few hundred bytes a second), so ``kill -9`` loses at most the last second.
The database (:mod:`.disk`) is written only when there is something for it: chunks whose
bucket is over (the compressed chunk, see :mod:`.codec`, and its rollup added to the next
tier, see :mod:`.tiers`), and what its journal sources report (alert events, settings), all
in one transaction; then the log is replaced by one holding only the rows still open.

A write that fails (disk or size limit full, read-only file, a lock held by another
program, an I/O error) keeps everything pending in memory, up to :data:`MAX_PENDING_BYTES`
(the oldest raw points go first beyond that), calls ``on_status(error)`` once and retries
each second; the first flush that succeeds calls ``on_status(None)``. A damaged file is
moved aside (``history.db.corrupt-<time>``) and a new one started.

Pruning runs on the same thread every :data:`PRUNE_EVERY` seconds: rows older than their
tier's retention, then the oldest chunks (raw first, then minute, then hour) while the
file's pages in use exceed ``max_bytes``.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections import deque
from collections.abc import Callable

import numpy as np

from . import codec, statements
from .disk import Database
from .errors import describe, describe_os
from .leftover import Key, leftover
from .rowlog import RowLog
from .tiers import TIERS, Rollup, bucket_of, encode_rollup, merge, roll_up

log = logging.getLogger(__name__)

FLUSH_EVERY = 1.0  # seconds between flushes (rows to the log; chunks and journal to the database)
PRUNE_EVERY = 60.0  # seconds between retention passes
CHECKPOINT_EVERY = 300.0  # seconds between copying the WAL into the file (and truncating it)
GRACE = 5.0  # seconds past a bucket's end (in data time) before it is closed without a newer row
MAX_PENDING_BYTES = 64 * 1024 * 1024

__all__ = ["Writer", "describe"]


class Open:
    """The open chunk of one tier of one series: its bucket and rows (vectors or rollups)."""

    __slots__ = ("bucket", "rows", "times")

    def __init__(self, bucket: float):
        self.bucket = bucket
        self.rows: list = []
        self.times: list[float] = []


class Writer:
    """Writes rows :meth:`put` by the tick to ``db`` on its own thread (see the module doc).

    ``retention`` is seconds per tier level; ``max_bytes`` caps the pages in use (None: no
    cap); ``journal`` is a list of callables returning ``("event", id, ts, json)`` and
    ``("meta", key, json)`` operations to commit with the next batch; ``on_status`` is
    called with ``(kind, message)`` when writing starts failing and ``None`` when it works
    again; ``reopen`` makes a new :class:`Database` after a damaged one was moved aside."""

    def __init__(
        self,
        db: Database,
        retention: dict[int, float],
        max_bytes: int | None = None,
        *,
        journal: list[Callable[[], list]] | None = None,
        on_status: Callable[[tuple[str, str] | None], None] | None = None,
        reopen: Callable[[], Database] | None = None,
        flush_every: float = FLUSH_EVERY,
    ):
        self.db = db
        self.log = RowLog(db.log_path)
        self.retention = retention
        self.max_bytes = max_bytes
        self.journal = list(journal or ())
        self.on_status = on_status
        self.reopen = reopen
        self.flush_every = flush_every
        self.error: tuple[str, str] | None = None
        self.disk_bytes: int | None = db.file_bytes()
        self.clock = 0.0  # the newest row time seen: retention and closing use data time
        self._queue: deque = deque()
        self._open: list[dict[Key, Open]] = [{} for _ in TIERS]
        self._pending: list[tuple] = []  # chunks, events, meta: in order
        self._tails: dict[tuple, list[tuple]] = {}  # (level, key, bucket) -> rollup rows of an open chunk
        self._unsaved: dict[Key, list[np.ndarray]] = {}  # closed raw chunks not committed yet (for reads)
        self._unlogged: list[tuple[Key, np.ndarray]] = []  # raw rows not in the log yet
        self._relog = True  # the log is to be replaced (chunks were committed, or an append failed)
        self._pending_bytes = 0
        self._series: dict[Key, int] = {}
        self._pruned_at = -PRUNE_EVERY
        self._checkpointed_at = -CHECKPOINT_EVERY
        self._stop = threading.Event()
        self._flush_lock = threading.Lock()
        self._rows_lock = threading.Lock()  # the raw rows in memory, read by other threads
        self._thread: threading.Thread | None = None
        self._load_open()

    # -- the tick's side -----------------------------------------------------------------------
    def put(self, key: Key, vector: np.ndarray) -> None:
        """Queue one raw row (a float64 vector over ``key``'s fields). Never blocks."""
        self._queue.append((key, vector))

    # -- readers' side ---------------------------------------------------------------------------
    def open_rows(self, component: str) -> list[tuple[tuple[str, ...], np.ndarray]]:
        """Raw rows of ``component`` that are in no committed chunk yet, as ``(fields, block)``:
        the open chunks and the closed ones waiting for their commit. Any thread."""
        with self._rows_lock:
            out = [(key[1], block) for key, blocks in self._unsaved.items() if key[0] == component for block in blocks]
            for key, chunk in self._open[0].items():
                if key[0] == component and chunk.rows:
                    out.append((key[1], np.stack(chunk.rows, axis=1)))
        return out

    def open_first(self, component: str) -> float | None:
        """The oldest time among :meth:`open_rows` (None: none)."""
        with self._rows_lock:
            firsts = [min(c.times) for k, c in self._open[0].items() if k[0] == component and c.times]
            firsts += [float(b[k[1].index("timestamp")].min()) for k, bs in self._unsaved.items() for b in bs]
        return min(firsts, default=None)

    # -- the thread ------------------------------------------------------------------------------
    def start(self) -> Writer:
        self._thread = threading.Thread(target=self._run, name="prsm-history-writer", daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.wait(self.flush_every):
            try:
                self.flush()
            except Exception:  # a bug of ours must not stop history for good
                log.exception("history writer failed")

    def close(self) -> None:
        """Stop the thread, write what is pending (one last try) and close the files."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(10)
        try:
            self.flush(prune=False)
        finally:
            self.log.close()
            self.db.close()

    def flush(self, prune: bool = True) -> bool:
        """Route the queued rows, commit what the database is due, append to the log; then
        prune when due. True when every write succeeded."""
        with self._flush_lock:
            with self._rows_lock:
                self._route()
            for source in self.journal:
                self._pending.extend(source())
            changed = bool(self._pending or self._tails or self._unlogged or self._relog)  # else: no write, no stat
            error = self._attempt(self._write) if self._pending or self._tails else None
            error = (self._attempt(self._write_log) if changed else None) or error
            if error is None and prune and time.monotonic() - self._pruned_at >= PRUNE_EVERY:
                self._pruned_at = time.monotonic()
                error = self._attempt(self._prune)
                changed = True
            self._report(error)
            if error is None and (changed or self.disk_bytes is None):
                self.disk_bytes = self.db.file_bytes()
            return error is None

    # -- routing rows into chunks ------------------------------------------------------------
    def _route(self) -> None:
        while self._queue:
            key, vector = self._queue.popleft()
            ts = float(vector[key[1].index("timestamp")])
            self.clock = max(self.clock, ts)
            self._add(0, key, ts, vector)
            self._unlogged.append((key, vector))
        for level, tier in enumerate(TIERS):  # close what is over in data time, coarser tiers after
            for key in [k for k, o in self._open[level].items() if self.clock >= o.bucket + tier.span + GRACE]:
                self._close(level, key)

    def _add(self, level: int, key: Key, ts: float, row) -> None:
        tier = TIERS[level]
        chunk = self._open[level].get(key)
        if chunk is not None and ts >= chunk.bucket + tier.span:
            self._close(level, key)
            chunk = None
        if chunk is None:
            chunk = self._open[level][key] = Open(bucket_of(ts, tier.span))
        chunk.rows.append(row)
        chunk.times.append(ts)
        if level:  # rollup rows: one a minute at most, kept in the database's tail table
            op = ("tail", level, key, chunk.bucket, ts, encode_rollup(row))
            self._push(op, self._tails.setdefault((level, key, chunk.bucket), []))

    def _close(self, level: int, key: Key) -> None:
        chunk = self._open[level].pop(key)
        if level == 0:
            block = np.stack(chunk.rows, axis=1)
            data = codec.encode_raw(block, key[1].index("timestamp"))
            rollup = roll_up(block, key[1].index("timestamp"), chunk.bucket)
            self._unsaved.setdefault(key, []).append(block)
        else:
            joined = Rollup.concat(chunk.rows, len(key[1]) - 1)
            data = encode_rollup(joined)
            rollup = merge(joined, 0, np.array([0]))
            rollup.ts = np.array([chunk.bucket])
        for op in self._tails.pop((level, key, chunk.bucket), ()):  # the chunk holds these rows
            self._pending_bytes -= len(op[-1])
        times = (min(chunk.times), max(chunk.times), len(chunk.rows))
        self._push(("chunk", level, key, chunk.bucket, *times, codec.PLAIN if level else codec.PACKED, data))
        if level + 1 < len(TIERS):
            self._add(level + 1, key, chunk.bucket, rollup)

    def _push(self, op: tuple, into: list | None = None) -> None:
        (self._pending if into is None else into).append(op)
        self._pending_bytes += len(op[-1])
        if self._pending_bytes > MAX_PENDING_BYTES:  # a long failure: give up the oldest raw points
            for i, old in enumerate(self._pending):
                if old[0] == "chunk" and old[1] == 0:
                    del self._pending[i]
                    self._pending_bytes -= len(old[-1])
                    unsaved = self._unsaved.get(old[2])
                    if unsaved:
                        unsaved.pop(0)
                    break

    def _load_open(self) -> None:
        """Pick up the open chunks a previous run left (see :func:`.leftover.leftover`)."""
        self._series, tails, logged = leftover(self.db.writer, self.log)
        for level, key, bucket, ts, row in tails:
            chunk = self._open[level].setdefault(key, Open(bucket))
            chunk.rows.append(row)
            chunk.times.append(ts)
            self.clock = max(self.clock, ts)
        for key, ts, row in logged:
            self.clock = max(self.clock, ts)
            self._add(0, key, ts, row)

    # -- writing -----------------------------------------------------------------------------------
    def _write(self) -> None:
        """Everything pending in one transaction (with retention when it adds chunks)."""
        conn = self.db.writer
        series = dict(self._series)
        chunks = any(op[0] == "chunk" for op in self._pending)

        def work():
            statements.apply(conn, [*self._pending, *(op for ops in self._tails.values() for op in ops)], series)
            if chunks:
                statements.expire(conn, self.retention, self.clock)

        statements.transaction(conn, work)
        self._series = series
        self._relog = self._relog or any(op[0] == "chunk" and op[1] == 0 for op in self._pending)
        self._pending.clear()
        self._tails.clear()
        self._pending_bytes = 0
        with self._rows_lock:
            self._unsaved.clear()

    def _write_log(self) -> None:
        """Append the new raw rows to the log, or replace it by every raw row that is in no
        committed chunk (after a commit of chunks, or when an append failed)."""
        try:
            if self._relog:
                rows = []
                with self._rows_lock:
                    for key, blocks in self._unsaved.items():
                        rows.extend((key, column) for block in blocks for column in block.T)
                    for key, chunk in self._open[0].items():
                        rows.extend((key, row) for row in chunk.rows)
                self.log.replace(rows)
                self._relog = False
            else:
                self.log.append(self._unlogged)
        except OSError:
            self._relog = True  # the file may hold half a frame: write it afresh next time
            raise
        finally:
            self._unlogged.clear()

    def _attempt(self, work: Callable[[], None]) -> tuple[str, str] | None:
        """Run a write; the error to report, None when it worked."""
        try:
            work()
        except sqlite3.Error as error:
            kind, message = describe(error, self.db.path)
            if kind == "corrupt" and self.reopen is not None:
                return self._replace(message)
            return kind, message
        except OSError as error:
            return describe_os(error, self.log.path)
        return None

    def _replace(self, message: str) -> tuple[str, str]:
        """Move a damaged file aside, start a new one and write everything to it."""
        try:
            self.db.close()
        except sqlite3.Error:
            pass
        try:
            self.db, moved = self.reopen()
        except (sqlite3.Error, OSError) as error:
            return "corrupt", f"{message}; a new file could not be started: {error}"
        self._series = {}
        self._tails = {}  # committed rollup rows went with the old file: all open ones again
        for level, opened in enumerate(self._open[1:], start=1):
            for key, chunk in opened.items():
                rows = self._tails[(level, key, chunk.bucket)] = []
                for ts, row in zip(chunk.times, chunk.rows, strict=True):
                    rows.append(("tail", level, key, chunk.bucket, ts, encode_rollup(row)))
        self._attempt(self._write)
        return "corrupt", f"{message}; it was moved to {moved} and history starts again from now"

    def _report(self, error: tuple[str, str] | None) -> None:
        changed = (error is None) != (self.error is None)
        self.error = error
        if changed:
            if error is not None:
                log.warning("%s", error[1])
            if self.on_status is not None:
                self.on_status(error)

    # -- pruning -----------------------------------------------------------------------------------
    def _prune(self) -> None:
        conn = self.db.writer
        statements.transaction(conn, lambda: statements.expire(conn, self.retention, self.clock))
        if self.max_bytes is not None:
            statements.cap(conn, self.db.used_bytes, self.max_bytes)
        if time.monotonic() - self._checkpointed_at >= CHECKPOINT_EVERY:
            # a page written several times since the last checkpoint is copied once: fewer
            # checkpoints, fewer bytes written; the WAL holds a few minutes of commits
            self._checkpointed_at = time.monotonic()
            statements.checkpoint(conn)
