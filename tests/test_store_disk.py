"""The on-disk tiers behind the store's interface: routing, rollups, reopening, retention, size cap.

The writer's thread is not started here: each test calls ``flush()`` itself, so what is on
disk at each step is known."""

import numpy as np
import pytest

from prsm_monitor.store import HistoryStore
from prsm_monitor.store.datadir import DataDir
from prsm_monitor.store.tiered import TieredStore
from prsm_monitor.store.writer import Writer

T0 = 1_700_006_400.0  # a UTC midnight
DAY = 86_400.0
RETENTION = {0: DAY, 1: 30 * DAY, 2: 365 * DAY}


def open_store(path, capacity=100, retention=RETENTION, cap=None) -> TieredStore:
    directory = DataDir(path).acquire()
    db, _ = directory.open()
    writer = Writer(db, retention, cap, reopen=directory.replace)
    store = TieredStore(HistoryStore(capacity), writer, lock=directory)
    store.declare("s", ["timestamp", "v", "w"])
    return store


def feed(store, start, seconds, step=1.0, flush_every=600):
    for i, t in enumerate(np.arange(start, start + seconds, step)):
        store.append("s", {"timestamp": float(t), "v": float(t - T0), "w": float(i % 7)})
        if i % flush_every == flush_every - 1:
            store.writer.flush()
    store.writer.flush()


def first(store, level):
    db = store.writer.db
    return db.first(level, [sid for sid, _ in db.series("s")])


@pytest.fixture
def store(tmp_path):
    store = open_store(tmp_path)
    yield store
    store.close()


def test_raw_reads_join_disk_and_memory_without_duplicates(store):
    feed(store, T0, 1800)  # 30 min; the ring holds the last 100 s
    frame = store.query("s", T0, None)
    assert frame.attrs["tier"] == "raw"
    assert frame["timestamp"].tolist() == [T0 + i for i in range(1800)]
    recent = store.query("s", T0 + 1750, None)  # inside the ring: memory alone
    assert len(recent) == 50
    assert store.count("s") == 1800


def test_long_ranges_read_minute_rollups_with_the_band(store):
    feed(store, T0, 3 * 3600)
    frame = store.query("s", T0, T0 + 3 * 3600, max_points=100)  # 3 h / 100 points: 108 s per point
    assert frame.attrs == {"tier": "minute", "step": 60.0}
    assert len(frame) <= 100
    assert {"v", "v_min", "v_max", "w", "w_min", "w_max"} <= set(frame.columns)
    assert frame["v_min"].iloc[0] == 0.0  # the first point's value: nothing lost at the edge
    assert frame["w_max"].max() == 6.0 and frame["w_min"].min() == 0.0
    first_minute = store.query("s", T0, T0 + 59, max_points=2)  # one minute, exactly
    assert first_minute.attrs["tier"] == "raw"
    whole = store.query("s", T0, T0 + 3 * 3600, max_points=180)
    assert whole["v"].iloc[0] == pytest.approx(29.5)  # mean of 0..59


def test_a_year_reads_the_hour_tier(tmp_path):
    store = open_store(tmp_path, retention={**RETENTION, 2: 400 * DAY})  # all 370 days kept
    # a synthetic year, one point an hour: each closes a minute and an hour
    feed(store, T0, 370 * DAY, step=3600.0, flush_every=5000)
    frame = store.query("s", T0, None, max_points=1000)
    assert frame.attrs["tier"] == "hour"
    assert 365 <= len(frame) <= 1000
    assert frame["v_min"].min() == 0.0
    # the newest complete minute is in the chart (its hour still open: merged from minutes)
    assert frame["v_max"].max() == pytest.approx(370 * DAY - 7200.0, abs=4.0)  # float32: 7 digits
    store.close()


def test_reopening_continues_the_open_chunks(tmp_path):
    store = open_store(tmp_path)
    feed(store, T0, 90)  # minute one closed, minute two open (its rows only in the tail table)
    store.close()
    store = open_store(tmp_path)
    assert store.count("s") == 90
    feed(store, T0 + 90, 90)
    assert store.query("s", T0, None)["timestamp"].tolist() == [T0 + i for i in range(180)]
    minutes = store.query("s", T0, T0 + 180, max_points=3)
    assert minutes.attrs["tier"] == "minute"
    # the minute open at the restart holds the rows of both runs (60..89, then 90..119); the
    # last minute, still open, is rolled up from the raw rows so that the chart reaches now
    assert minutes["v"].tolist() == [29.5, 89.5, 149.5] and minutes["v_max"].tolist() == [59.0, 119.0, 179.0]
    assert store.first_timestamp("s") == T0
    store.close()


def test_a_new_field_list_is_a_new_series_read_together(tmp_path):
    store = open_store(tmp_path)
    feed(store, T0, 120)
    store.close()
    store = open_store(tmp_path)
    store.declare("s", ["timestamp", "v", "w", "x"])
    store.append("s", {"timestamp": T0 + 200, "v": 1.0, "w": 2.0, "x": 3.0})
    store.writer.flush()
    frame = store.query("s", T0, None)
    assert len(frame) == 121 and frame["x"].isna().sum() == 120 and frame["x"].iloc[-1] == 3.0
    store.close()


def test_retention_prunes_each_tier_by_age(tmp_path):
    store = open_store(tmp_path, retention={0: 600.0, 1: 7200.0, 2: DAY})
    feed(store, T0, 4 * 3600)
    store.writer._pruned_at = -1e9  # due now
    store.writer.flush()
    assert first(store, 0) >= T0 + 4 * 3600 - 600 - 60
    assert first(store, 1) >= T0 + 4 * 3600 - 7200 - 3600
    assert first(store, 2) == T0  # hours are kept a day
    assert store.first_timestamp("s") == T0
    store.close()


def test_the_size_cap_drops_the_oldest_raw_chunks_first(tmp_path):
    store = open_store(tmp_path, cap=1024 * 1024)
    store.declare("s", ["timestamp", *(f"f{i}" for i in range(40))])
    noise = np.random.default_rng(0).random((2 * 3600, 40))  # random bits do not compress: 2.2 MiB
    for row, t in zip(noise, np.arange(T0, T0 + 2 * 3600), strict=True):
        store.append("s", {"timestamp": float(t), **{f"f{i}": row[i] for i in range(40)}})
    store.writer._pruned_at = -1e9
    store.writer.flush()
    assert store.writer.db.used_bytes() <= 1024 * 1024
    assert first(store, 0) > T0  # raw points went first...
    assert first(store, 1) == T0  # ...the minute rollups of the same time stayed
    store.close()


@pytest.mark.parametrize("closed", [False, True], ids=["no-writer", "closed"])
def test_a_store_without_a_writer_reads_from_memory(tmp_path, closed):
    """No disk (only a remote reader, or the data dir still being retried) or a store already
    closed: where history starts, counts and queries come from memory, never an error."""
    store = open_store(tmp_path) if closed else TieredStore(HistoryStore(100))
    store.declare("s", ["timestamp", "v", "w"])
    for i in range(5):
        store.append("s", {"timestamp": T0 + i, "v": float(i), "w": 0.0})
    if closed:
        store.close()
    assert store.first_timestamp("s") == T0
    assert store.count("s") == 5
    assert list(store.query("s", T0, T0 + 10)["v"]) == [0.0, 1.0, 2.0, 3.0, 4.0]
