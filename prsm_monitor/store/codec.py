"""Compressed chunks: lossless for raw points, a few bytes per value for monitoring series.

A chunk's ``codec`` column says how its bytes are laid out:

- :data:`PLAIN` (0): the layout of the first version: raw rows plain little-endian float64,
  field-major (files written by it); rollups as in :func:`~.tiers.encode_rollup` (all
  rollup chunks, see :func:`decode_rollups`).
- :data:`PACKED` (1), raw chunks: every value's bit pattern as an integer, each field's row
  turned into small numbers, split into byte planes, then zlib:

  - timestamps: delta of delta of the float64 bit patterns, zig-zagged (a regular step
    costs zero bytes; the bit patterns of positive floats of one binade are linear in the
    value, so this is exact);
  - values: XOR with the previous value of the same field (Gorilla's transform): an
    unchanged value is all zero, a slowly moving one shares its sign, exponent and high
    mantissa bits, i.e. its high bytes;
  - byte *k* of every number of a field goes together (a byte plane); a plane that is all
    zero (the high bytes of small numbers, every byte of an unchanged field) is left out
    and marked in a bitmap; zlib (the standard library's, level 6) packs the rest.

  Everything is exact (NaN, infinities and signed zeros included): only bits are moved and
  combined with reversible integer operations. ``bench/bench_store_codecs.py`` measures this
  against a bit-level Gorilla coder on recorded demo series (see docs/history.md).
"""

from __future__ import annotations

import zlib

import numpy as np

from .tiers import Rollup, decode_rollup

PLAIN = 0
PACKED = 1
LEVEL = 6  # zlib level: 9 was measured no smaller on demo series and slower


def _zigzag(values: np.ndarray) -> np.ndarray:
    return (values << 1) ^ (values >> 63)


def _unzigzag(values: np.ndarray) -> np.ndarray:
    return (values >> 1).astype(np.int64) ^ -(values & 1).astype(np.int64)


def _delta2(bits: np.ndarray) -> np.ndarray:
    """Row-wise: first value, first delta, then deltas of deltas (int64, wrapping), zig-zagged
    except the first value."""
    out = bits.copy()
    if bits.shape[-1] > 1:
        out[..., 1:] = np.diff(bits, axis=-1)
    if bits.shape[-1] > 2:
        out[..., 2:] = np.diff(out[..., 1:], axis=-1)
    out[..., 1:] = _zigzag(out[..., 1:])
    return out


def _undelta2(packed: np.ndarray) -> np.ndarray:
    out = packed.copy()
    out[..., 1:] = _unzigzag(packed[..., 1:].view(np.uint64)).view(np.int64)
    if out.shape[-1] > 2:
        out[..., 1:] = np.cumsum(out[..., 1:], axis=-1)
    return np.cumsum(out, axis=-1)


def _xor(bits: np.ndarray) -> np.ndarray:
    out = bits.copy()
    out[..., 1:] ^= bits[..., :-1]
    return out


def _pack(numbers: np.ndarray) -> bytes:
    """A ``(rows_of_numbers, n)`` integer array as bytes: ``<u32 n>``, a bit per byte plane
    (byte *k* of every number of one row) saying whether it holds anything but zeros, then
    zlib over the planes that do, byte *k* of every number together."""
    count, n = numbers.shape
    width = numbers.itemsize
    planes = np.ascontiguousarray(numbers).view(np.uint8).reshape(count, n, width).transpose(0, 2, 1)
    keep = planes.any(axis=2)
    body = zlib.compress(np.ascontiguousarray(planes[keep]).tobytes(), LEVEL) if keep.any() else b""
    return n.to_bytes(4, "little") + np.packbits(keep.ravel()).tobytes() + body


def _header(data: bytes, count: int, width: int) -> tuple[int, np.ndarray, int]:
    """``(n, kept planes as a (count, width) mask, offset of the zlib stream)``."""
    n = int.from_bytes(data[:4], "little")
    size = (count * width + 7) // 8
    keep = np.unpackbits(np.frombuffer(data, np.uint8, size, 4), count=count * width).astype(bool)
    return n, keep.reshape(count, width), 4 + size


def _unpack(data: bytes, count: int, dtype: str) -> np.ndarray:
    width = np.dtype(dtype).itemsize
    n, keep, offset = _header(data, count, width)
    planes = np.zeros((count, width, n), np.uint8)
    if keep.any():
        planes[keep] = np.frombuffer(zlib.decompress(data[offset:]), np.uint8).reshape(-1, n)
    return np.ascontiguousarray(planes.transpose(0, 2, 1)).view(dtype)[:, :, 0]


