"""What a previous run of the writer left open in the history file (:func:`leftover`): the
series ids, the rows of open chunks in the ``tail`` table (rollup rows; raw rows too in a
file of the first version) and the raw rows in the row log (:mod:`.rowlog`) that are newer
than what is already loaded or committed for their series."""

from __future__ import annotations

import json
import sqlite3

import numpy as np

from .rowlog import RowLog
from .tiers import decode_raw, decode_rollup

Key = tuple[str, tuple[str, ...]]  # (component, field names): one series


def leftover(conn: sqlite3.Connection, rows_log: RowLog) -> tuple[dict[Key, int], list[tuple], list[tuple]]:
    """``(series, tails, logged)``: series ids by key; ``(level, key, bucket, ts, row)`` for each
    tail row, oldest first; ``(key, ts, row)`` for each logged raw row to keep. A logged row
    that is not newer than what is loaded or committed for its series was committed before the
    log was replaced (a crash in between): it is skipped."""
    names = {sid: (comp, tuple(json.loads(f))) for sid, comp, f in conn.execute("SELECT * FROM series")}
    series = {key: sid for sid, key in names.items()}
    newest: dict[Key, float] = {}
    tails = []
    for level, sid, bucket, ts, data in conn.execute("SELECT tier, series, bucket, ts, data FROM tail ORDER BY ts"):
        key = names[sid]
        width = len(key[1])
        row = decode_raw(data, width)[:, 0] if level == 0 else decode_rollup(data, width - 1)
        tails.append((level, key, bucket, ts, row))
        if level == 0:
            newest[key] = max(newest.get(key, -np.inf), ts)
    ends = dict(conn.execute("SELECT series, max(end) FROM chunks WHERE tier=0 GROUP BY series"))
    logged = []
    for key, row in rows_log.read():
        ts = float(row[key[1].index("timestamp")])
        if ts <= max(newest.get(key, -np.inf), ends.get(series.get(key), -np.inf)):
            continue
        newest[key] = ts
        logged.append((key, ts, row))
    return series, tails, logged
