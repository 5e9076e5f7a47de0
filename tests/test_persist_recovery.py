"""Recovery that recovers (issue 22, item 9): a history file damaged while running is moved
aside and the new one gets everything saved with the settings (alert events, silences,
acknowledgements, tuned settings), so a restart finds them; a data directory that could not be
used at start is used as soon as it can be (tried each second)."""

import os
import subprocess

from prsm_monitor.store.tiered import saved_in

from .conftest import wait_until
from .test_persist import Run, fire_memory_alert
from .test_persist_faults import mounted_tmpfs, store_alerts


def damage(directory) -> None:
    """Overwrite the live file with noise and empty its WAL, as a disk fault would."""
    db = directory / "history.db"
    db.write_bytes(os.urandom(db.stat().st_size))
    (directory / "history.db-wal").write_bytes(b"")
    shm = directory / "history.db-shm"
    shm.write_bytes(b"\0" * shm.stat().st_size)


def test_a_file_damaged_while_running_loses_no_saved_state(tmp_path):
    first = Run(tmp_path)
    alert = fire_memory_alert(first)  # tuned thresholds and interval, a fired and acknowledged alert
    c = first.collector
    silence = c.silences.create(
        {"node": "node-3"}, first.now + 3600, comment="maintenance", created_by="ops", now=first.now
    )
    first.tick(2)
    assert c.store.writer.flush()
    events_before = c.get_alerts()
    damage(tmp_path)
    first.tick(61)  # the file is written when a minute's chunks close (each second goes to the row log)
    wait_until(lambda: list(tmp_path.glob("history.db.corrupt-*")), timeout=10)  # moved by the writer thread
    wait_until(lambda: c.store.writer.flush() and c.store.writer.error is None, timeout=10)
    assert any("moved to" in e["message"] for e in store_alerts(c))
    end = first.close()

    second = Run(tmp_path, start=end)
    c2 = second.collector
    assert [s["id"] for s in c2.silences.list(end)] == [silence["id"]]
    kept = {e["id"] for e in c2.get_alerts()}
    assert {e["id"] for e in events_before} <= kept  # every event from before the damage
    (memory,) = [a for a in c2.get_active_alerts() if a["key"] == "rule:memory"]
    assert memory["id"] == alert["id"] and memory["acknowledged"]
    assert c2.collection_interval == 2.0 and c2.rules["memory"].warning == 50
    ids = [e["id"] for e in c2.get_alerts()]
    assert len(ids) == len(set(ids))  # written twice into the new file, restored once
    second.close()


def test_a_directory_read_only_at_start_is_used_once_writable(tmp_path):
    with mounted_tmpfs(tmp_path / "ro", "ro,size=4m") as directory:
        run = Run(directory / "history")
        c = run.collector
        run.tick(3)
        (error,) = store_alerts(c)
        assert "cannot be used" in error["message"] and "tried again each second" in error["message"]
        assert c.store.writer is None and saved_in(c.store) is None
        subprocess.run(["mount", "-o", "remount,rw", str(directory)], check=True)
        wait_until(lambda: c.store.writer is not None, timeout=10)  # the retry, about a second later
        run.tick(3)
        wait_until(lambda: c.store.writer.flush() and store_alerts(c)[-1]["kind"] == "recovered", timeout=10)
        assert saved_in(c.store) == str(directory / "history")
        assert (directory / "history" / "history.db").exists()
        end = run.close()
        again = Run(directory / "history", start=end)
        assert again.collector.store.count("system") >= 3  # rows ticked after the directory came back
        assert any(e["message"].startswith("History is not saved") for e in again.collector.get_alerts())
        again.close()


def test_closing_stops_the_retry(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    run = Run(blocker / "history")  # cannot be created: a file is in the way
    retry = run.collector.store.lock
    run.close()
    blocker.unlink()  # usable now, but the collector is closed
    retry._thread.join(5)
    assert not retry._thread.is_alive() and not (tmp_path / "file").exists()


def test_a_flood_of_changes_before_a_restart_keeps_the_alert_history(tmp_path):
    first = Run(tmp_path)
    alert = fire_memory_alert(first)
    for i in range(1100):  # more changes than the log and the restore keep
        first.collector.configure(thresholds={"disk": (80 + i % 10, 98)}, actor="flood")
    first.tick()
    end = first.close()
    second = Run(tmp_path, start=end)
    events = second.collector.get_alerts()
    assert [e["id"] for e in events if e["kind"] == "fired"] == [alert["id"]]
    assert sum(e["kind"] == "changed" for e in events) == 1000
    second.close()
