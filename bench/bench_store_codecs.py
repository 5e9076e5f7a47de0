"""Raw-chunk encodings compared on the demo's real series: bytes per value, encode and decode time.

    python bench/bench_store_codecs.py [--seconds 180]

Records ``--seconds`` ticks of a 5-node demo collector at 1 s (memory only), cuts every
series into one-minute chunks (what the store writes) and encodes each chunk with:

- **packed** (:mod:`prsm_monitor.store.codec`, what the store uses): timestamps as delta of
  delta of their float64 bits, values XOR-ed with the previous one, byte-shuffled, zlib 6;
- variants of it: zlib 1 and 9, no byte planes (zlib over the numbers as they are), integer
  delta instead of XOR;
- **gorilla**: the bit-level coder of Facebook's Gorilla paper (and Prometheus's XOR
  chunks), in Python: values as XOR with the previous one, '0' when equal, else a control
  bit and the meaningful bits (reusing the previous leading/trailing-zero window when they
  fit); timestamps as delta of delta in Gorilla's 7/9/12/32-bit buckets (of the float64
  bits here, so the coding is lossless);
- plain float64 (the first version's layout).

Every decoding is checked bit for bit against the input. Never asserts a speed; prints one
table. ``--from FILE`` reads a pickle of ``{component: (names, block)}`` instead of recording.
"""

from __future__ import annotations

import argparse
import pickle
import sys
import time
import zlib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT)]

import numpy as np  # noqa: E402

from prsm_monitor.store import codec  # noqa: E402

CHUNK = 60  # rows per raw chunk at 1 s


