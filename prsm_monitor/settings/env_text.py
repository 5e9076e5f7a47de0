"""Reading one ``PRSM_*`` variable's text: numbers, yes/no words, secrets.

Each helper returns None for a variable that is unset or blank (the setting keeps its
default) and raises :class:`~.values.ConfigError` naming the variable and repeating its text
as given when it is bad.
"""

from __future__ import annotations

from collections.abc import Mapping

from .values import HIDDEN, ConfigError, expecting, finite, parse_boolean


def raw(env: Mapping[str, str], name: str) -> str | None:
    """The variable's text; None when it is unset or blank."""
    text = env.get(name)
    return None if text is None or text.strip() == "" else text


def parse_number(text: str, name: str, expected: str, integer: bool = False) -> float:
    """A number from its text; anything but a usable number (see :func:`finite`) is a ConfigError."""
    try:
        value = int(text) if integer else float(text)
    except (ValueError, OverflowError):
        raise ConfigError(name, text, expected) from None
    if finite(value) is None:
        raise ConfigError(name, text, expecting(expected, value))
    return value


def number(
    env: Mapping[str, str], name: str, default: float | None, low: float, high: float, *, integer: bool = False
) -> float | None:
    """The variable as a number from ``low`` to ``high``; ``default`` when unset."""
    text = raw(env, name)
    if text is None:
        return default
    expected = f"{'a whole number' if integer else 'a number'} at least {low:g} and at most {high:g}"
    value = parse_number(text, name, expected, integer)
    if not low <= value <= high:
        raise ConfigError(name, text, expected)
    return value


def checked(env: Mapping[str, str], name: str, check, integer: bool = False, **options):
    """``check(value, name, **options)`` on a variable's number, or on its text when it is not
    one (the check then rejects it with its own words); errors repeat the text as given.
    None when the variable is unset."""
    text = raw(env, name)
    if text is None:
        return None
    try:
        value = int(text) if integer else float(text)
    except (ValueError, OverflowError):
        value = text
    try:
        return check(value, name, **options)
    except ConfigError as error:
        raise ConfigError(name, text, error.expected) from None


def boolean(env: Mapping[str, str], name: str, default: bool | None) -> bool | None:
    """A yes/no word (true/false, yes/no, on/off, 1/0); ``default`` when unset."""
    text = raw(env, name)
    if text is None:
        return default
    value = parse_boolean(text)
    if value is None:
        raise ConfigError(name, text, "one of true/false, yes/no, on/off, 1/0")
    return value


def secret(env: Mapping[str, str], name: str, *, token: bool = False) -> str | None:
    """A token or password; unset or blank is None. Its value never appears in an error."""
    text = raw(env, name)
    if text is None:
        return None
    if token and (len(text) < 16 or any(not 33 <= ord(c) <= 126 for c in text)):
        raise ConfigError(name, HIDDEN, "at least 16 visible ASCII characters, no spaces (value not shown)")
    return text
