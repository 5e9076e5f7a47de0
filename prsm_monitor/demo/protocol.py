"""Wire format of the demo PRSM network: length-prefixed, typed JSON frames.

A frame is a 4-byte big-endian unsigned length ``N`` followed by ``N`` bytes of UTF-8 JSON:
an object whose string field ``type`` names one of :data:`MESSAGES` and which carries at
least the fields listed there. A frame longer than :data:`MAX_FRAME` bytes, an empty one,
or a body that is not such an object is a protocol violation: the receiver counts it and
closes that connection (see :class:`Connection`), and nothing else happens.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable

HEADER_BYTES = 4
MAX_FRAME = 64 * 1024  # bytes of body; larger frames are refused

# type: required fields. Times named ``sent``/``deadline`` are Unix epoch seconds (the demo's
# nodes share one host clock); ``ts`` is the sender's own monotonic clock, echoed back.
MESSAGES: dict[str, tuple[str, ...]] = {
    "hello": ("node", "incarnation"),  # first frame of a peer link, both ways
    "ping": ("seq", "ts"),  # heartbeat; anyone may send it, the answer is a pong
    "pong": ("seq", "ts"),  # echoes the ping's seq and ts: RTT = now - ts at the pinger
    "routes": ("routes",),  # {model: hops} distance vector (anycast routing to model hosts)
    "announce": ("id", "origin", "sent", "load"),  # status gossip, flooded with de-duplication
    "propose": ("id", "origin", "sent", "value", "quorum"),  # consensus proposal, flooded
    "commit": ("id", "origin", "sent", "proposal"),  # the proposer's decision, flooded
    "vote": ("proposal", "voter", "accept"),  # routed back to the proposer on the reverse path
    "infer": ("id", "model", "x", "deadline", "gateway"),  # routed towards the nearest host
    "result": ("id", "ok", "host", "prediction", "confidence", "error"),  # reverse path back
}
FLOODS = frozenset({"announce", "propose", "commit"})
ANONYMOUS_OK = frozenset({"hello", "ping", "pong"})  # allowed before a connection said hello


class FrameError(ValueError):
    """A frame broke the protocol; ``kind`` is ``"oversized"`` or ``"malformed"``."""

    def __init__(self, kind: str, reason: str):
        super().__init__(f"{kind} frame: {reason}")
        self.kind = kind


def encode(message: dict) -> bytes:
    """One frame (header and body) for ``message``; ValueError if the body is too large."""
    body = json.dumps(message, separators=(",", ":")).encode()
    if len(body) > MAX_FRAME:
        raise ValueError(f"a {message.get('type')} message of {len(body)} bytes exceeds MAX_FRAME={MAX_FRAME}")
    return len(body).to_bytes(HEADER_BYTES, "big") + body


def decode_body(body: bytes) -> dict:
    """Parse and check one frame body; FrameError("malformed") if it is not a valid message."""
    try:
        message = json.loads(body)
    except (UnicodeDecodeError, ValueError) as exc:
        raise FrameError("malformed", f"not JSON ({exc})") from None
    if not isinstance(message, dict):
        raise FrameError("malformed", "not a JSON object")
    required = MESSAGES.get(message.get("type"))  # type: ignore[arg-type]
    if required is None:
        raise FrameError("malformed", f"unknown type {message.get('type')!r}")
    missing = [name for name in required if name not in message]
    if missing:
        raise FrameError("malformed", f"{message['type']} without {', '.join(missing)}")
    return message


class FrameDecoder:
    """Splits a byte stream into checked messages."""

    def __init__(self, max_frame: int = MAX_FRAME):
        self.max_frame = max_frame
        self._buffer = bytearray()

    def feed(self, data: bytes) -> list[tuple[dict, int]]:
        """Add bytes; return the complete messages with their frame sizes (bytes, header included).

        Raises FrameError at the first bad frame; the stream is unusable after that."""
        buffer = self._buffer
        buffer += data
        out = []
        while len(buffer) >= HEADER_BYTES:
            size = int.from_bytes(buffer[:HEADER_BYTES], "big")
            if size > self.max_frame:
                raise FrameError("oversized", f"{size} bytes announced, at most {self.max_frame} allowed")
            if size == 0:
                raise FrameError("malformed", "empty frame")
            end = HEADER_BYTES + size
            if len(buffer) < end:
                break
            body = bytes(buffer[HEADER_BYTES:end])
            del buffer[:end]
            out.append((decode_body(body), end))
        return out


class Connection(asyncio.Protocol):
    """One TCP connection carrying frames, either accepted or opened by a node.

    ``on_message(conn, message, size)`` is called for each valid frame and
    ``on_bad_frame(conn, error)`` once for the first bad one, after which the connection is
    closed. ``on_lost(conn)`` is called when the connection is gone. ``closed`` is a future
    done when the transport has been closed (await it to be sure the socket is released).
    """

    def __init__(
        self,
        on_message: Callable[[Connection, dict, int], None],
        on_bad_frame: Callable[[Connection, FrameError], None],
        on_lost: Callable[[Connection], None],
        *,
        outgoing: bool = False,
        max_frame: int = MAX_FRAME,
    ):
        self._on_message = on_message
        self._on_bad_frame = on_bad_frame
        self._on_lost = on_lost
        self.outgoing = outgoing
        self.decoder = FrameDecoder(max_frame)
        self.transport: asyncio.Transport | None = None
        self.peer: str | None = None  # the node name once it said hello
        self.expected: str | None = None  # for an outgoing connection, the node we dialled
        self._loop = asyncio.get_running_loop()
        self.closed: asyncio.Future = self._loop.create_future()
        self._pending: list[bytes] = []  # frames written in this pass of the loop (write)

    def connection_made(self, transport) -> None:
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        if self.transport is None or self.transport.is_closing():
            return
        try:
            messages = self.decoder.feed(data)
        except FrameError as error:
            self.transport.close()
            self._on_bad_frame(self, error)
            return
        for message, size in messages:
            if self.transport.is_closing():
                return
            self._on_message(self, message, size)

    def connection_lost(self, exc) -> None:
        if not self.closed.done():
            self.closed.set_result(None)
        self._on_lost(self)

    def write(self, data: bytes) -> None:
        """Send a frame unless the connection is closing (then it is silently dropped).

        The frames written in one pass of the event loop leave together, in one write at the
        start of the next pass: the demo's timers share one grid (``node.next_beat``), so a
        node sends a peer its ping, a gossip and a vote at the same moment, and one send (one
        wake-up of the peer) carries them all, in order."""
        if not self.is_open:
            return
        if not self._pending:
            self._loop.call_soon(self._flush)
        self._pending.append(data)

    def _flush(self) -> None:
        pending, self._pending = self._pending, []
        if pending and self.is_open:
            self.transport.write(b"".join(pending))

    def close(self) -> None:
        if self.transport is not None:
            self._flush()  # what was written before the close still leaves
            self.transport.close()

    @property
    def is_open(self) -> bool:
        return self.transport is not None and not self.transport.is_closing()
