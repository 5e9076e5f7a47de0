"""Reading the threshold rules of a TOML file (``PRSM_RULES_FILE``, or ``rules.toml`` beside the app).

One table per rule under ``[rules.<name>]``. A built-in rule's name (``cpu``, ``latency``, ...)
changes that rule; any other name declares a new one::

    [rules.cpu]
    warning = 80
    critical = 95
    for = "5m"            # a breach must last this long (seconds, or "90s", "5m", "1h")
    clear_margin = 5      # a firing rule clears only once the value is back by this much
    average = "1m"        # judge a moving average over this time constant (0: each sample)
    runbook = "https://wiki.example.com/runbooks/cpu"
    description = "This machine's CPU has been busy for minutes on end."
    labels = { team = "infra" }

    [rules.load]
    component = "system"
    field = "load_1m"
    comparison = "above"  # or "below"
    warning = 4
    critical = 8

:func:`load_rules` turns the file into :class:`~.rules.Rule` objects over the built-in ones
and raises :class:`RulesFileError` (a :class:`~.values.ConfigError`) naming the file, the line
and the key of the first problem. Only a regular file of at most :data:`MAX_BYTES` is read (a
FIFO, a device such as ``/dev/zero`` or a directory is refused without reading it), and it is
opened non-blocking. A custom rule's field is checked against ``fields``, the fields the
active sources declare, when the caller passes them (see :mod:`.rules_reader`).

A running collector's file is watched off the tick by :mod:`prsm_monitor.alerts.rules_file`.
"""

import os
import re
import stat
import tomllib
from collections.abc import Mapping
from pathlib import Path

from .rules import Rule
from .rules_reader import RulesFileError, TableReader
from .thresholds import Threshold
from .toml_lines import key_at, line_text

FILE_NAME = "rules.toml"
MAX_BYTES = 1024 * 1024  # a rules file is a few KiB: 1 MiB is far beyond any real one
Fields = Mapping[str, Mapping[str, str]]  # component -> field name -> unit, of the active sources


def default_path() -> Path:
    """``rules.toml`` beside ``streamlit_app.py`` (the working directory when installed elsewhere)."""
    root = Path(__file__).resolve().parents[2]
    return (root if (root / "streamlit_app.py").is_file() else Path.cwd()) / FILE_NAME


_TOML_AT = re.compile(r"\(at line (\d+), column \d+\)")


def parse(
    path: str | os.PathLike,
    text: str,
    thresholds: Mapping[str, Threshold],
    env_set=frozenset(),
    fields: Fields | None = None,
) -> tuple[dict[str, Rule], frozenset[str]]:
    """The rules declared by ``text`` (the file at ``path``) over the built-in ones, and the
    names of the rules whose thresholds it sets. With ``fields``, a custom rule must watch one
    of them. Raises :class:`RulesFileError`."""
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        match = _TOML_AT.search(str(error))
        message = _TOML_AT.sub("", str(error)).strip()
        line = int(match.group(1)) if match else None
        raise RulesFileError(path, line, key_at(text, line), line_text(text, line), f"TOML ({message})") from None
    return TableReader(os.fspath(path), text, thresholds, frozenset(env_set), fields).rules(document)


_KINDS = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a FIFO"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


def _not_regular(mode: int) -> str | None:
    """What a non-regular file is (None: a regular file)."""
    if stat.S_ISREG(mode):
        return None
    return next((what for test, what in _KINDS if test(mode)), "not a regular file")


def _refuse(path, why: str) -> RulesFileError:
    return RulesFileError(path, None, "", os.fspath(path), f"a regular UTF-8 TOML file of at most 1 MiB ({why})")


def read(path: str | os.PathLike) -> str:
    """The text of the rules file at ``path``: a regular file of at most :data:`MAX_BYTES`,
    checked before it is opened and again on the open descriptor (opened non-blocking, so
    that a FIFO swapped in between cannot hang the read)."""
    try:
        before = os.stat(path)
        what = _not_regular(before.st_mode)
        if what:
            raise _refuse(path, f"it is {what}")
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
        try:
            opened = os.fstat(fd)
            what = _not_regular(opened.st_mode)
            if what:
                raise _refuse(path, f"it is {what}")
            if opened.st_size > MAX_BYTES:
                raise _refuse(path, f"it has {opened.st_size:,} bytes")
            chunks, size = [], 0
            while size <= MAX_BYTES:
                chunk = os.read(fd, MAX_BYTES + 1 - size)
                if not chunk:
                    break
                chunks.append(chunk)
                size += len(chunk)
        finally:
            os.close(fd)
        if size > MAX_BYTES:
            raise _refuse(path, "it grew over 1 MiB while read")
        return b"".join(chunks).decode("utf-8")
    except (OSError, UnicodeDecodeError) as error:
        reason = error.strerror if isinstance(error, OSError) and error.strerror else type(error).__name__
        raise RulesFileError(path, None, "", os.fspath(path), f"a readable UTF-8 TOML file ({reason})") from None


def load_rules(
    path: str | os.PathLike, thresholds: Mapping[str, Threshold], env_set=frozenset(), fields: Fields | None = None
) -> tuple[dict[str, Rule], frozenset[str]]:
    """:func:`parse` the file at ``path``."""
    return parse(path, read(path), thresholds, env_set, fields)
