import numpy as np
import pytest

from prsm_monitor.store import HistoryStore, Ring, downsample

NAMES = ("timestamp", "a", "b")


def filled(n, capacity):
    store = HistoryStore(capacity)
    store.declare("c", NAMES)
    for i in range(n):
        store.append("c", {"timestamp": float(i), "a": i * 2.0, "b": None if i % 3 == 0 else -i})
    return store


def test_ring_wraps_keeping_the_newest_in_order():
    store = filled(25, 10)
    frame = store.query("c")
    assert list(frame["timestamp"]) == [float(i) for i in range(15, 25)]
    assert list(frame["a"]) == [i * 2.0 for i in range(15, 25)]
    assert store.count("c") == 10


def test_none_is_stored_as_nan_and_extra_keys_are_ignored():
    store = HistoryStore(5)
    store.declare("c", NAMES)
    store.append("c", {"timestamp": 1.0, "a": None, "b": 3, "detail": [1, 2]})
    frame = store.query("c")
    assert np.isnan(frame["a"][0]) and frame["b"][0] == 3 and list(frame.columns) == list(NAMES)


@pytest.mark.parametrize("n", [7, 10, 23])  # not full, exactly full, wrapped
def test_range_query_is_inclusive_and_ordered(n):
    store = filled(n, 10)
    first = max(0, n - 10)
    frame = store.query("c", first + 2, first + 5)
    assert list(frame["timestamp"]) == [float(i) for i in range(first + 2, first + 6)]
    assert store.query("c", 1e9).empty
    assert list(store.query("c", None, first + 1)["timestamp"]) == [float(first), float(first + 1)]


def test_resize_keeps_the_newest_points():
    store = filled(25, 10)
    store.resize(4)
    assert list(store.query("c")["timestamp"]) == [21.0, 22.0, 23.0, 24.0]
    store.resize(8)
    store.append("c", {"timestamp": 25.0, "a": 1, "b": 1})
    assert list(store.query("c")["timestamp"]) == [21.0, 22.0, 23.0, 24.0, 25.0]
    assert store.capacity == 8


def test_unknown_component_raises_keyerror():
    with pytest.raises(KeyError):
        HistoryStore(5).query("nope")


def test_downsampling_keeps_each_buckets_min_and_max_as_its_band():
    rng = np.random.default_rng(1)
    n = 10_000
    values = rng.normal(size=n)
    values[1234] = 50.0  # a one-sample spike
    values[8765] = -50.0
    block = np.vstack([np.arange(n, dtype=float), values])
    out = downsample(block, 100, ts_index=0)  # rows: timestamp, mean, min, max
    assert out.shape == (4, 100)
    width = np.diff(out[0])[0]
    assert np.allclose(np.diff(out[0]), width) and out[0, -1] == n - 1  # one grid, ending at the newest
    for b, end in enumerate(out[0]):
        bucket = values[(block[0] > end - width) & (block[0] <= end)]
        assert (out[1, b], out[2, b], out[3, b]) == pytest.approx((bucket.mean(), bucket.min(), bucket.max()))
    assert out[3].max() == 50.0 and out[2].min() == -50.0


def test_downsampling_skips_nan():
    ts = np.arange(8, dtype=float)
    col = np.array([5, 1, np.nan, 9, np.nan, np.nan, np.nan, np.nan])
    out = downsample(np.vstack([ts, col]), 4, ts_index=0)
    assert list(out[0]) == [1, 3, 5, 7]  # buckets end at 7, 5, 3 and 1
    assert out[1, :2].tolist() == [3.0, 9.0]  # (5 + 1) / 2, then 9 (NaN skipped)
    assert np.isnan(out[1:, 2:]).all()  # an all-NaN bucket stays NaN


def test_query_with_max_points_downsamples():
    store = filled(5000, 5000)
    frame = store.query("c", max_points=200)
    assert len(frame) <= 200
    assert frame["a_max"].max() == 4999 * 2.0 and frame["a_min"].min() == 0.0


def test_ring_requires_a_timestamp():
    with pytest.raises(ValueError, match="timestamp"):
        Ring(("a",), 5)


def test_a_component_can_keep_fewer_rows_than_the_store():
    store = HistoryStore(10)
    store.declare("main", NAMES)
    store.declare("detail", NAMES, max_capacity=4)
    for i in range(12):
        for component in ("main", "detail"):
            store.append(component, {"timestamp": float(i), "a": 1, "b": 2})
    assert (store.count("main"), store.count("detail")) == (10, 4)
    store.resize(3)
    assert (store.count("main"), store.count("detail")) == (3, 3)
    store.resize(100)
    for i in range(12, 20):
        store.append("detail", {"timestamp": float(i), "a": 1, "b": 2})
    assert store.count("detail") == 4 and list(store.query("detail")["timestamp"]) == [16.0, 17.0, 18.0, 19.0]
