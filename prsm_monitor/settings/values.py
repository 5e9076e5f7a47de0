"""The error every bad setting raises, and the checks of plain values all settings share.

:class:`ConfigError` names the setting, the value it had and what is expected, in one line;
:func:`finite` says whether a value is a usable real number; :func:`parse_boolean` reads a
yes/no word.
"""

from __future__ import annotations

import math
import numbers
import sys

from .. import redact

TRUE_WORDS = frozenset({"1", "true", "yes", "on"})
FALSE_WORDS = frozenset({"0", "false", "no", "off"})
MAX_SHOWN = 120  # characters of a bad value repeated in an error message


class ConfigError(ValueError):
    """A setting has a value we cannot use. ``str(error)`` is one line for the user.

    ``value`` is kept as it may be shown: the secrets of any URL in it (passwords, tokens in
    paths and queries, Apprise tokens) replaced by ``****`` (:mod:`prsm_monitor.redact`), since
    the message reaches logs, pages and ``/health``."""

    def __init__(self, variable: str, value: object, expected: str):
        if isinstance(value, str):
            value = redact.text(value)
        elif not isinstance(value, (int, float, type(None))) and redact.text(repr(value)) != repr(value):
            value = redact.text(repr(value))  # a table or list with URLs in it: its redacted text
        self.variable = variable
        self.value = value
        self.expected = expected
        shown = repr(value)
        if len(shown) > MAX_SHOWN:
            shown = shown[: MAX_SHOWN - 1] + "…"
        super().__init__(f"{variable}={shown} is invalid: expected {expected}")


class Hidden:
    """Stands for a secret in messages: its repr never shows the value."""

    def __repr__(self) -> str:
        return "<hidden>"

    __str__ = __repr__


HIDDEN = Hidden()


def finite(value) -> float | None:
    """``value`` as a float when it is a usable real number, else None.

    Usable: a real number (``bool`` is not one) that is finite and either zero or of normal
    magnitude. Infinities, NaN, integers too large for a float (``1`` and 400 zeros) and
    subnormal numbers such as ``1e-320`` (whose reciprocal overflows) are not."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return None
    try:
        number = float(value)
    except (OverflowError, ValueError, TypeError):
        return None
    if not math.isfinite(number) or (number != 0.0 and abs(number) < sys.float_info.min):
        return None
    return number


def between(low: float, high: float) -> str:
    return f"a number from {low:g} to {high:g}"


def expecting(expected: str, value) -> str:
    """``expected``, plus the reason when ``value`` is in range but too close to 0 to use."""
    if isinstance(value, float) and value != 0.0 and abs(value) < sys.float_info.min:
        return f"{expected} (one this close to 0 is not usable: use 0)"
    return expected


def parse_boolean(raw: str) -> bool | None:
    """True or False for a yes/no word (true/false, yes/no, on/off, 1/0); None for anything else."""
    word = raw.strip().lower()
    return True if word in TRUE_WORDS else False if word in FALSE_WORDS else None
