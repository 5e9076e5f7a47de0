"""A node's memory as the demo accounts it, and the slow memory leak a presenter can inject.

A node holds its models' parameters (NumPy arrays) and, once :meth:`Memory.leak` is called,
a growing list of real buffers: every heartbeat it allocates and fills what the leak rate
owes since the last one (``bytearray(b"\\x01") * n`` writes every byte, so the pages are
really resident). ``memory_bytes`` is what the node holds, ``limit_bytes`` its memory limit:
at the limit the node is stopped as an out-of-memory kill would stop it, and its next
incarnation starts clean. The time from the leak's start to that stop is the ground truth a
forecast of the node's ``memory_percent`` is judged against (``bench/bench_insight.py``).
"""

from __future__ import annotations

MIB = 1024 * 1024
DEFAULT_LIMIT_MB = 64.0
CHUNK = 256 * 1024  # bytes per allocated buffer, so the list stays short and each buffer touched


class Memory:
    """Bytes one node incarnation holds: ``base_bytes`` (its models) plus the leak's buffers."""

    def __init__(self, base_bytes: int, limit_bytes: int):
        self.base_bytes = base_bytes
        self.limit_bytes = limit_bytes
        self.rate = 0.0  # leaked bytes per second
        self._held: list[bytearray] = []
        self._leaked = 0
        self._since: float | None = None

    def leak(self, bytes_per_s: float, now: float) -> None:
        """Leak ``bytes_per_s`` from ``now`` on (0 stops the growth; what leaked stays held)."""
        self.grow(now)
        self.rate = float(bytes_per_s)
        self._since = now if bytes_per_s > 0 else None

    def grow(self, now: float) -> None:
        """Allocate what the leak owes since the last call."""
        if self._since is None or self.rate <= 0:
            return
        owed = int(self.rate * (now - self._since))
        if owed < CHUNK:
            return
        self._since += owed / self.rate
        while owed > 0:
            size = min(CHUNK, owed)
            self._held.append(bytearray(b"\x01") * size)
            self._leaked += size
            owed -= size

    def free(self) -> None:
        """Stop the leak and release what it held (the fix deployed)."""
        self.rate, self._since = 0.0, None
        self._held.clear()
        self._leaked = 0

    @property
    def memory_bytes(self) -> int:
        return self.base_bytes + self._leaked

    @property
    def exhausted(self) -> bool:
        return self.memory_bytes >= self.limit_bytes