# -- raw chunks --------------------------------------------------------------------------------
def encode_raw(block: np.ndarray, ts_index: int) -> bytes:
    """A ``(fields, rows)`` float64 block as :data:`PACKED` bytes; row ``ts_index`` is the time."""
    bits = np.ascontiguousarray(block, "<f8").view("<i8")
    out = _xor(bits)
    out[ts_index] = _delta2(bits[ts_index])
    return _pack(out)


def decode_raw(data: bytes, fields: int, ts_index: int, codec: int = PACKED) -> np.ndarray:
    """The ``(fields, rows)`` float64 block of a raw chunk stored with ``codec``."""
    if codec == PLAIN:
        values = np.frombuffer(data, dtype="<f8")
        return values.reshape(fields, len(values) // fields)
    if codec != PACKED:
        raise ValueError(f"unknown chunk codec {codec}: written by a newer version")
    packed = _unpack(data, fields, "<i8")
    bits = np.bitwise_xor.accumulate(packed, axis=1)
    bits[ts_index] = _undelta2(packed[ts_index])
    return bits.view("<f8")


# -- rollup chunks -------------------------------------------------------------------------------
def decode_rollups(chunks: list[tuple[int, bytes]], fields: int) -> Rollup:
    """Rollup chunks ``(codec, data)`` of one series, as one :class:`Rollup`. They stay
    :data:`PLAIN` (float32 statistics, see :func:`~.tiers.encode_rollup`): packing them saved
    about 0.2 bytes per raw value a day but made the 24 h chart's query slower (docs/history.md)."""
    for kind, _ in chunks:
        if kind != PLAIN:
            raise ValueError(f"unknown rollup chunk codec {kind}: written by a newer version")
    return Rollup.concat([decode_rollup(data, fields) for _, data in chunks], fields)


# -- many chunks at once: one zlib call each, the integer work in one pass ---------------------
def _restart_xor(packed: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Prefix XOR along the last axis, restarting at each segment of ``lengths``."""
    total = np.bitwise_xor.accumulate(packed, axis=-1)
    ends = np.cumsum(lengths)
    before = np.zeros(packed.shape[:-1] + (len(lengths),), packed.dtype)
    before[..., 1:] = total[..., ends[:-1] - 1]
    return total ^ np.repeat(before, lengths, axis=-1)


def _restart_undelta2(packed: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """:func:`_undelta2` of consecutive segments of a 1-d array, in one pass."""
    starts = np.cumsum(lengths) - lengths
    first = packed[starts]
    rest = _unzigzag(packed.view(np.uint64)).view(np.int64)
    rest[starts] = 0
    deltas = np.cumsum(rest)
    deltas -= np.repeat(deltas[starts], lengths)
    times = np.cumsum(deltas)
    times -= np.repeat(times[starts], lengths)
    return times + np.repeat(first, lengths)


def _unpack_many(datas: list[bytes], count: int, dtype: str) -> tuple[np.ndarray, np.ndarray]:
    """:func:`_unpack` of many, side by side: ``(numbers (count, total), lengths)``."""
    width = np.dtype(dtype).itemsize
    headers = [_header(data, count, width) for data in datas]
    lengths = np.array([n for n, _, _ in headers], dtype=np.int64)
    planes = np.zeros((count, width, int(lengths.sum())), np.uint8)
    at = 0
    for data, (n, keep, offset) in zip(datas, headers, strict=True):
        if keep.any():
            planes[:, :, at : at + n][keep] = np.frombuffer(zlib.decompress(data[offset:]), np.uint8).reshape(-1, n)
        at += n
    return np.ascontiguousarray(planes.transpose(0, 2, 1)).view(dtype)[:, :, 0], lengths


def decode_raw_many(chunks: list[tuple[int, bytes]], fields: int, ts_index: int) -> np.ndarray:
    """The raw chunks ``(codec, data)`` of one series side by side, as one ``(fields, rows)``
    block: the same as decoding each and concatenating them, in fewer numpy calls."""
    blocks = [decode_raw(data, fields, ts_index, kind) for kind, data in chunks if kind != PACKED]
    packed = [data for kind, data in chunks if kind == PACKED]
    if packed:
        numbers, lengths = _unpack_many(packed, fields, "<i8")
        bits = _restart_xor(numbers, lengths)
        bits[ts_index] = _restart_undelta2(numbers[ts_index], lengths)
        blocks.append(bits.view("<f8"))
    if not blocks:
        return np.empty((fields, 0))
    return blocks[0] if len(blocks) == 1 else np.concatenate(blocks, axis=1)
