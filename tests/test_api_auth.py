"""Access control of the API on real servers: bearer token (env or st.secrets), CORS."""

from __future__ import annotations

import pytest
import requests

from prsm_monitor.api.auth import authorized
from prsm_monitor.settings.model import Settings
from prsm_monitor.settings.values import ConfigError

from .fixtures.server import StreamlitServer

TOKEN = "test-token-0123456789abcdef"
SECRET_TOKEN = "secret-token-fedcba9876543210"
ORIGIN = "https://grafana.example.com"
PROTECTED = ["/api/metrics", "/api/historical/system", "/api/alerts", "/api/settings", "/api/nope", "/metrics"]


@pytest.fixture(scope="module")
def servers():
    """Two servers started side by side: token from PRSM_API_TOKEN (with CORS), and from st.secrets."""
    env_token = StreamlitServer(env={"PRSM_API_TOKEN": TOKEN, "PRSM_CORS_ORIGINS": f"{ORIGIN}, http://localhost:3000"})
    secret_token = StreamlitServer(env={"PRSM_API_TOKEN": None, "TEST_SECRET_API_TOKEN": SECRET_TOKEN})
    try:
        yield env_token.wait(), secret_token.wait()
    finally:
        env_token.stop()
        secret_token.stop()


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


@pytest.mark.parametrize("path", PROTECTED)
def test_no_token_or_a_wrong_one_is_401_json(servers, path):
    server = servers[0]
    for headers in ({}, bearer("wrong-token-0123456789"), {"Authorization": TOKEN}, {"Authorization": "Basic eDp5"}):
        response = requests.get(server.url + path, headers=headers, timeout=10)
        assert response.status_code == 401, (path, headers)
        assert response.headers["content-type"].startswith("application/json")
        assert response.headers["www-authenticate"].startswith("Bearer")
        body = response.json()
        assert body["status"] == 401 and body["error"] == "unauthorized"
        assert TOKEN not in response.text


@pytest.mark.parametrize("path", PROTECTED)
def test_the_right_token_is_let_through(servers, path):
    response = requests.get(servers[0].url + path, headers=bearer(TOKEN), timeout=10)
    assert response.status_code == (404 if path == "/api/nope" else 200), response.text


def test_token_from_st_secrets(servers):
    server = servers[1]
    assert requests.get(server.url + "/api/metrics", timeout=10).status_code == 401
    assert requests.get(server.url + "/api/metrics", headers=bearer(TOKEN), timeout=10).status_code == 401
    assert requests.get(server.url + "/api/metrics", headers=bearer(SECRET_TOKEN), timeout=10).status_code == 200


def test_health_and_the_dashboard_stay_open(servers):
    for server in servers:
        assert requests.get(server.url + "/health", timeout=10).status_code == 200
        assert requests.get(server.url + "/", timeout=10).status_code == 200
        assert requests.get(server.url + "/_stcore/health", timeout=10).text == "ok"


def test_stream_needs_the_token(servers):
    server = servers[0]
    assert requests.get(server.url + "/api/stream", timeout=10).status_code == 401
    with requests.get(server.url + "/api/stream", headers=bearer(TOKEN), stream=True, timeout=10) as response:
        assert response.status_code == 200
        assert next(response.iter_lines(decode_unicode=True)).startswith("retry:")


def test_cors_for_configured_origins_only(servers):
    server = servers[0]
    preflight = requests.options(
        server.url + "/api/metrics",
        headers={
            "Origin": ORIGIN,
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "authorization",
        },
        timeout=10,
    )
    assert preflight.status_code == 200  # answered before the token check
    assert preflight.headers["access-control-allow-origin"] == ORIGIN
    assert "authorization" in preflight.headers["access-control-allow-headers"].lower()
    simple = requests.get(server.url + "/api/metrics", headers={"Origin": ORIGIN, **bearer(TOKEN)}, timeout=10)
    assert simple.headers["access-control-allow-origin"] == ORIGIN
    denied = requests.get(
        server.url + "/api/metrics", headers={"Origin": "https://evil.example", **bearer(TOKEN)}, timeout=10
    )
    assert "access-control-allow-origin" not in denied.headers
    bad_preflight = requests.options(
        server.url + "/api/metrics",
        headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "GET"},
        timeout=10,
    )
    assert "access-control-allow-origin" not in bad_preflight.headers
    # without PRSM_CORS_ORIGINS there is no CORS at all
    other = requests.get(servers[1].url + "/api/metrics", headers={"Origin": ORIGIN, **bearer(SECRET_TOKEN)})
    assert "access-control-allow-origin" not in other.headers


def test_header_check_is_exact():
    assert authorized(b"Bearer " + TOKEN.encode(), TOKEN)
    assert authorized(b"bearer " + TOKEN.encode(), TOKEN)
    assert not authorized(None, TOKEN)
    assert not authorized(b"Bearer " + TOKEN.encode() + b"x", TOKEN)
    assert not authorized(b"Bearer " + TOKEN[:-1].encode(), TOKEN)
    assert not authorized(b"Token " + TOKEN.encode(), TOKEN)


@pytest.mark.parametrize("value", ["short", "has spaces but is long enough", "tab\tseparated-long-token-value"])
def test_bad_tokens_are_rejected_without_showing_them(value):
    with pytest.raises(ConfigError) as info:
        Settings.from_env({"PRSM_API_TOKEN": value})
    assert value not in str(info.value) and "PRSM_API_TOKEN" in str(info.value)
    assert value not in repr(info.value.value)


def test_secrets_never_show_in_settings_repr():
    settings = Settings.from_env({"PRSM_API_TOKEN": TOKEN, "PRSM_DASHBOARD_PASSWORD": "hunter2-password"})
    assert settings.api_token == TOKEN and settings.dashboard_password == "hunter2-password"
    assert TOKEN not in repr(settings) and "hunter2" not in repr(settings)


@pytest.mark.parametrize(
    "env, field, expected",
    [
        ({"PRSM_HEALTH_AUTH": "yes"}, "health_auth", True),
        ({}, "health_auth", False),
        ({"PRSM_CORS_ORIGINS": " https://a.example , http://b.example:3000 "}, "cors_origins", None),
        ({}, "cors_origins", ()),
        ({"PRSM_API_TOKEN": "  "}, "api_token", None),
    ],
)
def test_new_settings_parse(env, field, expected):
    value = getattr(Settings.from_env(env), field)
    if field == "cors_origins" and expected is None:
        assert value == ("https://a.example", "http://b.example:3000")
    else:
        assert value == expected


@pytest.mark.parametrize(
    "variable, value", [("PRSM_CORS_ORIGINS", "grafana.example.com"), ("PRSM_CORS_ORIGINS", "https://a.example/x")]
)
def test_bad_origins_are_config_errors(variable, value):
    with pytest.raises(ConfigError, match=variable):
        Settings.from_env({variable: value})
