"""The pages' past on disk (store/snapshots.py), the alert replay and ?at= parsing: real SQLite files."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from prsm_monitor.history import active_at, silences_at
from prsm_monitor.store import snapshots, statements
from prsm_monitor.store.disk import Database
from prsm_monitor.ui.moment import parse

HOUR = 1_796_572_800.0  # an hour's start: the first snapshot is an hour keyframe


def records(ts: float, status: str = "up", latency: float = 1.25, nodes: int = 5) -> dict:
    node_rows = [
        {"name": f"node-{i}", "status": status if i == 0 else "up", "links_up": 2, "latency_ms": latency + i}
        for i in range(nodes)
    ]
    edges = [{"source": "node-0", "target": "node-1", "up": status == "up", "latency_ms": latency}]
    return {
        "network": {"timestamp": ts, "active_nodes": 5, "nodes": node_rows, "edges": edges},
        "ai": {"timestamp": ts, "models": [{"node": "node-0", "model": "m", "status": status}]},
        "system": {"timestamp": ts, "cpu_percent": 3.0},
        "collector": None,
        "errors": {},
        "thresholds": {"latency": [100.0, 250.0]},
    }


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


@pytest.fixture
def db(tmp_path):
    database = Database(tmp_path / "history.db")
    yield database
    database.close()


def write(db, ops):
    statements.transaction(db.writer, lambda: statements.apply(db.writer, ops, {}))


def journal_of(state: dict, clock: Clock) -> snapshots.SnapshotJournal:
    return snapshots.SnapshotJournal(lambda: state["records"], every=15.0, clock=clock)


def test_a_snapshot_is_taken_every_few_seconds_at_once_when_the_look_changes_and_never_when_only_time_moved():
    clock, state = Clock(), {"records": records(HOUR)}
    journal = journal_of(state, clock)
    assert len(journal()) == 1  # the first one
    clock.now, state["records"] = 5.0, records(HOUR + 5, latency=2.5)
    assert journal() == []  # numbers moved, the look did not: wait for the period
    state["records"] = records(HOUR + 6, status="down")
    (op,) = journal()  # a node went down: at once
    assert op[:3] == ("snapshot", HOUR + 6, 0)
    clock.now = 40.0
    state["records"] = records(HOUR + 40, status="down")  # only the timestamps moved
    assert journal() == []
    state["records"] = records(HOUR + 41, status="down", latency=9.0)
    assert len(journal()) == 1


def test_keyframes_open_each_five_minutes_and_hour_and_the_others_compress_against_them(db):
    clock, state = Clock(), {"records": records(HOUR)}
    journal = journal_of(state, clock)
    ops = []
    for i, ts in enumerate((HOUR, HOUR + 20, HOUR + 40, HOUR + 300, HOUR + 320)):
        clock.now, state["records"] = 20.0 * (i + 1), records(ts, latency=1.0 + i)
        ops += journal()
    assert [op[2] for op in ops] == [2, 0, 0, 1, 0]
    assert [op[3] for op in ops] == [HOUR, HOUR, HOUR, HOUR + 300, HOUR + 300]  # each delta's keyframe
    assert len(ops[1][-1]) < len(ops[0][-1]) / 2  # a delta costs a fraction of its keyframe
    write(db, ops)
    with db.reading() as conn:
        got = snapshots.read_at(conn, HOUR + 330)
        assert got.ts == HOUR + 320 and got.tier == 0
        assert got.records["network"]["nodes"][0]["latency_ms"] == 5.0
        assert snapshots.read_at(conn, HOUR + 39.9).ts == HOUR + 20
        assert snapshots.read_at(conn, HOUR - 1) is None


def test_stored_records_keep_only_what_is_no_series_with_nested_numbers_rounded():
    kept = snapshots.structure({"timestamp": 1.0, "active_nodes": 4, "nodes": [{"latency_ms": 1.23456789}]})
    assert kept == {"timestamp": 1.0, "nodes": [{"latency_ms": 1.2346}]}  # active_nodes is a series


def test_retention_keeps_keyframes_longer_than_the_snapshots_between_them(db):
    clock, state = Clock(), {"records": records(HOUR)}
    journal = journal_of(state, clock)
    ops = []
    for i in range(0, 40):  # 40 snapshots 20 s apart: 13 min 20 s
        clock.now, state["records"] = 20.0 * (i + 1), records(HOUR + 20 * i, latency=1.0 + i)
        ops += journal()
    write(db, ops)
    newest = HOUR + 20 * 39
    statements.transaction(db.writer, lambda: statements.expire(db.writer, {0: 120.0, 1: 600.0, 2: 3600.0}, newest))
    with db.reading() as conn:
        tiers = [t for (t,) in conn.execute("SELECT tier FROM snapshots ORDER BY ts")]
        assert tiers.count(2) == 1 and tiers.count(1) == 2  # keyframes of 0, 5 and 10 min stay
        old = snapshots.read_at(conn, HOUR + 200)  # its raw snapshots are gone: the hour keyframe answers
        assert old.tier == 2 and old.ts == HOUR
        assert snapshots.read_at(conn, newest).ts == newest  # the recent ones are all kept


def test_the_size_cap_deletes_the_oldest_snapshots_and_the_deltas_of_a_deleted_keyframe(db):
    empty = db.used_bytes()
    clock, state = Clock(), {"records": records(HOUR, nodes=60)}
    journal = journal_of(state, clock)
    ops = []
    for i in range(300):  # 100 min: 20 keyframes
        clock.now, state["records"] = 20.0 * (i + 1), records(HOUR + 20 * i, latency=1.0 + i, nodes=60)
        ops += journal()
    write(db, ops)
    before, _ = snapshots.stored(db.writer)
    budget = empty + (db.used_bytes() - empty) // 2
    statements.cap(db.writer, db.used_bytes, budget)
    after, _ = snapshots.stored(db.writer)
    assert db.used_bytes() <= budget and 0 < after < before
    with db.reading() as conn:
        assert snapshots.read_at(conn, HOUR + 20 * 299).ts == HOUR + 20 * 299  # the newest stays
        orphans = conn.execute(
            "SELECT count(*) FROM snapshots s WHERE tier=0 AND NOT EXISTS "
            "(SELECT 1 FROM snapshots k WHERE k.ts=s.key AND k.tier>0)"
        ).fetchone()[0]
        assert orphans == 0


def event(id_, kind, ts, owner=None, level="error", **details):
    return {
        "id": id_,
        "alert_id": owner,
        "kind": kind,
        "timestamp": ts,
        "level": level,
        "component": "network",
        "message": f"{kind} {id_}",
        "details": details,
    }


EVENTS = [
    event(1, "fired", 10.0, 1, level="warning", node="node-0"),
    event(2, "changed", 20.0, None, level="info", setting="acknowledge", alert_id=1, actor="ana"),
    event(3, "escalated", 30.0, 1, level="critical", node="node-0"),
    event(
        4,
        "changed",
        35.0,
        None,
        level="info",
        setting="silence",
        silence_id=7,
        matchers={"node": "node-0"},
        starts_at=35.0,
        ends_at=3600.0,
        comment="known",
        actor="bo",
    ),
    event(
        5,
        "changed",
        45.0,
        None,
        level="info",
        setting="silence",
        silence_id=7,
        matchers={"node": "node-0"},
        starts_at=35.0,
        ends_at=45.0,
        comment="known",
        actor="bo",
    ),
    event(6, "resolved", 50.0, 1, level="info"),
]


def test_the_alerts_of_a_moment_are_replayed_with_their_acknowledgement_as_it_stood():
    assert active_at(EVENTS, 5.0) == []
    (then,) = active_at(EVENTS, 25.0)
    assert (then["level"], then["acknowledged"], then["acknowledged_by"], then["started"]) == (
        "warning",
        True,
        "ana",
        10,
    )
    (later,) = active_at(EVENTS, 31.0)
    assert later["level"] == "critical" and not later["acknowledged"]  # an escalation asks for a new one
    assert active_at(EVENTS, 50.0) == []


def test_the_silences_of_a_moment_are_those_in_force_then():
    assert silences_at(EVENTS, 30.0) == []
    (silence,) = silences_at(EVENTS, 40.0)
    assert silence["matchers"] == {"node": "node-0"} and silence["created_by"] == "bo"
    assert silences_at(EVENTS, 46.0) == []  # expired early at 45


def test_at_is_read_in_the_viewers_zone_and_a_bad_one_names_the_field_and_value():
    berlin = ZoneInfo("Europe/Berlin")
    now = dt.datetime(2026, 12, 6, 18, tzinfo=dt.UTC).timestamp()
    assert parse("2026-12-06T17:05:00", berlin, now) == dt.datetime(2026, 12, 6, 16, 5, tzinfo=dt.UTC).timestamp()
    assert parse("2026-12-06T16:05:00Z", berlin, now) == parse("2026-12-06T17:05:00+01:00", berlin, now)
    with pytest.raises(ValueError, match=r"at='yesterday' is not a time: expected an ISO 8601 time"):
        parse("yesterday", berlin, now)
    with pytest.raises(ValueError, match="in the future"):
        parse("2026-12-06T18:00:01Z", berlin, now)
