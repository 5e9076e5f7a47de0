"""Issue 22's attacks rerun against a real `streamlit run streamlit_app.py` (PRSM_DEMO=false):
10,000 acknowledgements of one alert, 2,639 settings writes, a DNS-rebinding websocket, and
a notification to an endpoint that answers after 60 s with PRSM_NOTIFY_TIMEOUT=30s.
Prints figures; asserts nothing (the tests do). ~1 minute.

    python bench/bench_hardening.py
"""

from __future__ import annotations

import os
import platform
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

import requests
import websocket

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.fixtures.receivers import SlowWebhook  # noqa: E402
from tests.fixtures.server import StreamlitServer  # noqa: E402


def main() -> None:
    print(f"machine: {os.cpu_count()} CPUs, Python {platform.python_version()}, {platform.platform()}")
    hook = SlowWebhook(60.0)
    server = StreamlitServer(
        ROOT / "streamlit_app.py",
        env={"PRSM_NOTIFY_URLS": hook.url, "PRSM_NOTIFY_TIMEOUT": "30s", "PRSM_NOTIFY_GROUP_WAIT": "0s"},
    ).wait(timeout=60)
    try:
        url = server.url
        with requests.Session() as http:
            http.post(url + "/api/settings", json={"thresholds": {"memory": {"warning": 1, "critical": 99.9}}})
            deadline = time.monotonic() + 30
            while not (active := http.get(url + "/api/alerts?active=true").json()["active"]):
                if time.monotonic() > deadline:
                    raise SystemExit("no alert fired")
                time.sleep(0.2)
            alert_id = active[0]["id"]
            started = time.perf_counter()
            codes: dict[int, int] = {}
            for _ in range(10_000):
                code = http.post(f"{url}/api/alerts/{alert_id}/ack", json={"by": "flood"}).status_code
                codes[code] = codes.get(code, 0) + 1
            took = time.perf_counter() - started
            events = http.get(url + "/api/alerts").json()["alerts"]
            acks = [e for e in events if e["details"].get("setting") == "acknowledge"]
            print(
                f"10,000 x POST /api/alerts/{alert_id}/ack in {took:.1f} s: statuses {codes}; "
                f"/api/alerts afterwards: {len(events)} events, {len(acks)} acknowledged event(s)"
            )
            for i in range(2639):
                body = {"thresholds": {"disk": {"warning": 90 + i % 5, "critical": 98}}}
                http.post(url + "/api/settings", json=body)
            events = http.get(url + "/api/alerts").json()["alerts"]
            kinds: dict[str, int] = {}
            for e in events:
                kinds[e["kind"]] = kinds.get(e["kind"], 0) + 1
            fired = [e for e in events if e["kind"] == "fired" and e["alert_id"] == alert_id]
            print(
                f"then 2,639 x POST /api/settings: /api/alerts holds {kinds}; "
                f"the alert's fired event kept: {bool(fired)}"
            )
        netloc = urlsplit(url).netloc
        for host in ("rebind.attacker.example", netloc):
            try:
                websocket.create_connection(f"ws://{netloc}/_stcore/stream", host=host, origin=f"http://{host}").close()
                print(f"websocket /_stcore/stream with Host {host}: accepted")
            except websocket.WebSocketBadStatusException as error:
                print(f"websocket /_stcore/stream with Host {host}: refused, HTTP {error.status_code}")
        deadline = time.monotonic() + 120
        while True:
            view = requests.get(url + "/api/notifications").json()
            done = [d for d in view["deliveries"] if d["status"] in ("sent", "failed")]
            if done or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        for d in done:
            print(
                f"notification to a 60 s endpoint, PRSM_NOTIFY_TIMEOUT=30s: {d['status']} after "
                f"{d['attempts']} attempt(s): {d['error']}"
            )
        print(f"the endpoint received the notification {len(hook.delivered)} time(s)")
    finally:
        server.stop()
        hook.close()


if __name__ == "__main__":
    main()
