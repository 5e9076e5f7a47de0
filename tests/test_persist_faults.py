"""A history file that cannot be written: one error alert, collection goes on in memory, and
writing resumes (with nothing lost that was pending) when it can."""

import os
import sqlite3
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

import pytest

from .conftest import wait_until
from .test_persist import Run

ROOT = Path(__file__).resolve().parents[1]


def store_alerts(collector):
    return [e for e in collector.get_alerts() if e["details"].get("problem") or e["message"].startswith("History")]


def flushed(run) -> bool:
    return run.collector.store.writer.flush()


@contextmanager
def mounted_tmpfs(path: Path, options: str):
    """A tmpfs at ``path`` (root only); skips the test where mounting is not allowed."""
    path.mkdir(exist_ok=True)
    if os.geteuid() != 0:
        pytest.skip("mounting a small filesystem needs root")
    result = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(path)], capture_output=True)
    if result.returncode:
        pytest.skip(f"cannot mount a tmpfs here: {result.stderr.decode().strip()}")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)


def test_a_full_database_is_one_error_and_nothing_pending_is_lost(tmp_path):
    run = Run(tmp_path)
    run.tick(5)
    writer = run.collector.store.writer
    with writer._flush_lock:  # the same limit a full disk sets: no page more
        (pages,) = writer.db.writer.execute("PRAGMA page_count").fetchone()
        writer.db.writer.execute(f"PRAGMA max_page_count={pages}")
    run.tick(2000)  # some pages more
    assert not flushed(run)
    (error,) = store_alerts(run.collector)
    assert error["level"] == "error" and "full" in error["message"] and str(tmp_path) in error["message"]
    run.tick(5)
    assert not flushed(run)
    assert len(store_alerts(run.collector)) == 1  # one alert, not one per try
    with writer._flush_lock:
        writer.db.writer.execute("PRAGMA max_page_count=1073741823")
    assert flushed(run)
    assert store_alerts(run.collector)[-1]["kind"] == "recovered"
    end = run.close()
    again = Run(tmp_path, start=end)
    assert again.collector.store.count("system") == 2010  # what waited in memory was written
    again.close()


def test_a_full_filesystem(tmp_path):
    with mounted_tmpfs(tmp_path / "small", "size=2m") as small:
        run = Run(small)
        run.tick(2)
        filler = small / "filler"
        with open(filler, "wb", buffering=0) as f:  # fill the disk up
            try:
                while True:
                    f.write(b"\0" * 4096)
            except OSError:
                pass

        def fails():
            run.tick(70)  # a minute closes each time: new chunks, new pages
            return not flushed(run)

        wait_until(fails, timeout=30)
        (error,) = store_alerts(run.collector)
        assert "full" in error["message"] or "disk" in error["message"]
        filler.unlink()
        wait_until(lambda: flushed(run), timeout=10)
        assert store_alerts(run.collector)[-1]["kind"] == "recovered"
        run.close()


def test_a_read_only_directory_keeps_collecting_in_memory(tmp_path):
    if os.geteuid() == 0:
        context = mounted_tmpfs(tmp_path / "ro", "ro,size=1m")
    else:
        (tmp_path / "ro").mkdir()
        (tmp_path / "ro").chmod(0o555)
        context = contextmanager(lambda: (yield tmp_path / "ro"))()
    with context as directory:
        run = Run(directory / "history")
        run.tick(3)
        (error,) = store_alerts(run.collector)
        assert error["level"] == "error" and "cannot be used" in error["message"]
        assert run.collector.store.writer is None and run.collector.store.count("system") == 3
        assert run.collector.latest("collector")["store_disk_mb"] is None
        run.close()


def test_a_damaged_file_is_moved_aside_and_history_starts_again(tmp_path):
    (tmp_path / "history.db").write_bytes(b"not a database, " * 1000)
    run = Run(tmp_path)
    (error,) = store_alerts(run.collector)
    assert "damaged" in error["message"] and "moved to" in error["message"]
    (moved,) = tmp_path.glob("history.db.corrupt-*")
    assert moved.read_bytes().startswith(b"not a database")
    run.tick(3)
    assert flushed(run)
    assert store_alerts(run.collector)[-1]["kind"] == "recovered"
    end = run.close()
    again = Run(tmp_path, start=end)
    assert again.collector.store.count("system") == 3
    again.close()


def test_a_database_locked_by_another_program(tmp_path):
    run = Run(tmp_path)
    run.tick(2)
    assert flushed(run)
    other = sqlite3.connect(tmp_path / "history.db", isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another program holds the write lock
    run.tick(70)  # a minute closes: its chunk is due in the database
    assert not flushed(run)
    (error,) = store_alerts(run.collector)
    assert "locked" in error["message"]
    other.execute("ROLLBACK")
    other.close()
    assert flushed(run)
    assert store_alerts(run.collector)[-1]["kind"] == "recovered"
    assert run.collector.store.count("system") == 72
    end = run.close()
    again = Run(tmp_path, start=end)
    assert again.collector.store.count("system") == 72  # the minute that waited was written
    again.close()


def test_a_second_process_on_the_same_directory_gets_a_clear_error(tmp_path):
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys; from prsm_monitor.store.datadir import DataDir; "
            "d = DataDir(sys.argv[1]).acquire(); print('ready', flush=True); sys.stdin.read()",
            str(tmp_path),
        ],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "ready"
        run = Run(tmp_path)
        (error,) = store_alerts(run.collector)
        assert f"in use by another prsm-monitor process (pid {holder.pid})" in error["message"]
        assert "PRSM_DATA_DIR" in error["message"]
        run.tick(2)  # collects in memory
        assert run.collector.store.count("system") == 2
        run.close()
    finally:
        holder.stdin.close()
        holder.wait(10)
    again = Run(tmp_path)  # the directory is free again
    assert store_alerts(again.collector) == []
    again.close()
