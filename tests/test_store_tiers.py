"""The tier math: rollups, merging, tier choice and encoding, plain and packed (pure numpy, no disk)."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from prsm_monitor.store import codec
from prsm_monitor.store.tiers import (
    HOUR,
    MINUTE,
    RAW,
    Rollup,
    bucket_of,
    decode_raw,
    decode_rollup,
    downsample_rollup,
    encode_raw,
    encode_rollup,
    merge,
    pick_tier,
    roll_up,
)


def test_roll_up_skips_missing_values_and_marks_empty_fields():
    block = np.array(
        [
            [60.0, 61.0, 62.0, 63.0],  # timestamp
            [1.0, np.nan, 5.0, 3.0],
            [np.nan, np.nan, np.nan, np.nan],
        ]
    )
    rollup = roll_up(block, 0, 60.0)
    low, mean, high, count = rollup.stats[:, :, 0]
    assert rollup.ts.tolist() == [60.0]
    assert (low[0], mean[0], high[0], count[0]) == (1.0, 3.0, 5.0, 3.0)
    assert np.isnan([low[1], mean[1], high[1]]).all() and count[1] == 0


def test_merge_weights_means_by_count_and_keeps_extremes():
    stats = np.array(
        [
            [[1.0, 10.0, 4.0]],  # min
            [[2.0, 20.0, 5.0]],  # mean
            [[3.0, 30.0, 6.0]],  # max
            [[1.0, 3.0, 0.0]],  # count: the third bucket is empty
        ]
    )
    stats[:, 0, 2] = [np.nan, np.nan, np.nan, 0.0]
    merged = merge(Rollup(np.array([0.0, 60.0, 120.0]), stats), 3)
    low, mean, high, count = merged.stats[:, 0, 0]
    assert merged.ts.tolist() == [0.0]
    assert (low, high, count) == (1.0, 30.0, 4.0)
    assert mean == pytest.approx((2.0 * 1 + 20.0 * 3) / 4)


def test_downsample_rollup_gives_at_most_the_points_asked_for():
    n = 43_200  # 30 days of minutes
    ts = np.arange(n) * 60.0
    values = np.sin(np.arange(n) / 500.0)
    stats = np.stack([values - 1, values, values + 1, np.ones(n)])[:, None, :]
    small = downsample_rollup(Rollup(ts, stats), 1000)
    assert len(small) <= 1000
    assert small.stats[0].min() == pytest.approx(values.min() - 1)
    assert small.stats[2].max() == pytest.approx(values.max() + 1)
    assert small.stats[3].sum() == n


@pytest.mark.parametrize(
    ("span", "points", "expected"),
    [
        (3600, 1000, RAW),  # 1 h: minutes would give 60 points
        (86_400, 1000, MINUTE),  # 24 h: 1,440 minutes are enough
        (7 * 86_400, 1000, MINUTE),  # 7 d: 168 hours are not
        (30 * 86_400, 1000, MINUTE),
        (365 * 86_400, 1000, HOUR),  # 8,760 hours
        (86_400, None, RAW),  # full resolution
    ],
)
def test_pick_tier_takes_the_coarsest_that_gives_the_points(span, points, expected):
    assert pick_tier(span, points, {0: True, 1: True, 2: True}) is expected


def test_pick_tier_skips_tiers_that_do_not_reach_back():
    assert pick_tier(3600, 1000, {0: False, 1: True, 2: True}) is MINUTE  # raw pruned before the start
    assert pick_tier(86_400, None, {0: False, 1: False, 2: True}) is HOUR
    assert pick_tier(86_400, 1000, {}) is HOUR


def test_encoding_round_trips():
    block = np.array([[1.0, 2.0, 3.0], [0.5, np.nan, 1e300]])
    assert np.array_equal(decode_raw(encode_raw(block), 2), block, equal_nan=True)
    stats = np.arange(24, dtype=float).reshape(4, 2, 3)
    back = decode_rollup(encode_rollup(Rollup(np.array([0.0, 60.0, 120.0]), stats)), 2)
    assert back.ts.tolist() == [0.0, 60.0, 120.0] and np.array_equal(back.stats, stats)


def test_buckets_align_to_the_epoch():
    assert bucket_of(1_700_000_059.9, 60) == 1_700_000_040.0
    assert bucket_of(1_700_000_000.0, 86_400) % 86_400 == 0


# -- packed chunks (codec 1): lossless, small for monitoring series ------------------------------
FLOATS = arrays(np.uint64, st.tuples(st.integers(1, 6), st.integers(1, 90)), elements=st.integers(0, 2**64 - 1))


@settings(max_examples=150, deadline=None)
@given(bits=FLOATS, data=st.data())
def test_packed_raw_chunks_keep_every_bit(bits, data):
    """Any float64 bit patterns (NaN payloads, infinities, -0.0, subnormals) come back exactly,
    one chunk at a time and many at once."""
    fields, rows = bits.shape
    ts = data.draw(st.integers(0, fields - 1))
    block = bits.view("<f8")
    assert np.array_equal(codec.decode_raw(codec.encode_raw(block, ts), fields, ts).view("<u8"), bits)
    cuts = sorted(data.draw(st.sets(st.integers(1, rows - 1), max_size=4)) if rows > 1 else [])
    pieces = np.split(block, cuts, axis=1)
    stored = [(codec.PACKED, codec.encode_raw(p, ts)) for p in pieces]
    assert np.array_equal(codec.decode_raw_many(stored, fields, ts).view("<u8"), bits)


@settings(max_examples=60, deadline=None)
@given(
    start=st.floats(1e9, 2e9),
    jitter=arrays(np.float64, st.integers(2, 120), elements=st.floats(-0.01, 0.01)),
    values=st.lists(st.floats(allow_nan=True, allow_infinity=True), min_size=1, max_size=5),
)
def test_packed_raw_chunks_keep_real_timestamps_and_values(start, jitter, values):
    n = len(jitter)
    block = np.array([start + np.arange(n) + jitter, *(np.resize(values, n) for _ in range(2))])
    back = codec.decode_raw(codec.encode_raw(block, 0), 3, 0)
    assert np.array_equal(back.view("<u8"), block.view("<u8"))


def test_rollup_chunks_stay_plain_and_a_newer_codec_is_refused():
    stats = np.arange(24, dtype=float).reshape(4, 2, 3)
    plain = (codec.PLAIN, encode_rollup(Rollup(np.array([0.0, 60.0, 120.0]), stats)))
    both = codec.decode_rollups([plain, plain], 2)
    assert both.ts.tolist() == [0.0, 60.0, 120.0] * 2 and np.array_equal(both.stats[:, :, 3:], stats)
    with pytest.raises(ValueError, match="unknown rollup chunk codec 1"):
        codec.decode_rollups([(codec.PACKED, b"")], 2)


def test_regular_steps_and_steady_values_cost_almost_nothing():
    rows = 60
    block = np.array([1_700_000_000.0 + np.arange(rows), np.full(rows, 42.5), np.arange(rows) % 3 * 1.0])
    assert len(codec.encode_raw(block, 0)) / (2 * rows) < 0.5  # bytes per value; plain float64 is 8
    assert codec.decode_raw(codec.encode_raw(block, 0), 3, 0).tolist() == block.tolist()


def test_a_codec_of_a_newer_version_is_refused_by_name():
    with pytest.raises(ValueError, match="unknown chunk codec 7"):
        codec.decode_raw(b"", 2, 0, 7)