# -- Gorilla, bit level ---------------------------------------------------------------------------
class Bits:
    def __init__(self):
        self.parts: list[str] = []

    def put(self, value: int, width: int) -> None:
        self.parts.append(format(value, f"0{width}b") if width else "")

    def data(self) -> bytes:
        text = "".join(self.parts)
        return len(text).to_bytes(4, "little") + int("1" + text, 2).to_bytes((len(text) + 8) // 8, "big")


def gorilla_encode(block: np.ndarray, ts_index: int) -> bytes:
    bits = Bits()
    words = np.ascontiguousarray(block, "<f8").view("<u8")
    for i, row in enumerate(words.tolist()):
        if i == ts_index:
            _timestamps(bits, row)
        else:
            _values(bits, row)
    return bits.data()


BUCKETS = ((0b10, 2, 7), (0b110, 3, 9), (0b1110, 4, 12), (0b11110, 5, 32), (0b11111, 5, 68))


def _timestamps(bits: Bits, row: list[int]) -> None:
    """Delta of delta, zig-zagged, in Gorilla's buckets (a last one wide enough for any)."""
    bits.put(row[0], 64)
    delta_prev = 0
    for i in range(1, len(row)):
        delta = row[i] - row[i - 1]
        dod, delta_prev = delta - delta_prev, delta
        if dod == 0:
            bits.put(0, 1)
            continue
        zigzag = 2 * dod if dod > 0 else -2 * dod - 1
        for code, code_width, width in BUCKETS:
            if zigzag < 1 << width:
                bits.put(code, code_width), bits.put(zigzag, width)
                break


def _values(bits: Bits, row: list[int]) -> None:
    bits.put(row[0], 64)
    lead, trail = -1, -1
    for i in range(1, len(row)):
        xor = row[i] ^ row[i - 1]
        if xor == 0:
            bits.put(0, 1)
            continue
        new_lead = min(64 - xor.bit_length(), 31)
        new_trail = (xor & -xor).bit_length() - 1
        if lead >= 0 and new_lead >= lead and new_trail >= trail:
            bits.put(0b10, 2)
            bits.put(xor >> trail, 64 - lead - trail)
        else:
            lead, trail = new_lead, new_trail
            size = 64 - lead - trail
            bits.put(0b11, 2), bits.put(lead, 5), bits.put(size - 1, 6), bits.put(xor >> trail, size)


def gorilla_decode(data: bytes, fields: int, rows: int, ts_index: int) -> np.ndarray:
    length = int.from_bytes(data[:4], "little")
    text = bin(int.from_bytes(data[4:], "big"))[3:].rjust(length, "0")[-length:] if length else ""
    pos = 0

    def take(width: int) -> int:
        nonlocal pos
        value = int(text[pos : pos + width], 2) if width else 0
        pos += width
        return value

    out = np.empty((fields, rows), np.uint64)
    for f in range(fields):
        value = take(64)
        out[f, 0] = value
        if f == ts_index:
            delta = 0
            for i in range(1, rows):
                if take(1):
                    width = 68
                    for candidate in (7, 9, 12, 32):
                        if take(1) == 0:
                            width = candidate
                            break
                    zigzag = take(width)
                    delta += zigzag // 2 if zigzag % 2 == 0 else -(zigzag + 1) // 2
                value = (value + delta) % (1 << 64)
                out[f, i] = value
        else:
            lead = trail = 0
            for i in range(1, rows):
                if take(1):
                    if take(1):
                        lead, size = take(5), take(6) + 1
                        trail = 64 - lead - size
                    value ^= take(64 - lead - trail) << trail
                out[f, i] = value
    return out.view("<f8")


# -- variants of the packed coder ----------------------------------------------------------------
def packed_variant(block: np.ndarray, ts_index: int, level=6, shuffle=True, xor=True) -> bytes:
    """The store's coder with one thing changed."""
    bits = np.ascontiguousarray(block, "<f8").view("<i8")
    out = bits.copy()
    if xor:
        out[:, 1:] ^= bits[:, :-1]
    else:
        out[:, 1:] = codec._zigzag(np.diff(bits, axis=1))
    out[ts_index] = codec._delta2(bits[ts_index])
    if not shuffle:
        return zlib.compress(out.tobytes(), level)
    saved, codec.LEVEL = codec.LEVEL, level
    try:
        return codec._pack(out)
    finally:
        codec.LEVEL = saved


def chunks(recorded):
    for names, block in recorded.values():
        ts = names.index("timestamp")
        for start in range(0, block.shape[1] - CHUNK + 1, CHUNK):
            yield block[:, start : start + CHUNK], ts


def measure(recorded) -> None:
    pieces = list(chunks(recorded))
    values = sum(b.size - b.shape[1] for b, _ in pieces)  # timestamps not counted as values
    coders = {
        "packed: XOR, byte planes, zlib 6 (the store's)": (
            lambda b, t: codec.encode_raw(b, t),
            lambda d, b, t: codec.decode_raw(d, b.shape[0], t),
        ),
        "  variant: zlib 1": (lambda b, t: packed_variant(b, t, level=1), None),
        "  variant: zlib 9": (lambda b, t: packed_variant(b, t, level=9), None),
        "  variant: no byte planes": (lambda b, t: packed_variant(b, t, shuffle=False), None),
        "  variant: integer delta instead of XOR": (lambda b, t: packed_variant(b, t, xor=False), None),
        "gorilla, bit level (pure Python)": (
            gorilla_encode,
            lambda d, b, t: gorilla_decode(d, b.shape[0], b.shape[1], t),
        ),
        "plain float64 (version 1)": (
            lambda b, t: np.ascontiguousarray(b, "<f8").tobytes(),
            lambda d, b, t: np.frombuffer(d, "<f8").reshape(b.shape),
        ),
    }
    print(f"\n{len(pieces)} one-minute chunks, {values:,} values (+ timestamps)\n")
    print("| encoding | bytes per value | encode µs per chunk | decode µs per chunk | 24 h of one series, decode |")
    print("|---|---|---|---|---|")
    for name, (encode, decode) in coders.items():
        began = time.perf_counter()
        encoded = [encode(b, t) for b, t in pieces]
        enc = (time.perf_counter() - began) / len(pieces) * 1e6
        size = sum(len(d) for d in encoded) / values
        dec_text = day = "-"
        if decode is not None:
            began = time.perf_counter()
            decoded = [decode(d, b, t) for d, (b, t) in zip(encoded, pieces, strict=True)]
            dec = (time.perf_counter() - began) / len(pieces) * 1e6
            for back, (block, _) in zip(decoded, pieces, strict=True):
                assert np.array_equal(np.asarray(back).view("<u8"), np.ascontiguousarray(block).view("<u8"))
            dec_text, day = f"{dec:,.0f}", f"{dec * 1440 / 1000:,.1f} ms"
        print(f"| {name} | {size:.2f} | {enc:,.0f} | {dec_text} | {day} |")
    by_series: dict[int, list] = {}
    for block, ts in pieces:
        by_series.setdefault(id(block.base), []).append(((codec.PACKED, codec.encode_raw(block, ts)), block, ts))
    began = time.perf_counter()
    for items in by_series.values():
        _, block, ts = items[0]
        codec.decode_raw_many([item[0] for item in items], block.shape[0], ts)
    batched = (time.perf_counter() - began) / len(pieces) * 1e6
    print(f"| packed, decoded a series at a time (what a range read does) | | | {batched:,.0f} | "
          f"{batched * 1440 / 1000:,.1f} ms |")  # fmt: skip


def record(seconds: float):
    from prsm_monitor import MetricsCollector
    from prsm_monitor.settings.model import Settings

    collector = MetricsCollector(settings=Settings(demo=True, demo_nodes=5))
    try:
        collector.start()
        time.sleep(seconds)
        collector.stop()
        return {c: collector.store.block(c, None, None) for c in collector.fields}
    finally:
        collector.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=180.0, help="how long to record the demo at 1 s")
    parser.add_argument("--from", dest="source", help="a pickle of {component: (names, block)} instead")
    args = parser.parse_args()
    if args.source:
        with open(args.source, "rb") as f:
            recorded = pickle.load(f)
    else:
        recorded = record(args.seconds)
    measure(recorded)


if __name__ == "__main__":
    main()
