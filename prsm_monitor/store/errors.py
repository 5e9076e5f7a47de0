"""One-line messages for a history file that cannot be written (SQLite or the row log)."""

from __future__ import annotations

import errno
import sqlite3


def describe(error: sqlite3.Error, path) -> tuple[str, str]:
    """``(kind, one-line message)`` for a failed write."""
    name = getattr(error, "sqlite_errorname", "") or ""
    if name.startswith("SQLITE_FULL"):
        return "full", f"History is not being saved: the disk or its size limit is full ({path}: {error})"
    if name.startswith(("SQLITE_READONLY", "SQLITE_PERM", "SQLITE_CANTOPEN", "SQLITE_AUTH")):
        return "readonly", f"History is not being saved: {path} is read-only or not accessible ({error})"
    if name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")):
        return "locked", f"History is not being saved: {path} is locked by another program ({error})"
    if name.startswith(("SQLITE_CORRUPT", "SQLITE_NOTADB")):
        return "corrupt", f"The history file {path} is damaged ({error})"
    return "error", f"History is not being saved: {path}: {error}"


def describe_os(error: OSError, path) -> tuple[str, str]:
    """The same for the row log beside the database (an ``OSError``)."""
    if error.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
        return "full", f"History is not being saved: the disk or its size limit is full ({path}: {error})"
    if error.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
        return "readonly", f"History is not being saved: {path} is read-only or not accessible ({error})"
    return "error", f"History is not being saved: {path}: {error}"
