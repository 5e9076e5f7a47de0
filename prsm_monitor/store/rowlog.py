"""The rows of the open raw chunks, appended to a small log beside the database.

A raw chunk holds a minute; until it closes its rows live in memory and here, so that
``kill -9`` loses at most the last flush (about a second) while the database is written
only when chunks close. Appending costs about the bytes appended (a page of the file is
dirtied once until the kernel writes it back); a commit to SQLite costs whole 8 KiB pages
twice (its WAL, then the checkpoint).

The file is a sequence of frames ``<u32 length><u32 crc32><zlib payload>``. A payload holds
entries: ``K<u16 index><u32 size><json [component, fields]>`` names a series for the rows
after it; ``R<u16 index><u16 count><count float64 bit patterns>`` is one row, XOR-ed with
the previous row of the same series in the file (unchanged values are zero bytes, which
zlib keeps to almost nothing). Reading stops at the first frame that is short or fails its
CRC (a write cut by a crash). After the chunks it held are committed, the log is replaced
(a new file renamed over it) by one holding only the rows still open.
"""

from __future__ import annotations

import json
import os
import struct
import zlib
from pathlib import Path

import numpy as np

Key = tuple[str, tuple[str, ...]]
FRAME = struct.Struct("<II")
ENTRY = struct.Struct("<cHI")  # kind, series index, size (K: bytes of JSON; R: values)


class RowLog:
    """The log at ``path``. :meth:`read` first, then :meth:`append` and :meth:`replace`
    (both raise ``OSError`` when the file cannot be written; nothing is half-applied in
    memory then, so the same rows can be passed again)."""

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        self._index: dict[Key, int] = {}
        self._last: dict[Key, np.ndarray] = {}
        self._fd: int | None = None

    def read(self) -> list[tuple[Key, np.ndarray]]:
        """Every row in the file, in the order appended."""
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            return []
        rows: list[tuple[Key, np.ndarray]] = []
        keys: dict[int, Key] = {}
        last: dict[int, np.ndarray] = {}
        pos = 0
        while pos + FRAME.size <= len(data):
            size, crc = FRAME.unpack_from(data, pos)
            payload = data[pos + FRAME.size : pos + FRAME.size + size]
            if len(payload) < size or zlib.crc32(payload) != crc:
                break
            pos += FRAME.size + size
            try:
                self._entries(zlib.decompress(payload), keys, last, rows)
            except (zlib.error, struct.error, KeyError, ValueError):  # a frame we did not write
                break
        return rows

    @staticmethod
    def _entries(body: bytes, keys: dict, last: dict, rows: list) -> None:
        at = 0
        while at < len(body):
            kind, index, count = ENTRY.unpack_from(body, at)
            at += ENTRY.size
            if kind == b"K":
                component, fields = json.loads(body[at : at + count])
                keys[index] = (component, tuple(fields))
                last.pop(index, None)
                at += count
            else:
                bits = np.frombuffer(body, "<u8", count, at)
                at += 8 * count
                previous = last.get(index)
                if previous is not None and len(previous) == count:
                    bits = bits ^ previous
                last[index] = bits
                rows.append((keys[index], bits.view("<f8").copy()))

    def append(self, rows: list[tuple[Key, np.ndarray]]) -> None:
        """Append one frame holding ``rows`` (an empty list writes nothing)."""
        if not rows:
            return
        index, last = dict(self._index), dict(self._last)
        frame = self._frame(rows, index, last)
        if self._fd is None:
            self._fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        _write_all(self._fd, frame)
        self._index, self._last = index, last

    def replace(self, rows: list[tuple[Key, np.ndarray]]) -> None:
        """Make the log hold exactly ``rows`` (a new file renamed over the old one)."""
        index: dict[Key, int] = {}
        last: dict[Key, np.ndarray] = {}
        frame = self._frame(rows, index, last) if rows else b""
        temporary = self.path.with_name(self.path.name + ".new")
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        try:
            _write_all(fd, frame)
        finally:
            os.close(fd)
        os.replace(temporary, self.path)
        self.close()
        self._index, self._last = index, last

    def close(self) -> None:
        fd, self._fd = self._fd, None
        if fd is not None:
            os.close(fd)

    @staticmethod
    def _frame(rows, index: dict[Key, int], last: dict[Key, np.ndarray]) -> bytes:
        parts = []
        for key, vector in rows:
            bits = np.ascontiguousarray(vector, "<f8").view("<u8")
            number = index.get(key)
            if number is None:
                number = index[key] = len(index)
                name = json.dumps([key[0], list(key[1])]).encode()
                parts.append(ENTRY.pack(b"K", number, len(name)) + name)
                last.pop(key, None)
            previous = last.get(key)
            last[key] = bits
            body = bits if previous is None or len(previous) != len(bits) else bits ^ previous
            parts.append(ENTRY.pack(b"R", number, len(bits)) + body.tobytes())
        payload = zlib.compress(b"".join(parts), 6)
        return FRAME.pack(len(payload), zlib.crc32(payload)) + payload


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]
