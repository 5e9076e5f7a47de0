"""A history file of the first version (schema 1: plain float64 chunks, raw rows of the open
minute in ``tail``) read and continued by this one, nothing lost, nothing twice.

``fixtures/history_v1.db.gz`` was written by the store of commit 27b852a (before compressed
chunks): series ``s`` with fields ``timestamp, v, w``, one row every 10 s from ``T0`` for
2 h 1.5 min (729 rows: ``v = (t - T0) / 7``, ``w`` NaN every 13th row, else ``i % 5``),
flushed every minute, then closed and vacuumed. Its last minute was still open: three raw
rows in ``tail``; two hours of minute rollups are closed chunks.
"""

import gzip
import math
import sqlite3
from pathlib import Path

import numpy as np
import pytest

from prsm_monitor.store import HistoryStore
from prsm_monitor.store.codec import PACKED, PLAIN
from prsm_monitor.store.datadir import DataDir
from prsm_monitor.store.tiered import TieredStore
from prsm_monitor.store.writer import Writer

FIXTURE = Path(__file__).parent / "fixtures" / "history_v1.db.gz"
T0 = 1_700_006_400.0
DAY = 86_400.0
ROWS = 729


def expected(count: int) -> np.ndarray:
    """The rows the old version wrote (and the test's continuation): timestamp, v, w."""
    ts = [T0 + 10.0 * i for i in range(count)]
    return np.array(
        [ts, [(t - T0) / 7.0 for t in ts], [math.nan if i % 13 == 0 else float(i % 5) for i in range(count)]]
    )


def open_store(path) -> TieredStore:
    directory = DataDir(path).acquire()
    db, _ = directory.open()
    store = TieredStore(HistoryStore(10), Writer(db, {0: DAY, 1: 30 * DAY, 2: 365 * DAY}), lock=directory)
    store.declare("s", ["timestamp", "v", "w"])
    return store


def same_bits(a: np.ndarray, b: np.ndarray) -> bool:
    return a.shape == b.shape and np.array_equal(np.ascontiguousarray(a).view("<u8"), b.view("<u8"))


@pytest.fixture
def old_file(tmp_path):
    (tmp_path / "history.db").write_bytes(gzip.decompress(FIXTURE.read_bytes()))
    return tmp_path


def table(path, sql):
    conn = sqlite3.connect(path / "history.db")
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def test_the_fixture_is_a_file_of_the_first_version(old_file):
    assert table(old_file, "SELECT value FROM meta WHERE key='schema'") == [("1",)]
    assert table(old_file, "SELECT tier, count(*) FROM tail GROUP BY tier") == [(0, 3), (1, 1), (2, 2)]
    assert "codec" not in {row[1] for row in table(old_file, "PRAGMA table_info(chunks)")}


def test_an_old_file_is_read_bit_for_bit_after_the_upgrade(old_file):
    store = open_store(old_file)
    try:
        frame = store.query("s", T0, None)
        assert frame.attrs["tier"] == "raw"
        assert same_bits(frame[["timestamp", "v", "w"]].to_numpy().T, expected(ROWS))  # NaN included
        assert store.count("s") == ROWS and store.first_timestamp("s") == T0
        hours = store.query("s", T0, T0 + 2 * 3600, max_points=120)  # the old minute rollups
        assert hours.attrs["tier"] == "minute"
        # 121 minute buckets merged in pairs on a grid that ends at the newest one: the odd one out
        # is the oldest, so the first point is the mean of the first minute alone
        assert hours["v"].iloc[0] == pytest.approx(np.mean(expected(6)[1]), rel=1e-6)  # float32 stats
        assert hours["v"].iloc[1] == pytest.approx(np.mean(expected(18)[1][6:]), rel=1e-6)  # then minutes 2 and 3
        assert hours["w_max"].max() == 4.0
    finally:
        store.close()
    assert table(old_file, "SELECT value FROM meta WHERE key='schema'") == [("2",)]
    indexes = {row[1] for row in table(old_file, "PRAGMA index_list(chunks)")}
    assert "chunks_bucket" in indexes and not {"chunks_series", "chunks_end"} & indexes  # time-major now


def test_an_old_file_is_continued_and_its_open_minute_closes_with_the_new_rows(old_file):
    store = open_store(old_file)
    rows = expected(ROWS + 40)
    for column in rows[:, ROWS:].T:  # 400 s more: the old open minute (3 rows in tail) closes
        store.append("s", dict(zip(("timestamp", "v", "w"), column.tolist(), strict=True)))
    store.writer.flush()
    store.close()
    assert table(old_file, "SELECT count(*) FROM tail WHERE tier=0") == [(0,)]  # moved into its chunk
    codecs = dict(table(old_file, "SELECT codec, count(*) FROM chunks WHERE tier=0 GROUP BY codec"))
    assert codecs[PLAIN] == 121 and codecs[PACKED] >= 6  # old chunks stay as they were written

    store = open_store(old_file)  # and once more, from the files alone
    try:
        frame = store.query("s", T0, None)
        assert same_bits(frame[["timestamp", "v", "w"]].to_numpy().T, rows)
        assert store.count("s") == ROWS + 40
    finally:
        store.close()


def test_a_file_of_a_newer_schema_is_refused(old_file):
    conn = sqlite3.connect(old_file / "history.db")
    conn.execute("UPDATE meta SET value='99' WHERE key='schema'")
    conn.commit()
    conn.close()
    with pytest.raises(sqlite3.DatabaseError, match="newer"):
        DataDir(old_file).open()
