"""The row log of the open raw chunks: what a crash leaves is read back, the database is
written only when chunks close, and a row is never read twice."""

import shutil

import numpy as np

from prsm_monitor.store.rowlog import RowLog

from .test_store_disk import T0, feed, open_store

A = ("a", ("timestamp", "x", "y"))
B = ("b", ("timestamp", "z"))


def rows(n, start=T0):
    out = []
    for i in range(n):
        out.append((A, np.array([start + i, i / 3.0, np.nan if i % 4 == 0 else 1.0])))
        out.append((B, np.array([start + i, -0.0 if i % 2 else np.inf])))
    return out


def same(read, wrote) -> bool:
    return len(read) == len(wrote) and all(
        k1 == k2 and np.array_equal(v1.view("<u8"), np.asarray(v2, "<f8").view("<u8"))
        for (k1, v1), (k2, v2) in zip(read, wrote, strict=True)
    )


def test_rows_come_back_bit_for_bit_across_frames_and_replacements(tmp_path):
    log = RowLog(tmp_path / "log")
    written = rows(10)
    for i in range(0, 20, 4):
        log.append(written[i : i + 4])
    log.close()
    assert same(RowLog(tmp_path / "log").read(), written)
    log = RowLog(tmp_path / "log")
    log.replace(written[12:])
    log.append(rows(2, T0 + 100))
    log.close()
    assert same(RowLog(tmp_path / "log").read(), written[12:] + rows(2, T0 + 100))
    assert not (tmp_path / "log.new").exists()


def test_a_frame_cut_short_by_a_crash_ends_the_log_there(tmp_path):
    log = RowLog(tmp_path / "log")
    log.append(rows(3))
    size = (tmp_path / "log").stat().st_size
    log.append(rows(3, T0 + 3))
    log.close()
    data = (tmp_path / "log").read_bytes()
    (tmp_path / "log").write_bytes(data[:-5])  # the second write half done
    assert same(RowLog(tmp_path / "log").read(), rows(3))
    damaged = bytearray(data)
    damaged[size + 12] ^= 0xFF  # a flipped bit inside the second frame: its CRC fails
    (tmp_path / "log").write_bytes(bytes(damaged))
    assert same(RowLog(tmp_path / "log").read(), rows(3))


def test_inside_a_minute_only_the_log_is_written_and_a_crash_keeps_those_rows(tmp_path):
    store = open_store(tmp_path)
    writer = store.writer
    changes = writer.db.writer.total_changes
    for i in range(30):  # 30 flushes inside the first minute
        store.append("s", {"timestamp": T0 + i, "v": float(i), "w": 1.0})
        assert writer.flush()
    assert writer.db.writer.total_changes == changes  # no row of the database written
    assert len(RowLog(writer.db.log_path).read()) == 30
    writer.db.close()  # a crash: nothing more written, the directory's lock goes with the process
    store.lock.release()

    store = open_store(tmp_path)
    assert store.count("s") == 30
    assert store.query("s", T0, None)["v"].tolist() == [float(i) for i in range(30)]
    feed(store, T0 + 30, 60)  # the minute closes: one chunk, and the log keeps the open rows only
    assert store.writer.db.writer.total_changes > 0
    assert [row[0] for _, row in RowLog(store.writer.db.log_path).read()] == [T0 + 60 + i for i in range(30)]
    store.close()


def test_rows_already_committed_when_the_log_was_not_yet_replaced_are_read_once(tmp_path):
    store = open_store(tmp_path)
    feed(store, T0, 50)  # rows 0..49 in the log
    log = store.writer.db.log_path
    shutil.copy(log, tmp_path / "before")
    feed(store, T0 + 50, 30)  # minute 0 committed as a chunk, the log now holds rows 60..79
    store.close()
    # a crash between the commit and the log's replacement leaves the old rows in the log too
    log.write_bytes((tmp_path / "before").read_bytes() + log.read_bytes())
    assert len(RowLog(log).read()) == 70

    store = open_store(tmp_path)
    frame = store.query("s", T0, None)
    assert frame["timestamp"].tolist() == [T0 + i for i in range(80)]
    assert store.count("s") == 80
    store.close()
