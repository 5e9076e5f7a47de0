"""The data directory: one process at a time, enforced by an exclusive lock on ``lock``.

The lock is an OS file lock (``flock`` on POSIX, ``msvcrt.locking`` on Windows), so it
goes away with the process, even after ``kill -9``: no stale lock to clean up. The file
holds the owner's process id, for the message the second process shows.
"""

from __future__ import annotations

import os
import sqlite3
import time
from pathlib import Path

try:
    import fcntl
except ImportError:  # Windows
    import msvcrt

    fcntl = None

from .disk import Database

DB_NAME = "history.db"


class DirectoryInUse(RuntimeError):
    """Another process holds the data directory."""


class DataDir:
    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        self.db_path = self.path / DB_NAME
        self._file = None

    def acquire(self) -> DataDir:
        """Create the directory if needed and lock it; :class:`DirectoryInUse` when another
        process has it, ``OSError`` when it cannot be created or written."""
        self.path.mkdir(parents=True, exist_ok=True)
        handle = open(self.path / "lock", "a+")  # noqa: SIM115 - held open while locked
        try:
            _lock(handle)
        except OSError:
            handle.seek(0)
            owner = handle.read().strip() or "unknown"
            handle.close()
            raise DirectoryInUse(
                f"History is not saved: {self.path} is in use by another prsm-monitor process (pid {owner}); "
                "this one keeps its history in memory only. Give each process its own PRSM_DATA_DIR."
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        self._file = handle
        return self

    def release(self) -> None:
        handle, self._file = self._file, None
        if handle is not None:
            handle.close()  # closing releases the lock

    def open(self) -> tuple[Database, str | None]:
        """The history database; a damaged one is moved aside first. Returns the database
        and, when a damaged file was moved, a message saying so."""
        try:
            return Database(self.db_path), None
        except sqlite3.DatabaseError as error:
            name = getattr(error, "sqlite_errorname", "") or ""
            if not name.startswith(("SQLITE_CORRUPT", "SQLITE_NOTADB")):
                raise
            db, moved = self.replace()
            return db, f"The history file {self.db_path} was damaged ({error}); it was moved to {moved}"

    def replace(self) -> tuple[Database, Path]:
        """Move the (damaged) database aside and start a new one."""
        moved = self.path / f"{DB_NAME}.corrupt-{time.strftime('%Y%m%dT%H%M%S')}"
        self.db_path.rename(moved)
        for suffix in ("-wal", "-shm"):
            extra = Path(f"{self.db_path}{suffix}")
            if extra.exists():
                extra.rename(Path(f"{moved}{suffix}")) if suffix == "-wal" else extra.unlink()
        return Database(self.db_path), moved


def _lock(handle) -> None:
    if fcntl is None:  # Windows
        handle.seek(0)
        msvcrt.locking(handle.fileno(), msvcrt.LK_NBLCK, 1)
        return
    fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
