"""`python -m prsm_monitor serve` serves the dashboard and the API on one port; HTTPS works."""

from __future__ import annotations

import datetime
import ipaddress
import signal
import socket
import ssl
import subprocess
import sys

import pytest
import requests

from prsm_monitor.__main__ import _parser, main, serve_command
from prsm_monitor.core.collector import MetricsCollector
from prsm_monitor.settings.model import Settings

from .fixtures.server import ROOT, StreamlitServer, free_port


def run_cli(*args, env=None):
    return subprocess.run(
        [sys.executable, "-m", "prsm_monitor", *args],
        cwd=ROOT,
        env={"PATH": "/usr/bin:/bin", **(env or {})},
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize(
    "args, env, name",
    [
        (["--port", "http"], {}, "--port"),
        (["--port", "70000"], {}, "--port"),
        (["--host", "two words"], {}, "--host"),
        ([], {"PRSM_DASHBOARD_PORT": "-1"}, "PRSM_DASHBOARD_PORT"),
        ([], {"PRSM_DASHBOARD_DEBUG": "perhaps"}, "PRSM_DASHBOARD_DEBUG"),
        ([], {"PRSM_API_TOKEN": "short"}, "PRSM_API_TOKEN"),
    ],
)
def test_serve_bad_values_print_one_line_and_return_2(monkeypatch, capsys, args, env, name):
    for variable, value in env.items():
        monkeypatch.setenv(variable, value)
    assert main(["serve", *args]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and name in err
    assert "short" not in err  # a token is never shown


def test_serve_bad_value_exits_2_from_the_shell():
    result = run_cli("serve", "--port", "http")
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.strip() == "prsm_monitor: --port='http' is invalid: expected a whole number from 1 to 65535"


def test_serve_command_honours_the_environment_and_options():
    settings = Settings.from_env({"PRSM_DASHBOARD_HOST": "0.0.0.0", "PRSM_DASHBOARD_PORT": "8080"})
    args = _parser().parse_args(["serve"])
    command, env = serve_command(settings, args)
    assert command[1:4] == ["-m", "streamlit", "run"] and command[4].endswith("streamlit_app.py")
    assert command[command.index("--server.address") + 1] == "0.0.0.0"
    assert command[command.index("--server.port") + 1] == "8080"
    args = _parser().parse_args(["serve", "--host", "0.0.0.0", "--port", "8080", "--no-demo", "--debug"])
    command, env = serve_command(Settings(), args)
    assert command[command.index("--server.port") + 1] == "8080"
    assert env["PRSM_DEMO"] == "false" and env["PRSM_DASHBOARD_DEBUG"] == "true"
    assert command[command.index("--logger.level") + 1] == "debug"


def test_serve_runs_dashboard_and_api_on_one_port(tmp_path):
    port = free_port()
    command = [sys.executable, "-m", "prsm_monitor", "serve", "--host", "127.0.0.1", "--port", str(port), "--no-demo"]
    env = {"PRSM_DEMO": None, "STREAMLIT_SERVER_HEADLESS": "true", "PRSM_PERSIST": "true"}
    env["PRSM_DATA_DIR"] = str(tmp_path / "history")
    server = StreamlitServer(command=command, env=env)
    try:
        server.wait()
        assert server.url.endswith(f":{port}")
        page = requests.get(server.url + "/", timeout=10)
        assert page.status_code == 200 and '<div id="root">' in page.text  # Streamlit's dashboard page
        metrics = requests.get(server.url + "/api/metrics", timeout=10)
        assert metrics.headers["content-type"].startswith("application/json"), (
            "streamlit_app.py must define app = st.App(__file__, routes=api.routes(), middleware=api.middleware())"
        )
        assert metrics.json()["network"] is None  # --no-demo reached the app as PRSM_DEMO=false
        assert requests.get(server.url + "/health", timeout=10).status_code == 200
        assert "prsm_system_memory_percent" in requests.get(server.url + "/metrics", timeout=10).text
        ticks = requests.get(server.url + "/api/metrics", timeout=10).json()["collector"]["ticks_total"]
        stream = requests.get(server.url + "/api/stream", stream=True, timeout=10)
        assert next(stream.iter_content(64))  # an open event stream while the server stops
    finally:
        server.stop()  # SIGTERM, then SIGKILL after 10 s
    assert server.process.returncode == -signal.SIGTERM, "the open stream held the shutdown"
    # the server's lifespan closed the collector on SIGTERM (uvicorn then re-raises the signal):
    # its last ticks (written once a second) were committed, not lost with the process
    with MetricsCollector(settings=Settings(demo=False, data_dir=str(tmp_path / "history"))) as saved:
        assert saved.history("collector", None)["ticks_total"].max() >= ticks


def self_signed(tmp_path):
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_file, key_file


def fetch_json(url: str, ca: str) -> tuple[int, dict]:
    """GET ``url``; the response (and its TLS socket) is gone on return. A TLS connection
    left open would hold the server's graceful shutdown until asyncio's SSL shutdown timeout."""
    response = requests.get(url, verify=ca, timeout=10)
    return response.status_code, response.json()


def test_api_over_https_with_a_self_signed_certificate(tmp_path):
    pytest.importorskip("cryptography")
    cert_file, key_file = self_signed(tmp_path)
    server = StreamlitServer(args=["--server.sslCertFile", str(cert_file), "--server.sslKeyFile", str(key_file)])
    try:
        server.wait(verify=str(cert_file))
        assert server.url.startswith("https://")
        status, health = fetch_json(server.url + "/health", str(cert_file))
        assert status == 200 and health["status"] in ("healthy", "starting", "degraded")
        assert fetch_json(server.url + "/api/metrics", str(cert_file))[1]["system"] is not None
        host, port = server.url.removeprefix("https://").rsplit(":", 1)
        # the certificate is really checked (and the socket closed at once, whatever happens)
        with (
            socket.create_connection((host, int(port)), timeout=10) as raw,
            pytest.raises(ssl.SSLCertVerificationError),
        ):
            ssl.create_default_context().wrap_socket(raw, server_hostname=host)
        http_url = server.url.replace("https://", "http://")
        with pytest.raises(requests.exceptions.ConnectionError):  # no plain HTTP on that port
            requests.get(http_url + "/health", timeout=10)
    finally:
        server.stop()
