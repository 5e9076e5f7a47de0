"""The one HTTP client for outside reads, against real sockets: a total deadline that a
dripping peer cannot stretch, a size cap, no redirects, and no secret in any message."""

from __future__ import annotations

import socket
import threading
import time

import pytest

from prsm_monitor import redact
from prsm_monitor.outside import Client, OutsideError, fetch
from prsm_monitor.outside import http as outside_http


class Peer:
    """A raw TCP server on loopback that answers each connection with ``reply(sock)``."""

    def __init__(self, reply):
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.reply = reply
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        self.server.settimeout(0.2)
        while not self.stop.is_set():
            try:
                sock, _ = self.server.accept()
            except TimeoutError:
                continue
            except OSError:  # closed by close()
                return
            threading.Thread(target=self._one, args=(sock,), daemon=True).start()

    def _one(self, sock):
        try:
            sock.recv(65536)
            self.reply(sock, self.stop)
        except OSError:
            pass
        finally:
            sock.close()

    def close(self):
        self.stop.set()
        self.thread.join(timeout=5)
        self.server.close()


@pytest.fixture
def peer():
    made = []

    def make(reply):
        made.append(Peer(reply))
        return made[-1]

    yield make
    for p in made:
        p.close()


def _drip(sock, stop):
    sock.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n")
    while not stop.wait(0.2):
        sock.sendall(b"x")


def _drip_closing(sock, stop):
    """As http.server answers: HTTP/1.0, so http.client hands the socket to the response."""
    sock.sendall(b"HTTP/1.0 200 OK\r\nContent-Length: 1000\r\n\r\n")
    while not stop.wait(0.2):
        sock.sendall(b"x")


def _drip_headers(sock, stop):
    for ch in b"HTTP/1.1 200 OK\r\nX-Slow: " + b"a" * 1000:
        if stop.wait(0.1):
            return
        sock.sendall(bytes([ch]))


def _ok(body=b'{"a": 1}', extra=b""):
    def reply(sock, stop):
        sock.sendall(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n%s\r\n" % (len(body), extra)
            + body
        )

    return reply


@pytest.mark.parametrize("reply", [_drip, _drip_closing, _drip_headers], ids=["body", "closing", "headers"])
def test_a_dripping_peer_is_cut_at_the_total_deadline(peer, reply):
    p = peer(reply)
    client = Client(f"http://127.0.0.1:{p.port}", deadline=0.6)
    started = time.monotonic()
    with pytest.raises(OutsideError) as caught:
        client.get("/status")
    took = time.monotonic() - started
    assert caught.value.kind == outside_http.TIMEOUT
    assert "0.6 s" in str(caught.value)
    # every byte came within the per-read timeout, so only a total deadline ends it: well before
    # the 20 s (body) or 100 s (headers) the drip would take
    assert took < 5


def test_a_redirect_is_not_followed(peer):
    followed = []
    probe = peer(lambda sock, stop: followed.append(1))
    redirect = peer(
        lambda sock, stop: sock.sendall(
            b"HTTP/1.1 302 Found\r\nLocation: http://127.0.0.1:%d/ssrf-probe\r\nContent-Length: 0\r\n\r\n" % probe.port
        )
    )
    with pytest.raises(OutsideError) as caught:
        Client(f"http://127.0.0.1:{redirect.port}").get_json("/status")
    assert caught.value.kind == outside_http.REDIRECT
    assert "ssrf-probe" in str(caught.value)
    assert followed == []


def test_a_body_over_the_cap_is_refused(peer):
    p = peer(_ok(b"x" * 5000))
    with pytest.raises(OutsideError) as caught:
        Client(f"http://127.0.0.1:{p.port}", max_bytes=4096).get("/")
    assert caught.value.kind == outside_http.TOO_LARGE


def test_undeclared_length_over_the_cap_is_refused(peer):
    def reply(sock, stop):
        sock.sendall(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n" + b"y" * 10000)

    p = peer(reply)
    with pytest.raises(OutsideError) as caught:
        fetch(f"http://127.0.0.1:{p.port}/", max_bytes=4096)
    assert caught.value.kind == outside_http.TOO_LARGE


def test_json_and_keep_alive(peer):
    p = peer(_ok())
    client = Client(f"http://127.0.0.1:{p.port}/base")
    assert client.get_json("/x") == {"a": 1}
    assert client.get_json("/y") == {"a": 1}  # the server closed: a new connection, no error


def test_no_secret_in_any_message(peer):
    dead = socket.create_server(("127.0.0.1", 0))
    port = dead.getsockname()[1]
    dead.close()
    with pytest.raises(OutsideError) as caught:
        Client(f"http://nodeuser:NODEPW@127.0.0.1:{port}/tok/abcdef123456").get("/status")
    assert caught.value.kind == outside_http.UNREACHABLE
    assert "NODEPW" not in str(caught.value) and "abcdef123456" not in str(caught.value)
    assert "127.0.0.1" in str(caught.value)


@pytest.mark.parametrize(
    ("url", "secrets"),
    [
        ("json://bob:BOBPW@127.0.0.1:8660/hook?%2BAuthorization=Bearer%20HDRSECRET", ("BOBPW", "HDRSECRET")),
        ("http://inst:INSTPW@127.0.0.1:8662", ("INSTPW",)),
        ("slack://T0SECRETA/B0SECRETB/C0SECRETC", ("T0SECRETA", "B0SECRETB", "C0SECRETC")),
        ("ftp://am:AMSECRET@host", ("AMSECRET",)),
        ("https://h.example/api?token=TOKSECRET&x=1", ("TOKSECRET",)),
        ("https://hooks.example/services/T000/B000/XXXXXXXX4bc123", ("XXXXXXXX4bc123",)),
    ],
)
def test_redaction_hides_every_kind_of_secret(url, secrets):
    shown = redact.url(url)
    for secret in secrets:
        assert secret not in shown
    assert shown.split("://")[0] == url.split("://")[0]
    text = redact.text(f"edge={url}, bad")
    assert all(secret not in text for secret in secrets)
    assert text.startswith("edge=") and text.endswith(", bad")


def test_redaction_keeps_what_is_not_secret():
    assert redact.url("http://127.0.0.1:8670/plain") == "http://127.0.0.1:8670/plain"
    assert redact.url("https://alertmanager.example:9093") == "https://alertmanager.example:9093"
