"""Every value with its unit, written one way: :func:`value_text` and :func:`range_text`.

Units are the fields' own (:mod:`prsm_monitor.fields`): ``%``, ``ms``, ``s``, ``B/s``,
``messages/s``, ``GB``; ``1`` (or nothing) for counts and ratios. Three significant digits,
never an exponent: ``11.6 k messages/s``, ``1.2 MB/s``, ``99.9%``, ``43.5 ms``, ``1.5 s``
(milliseconds from a second up read as seconds); ``–`` for a missing value. A leaf module:
it imports nothing of the project.
"""

from __future__ import annotations

import math

MISSING = "–"
PREFIXES = ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k"))
SYMBOLS = ("B", "B/s", "Hz")  # units written right after their prefix (MB/s); others after a space (k messages/s)
PLAIN = ("", "1")


def number(value: float) -> str:
    """Three significant digits without an exponent and without trailing zeros: ``91.4``,
    ``0.0123``, ``100``, ``0``."""
    if value == 0:
        return "0"
    if abs(value) < 1e-4:
        return f"{value:.1e}"
    digits = max(0, 2 - math.floor(math.log10(abs(value))))
    text = f"{value:.{digits}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _scale(value: float, unit: str) -> tuple[float, str]:
    """The divisor and the prefix (with its spacing) for ``value`` in ``unit``."""
    if unit == "%" or abs(value) < 1000 or unit in ("ms", "s"):
        return 1.0, ""
    for size, prefix in PREFIXES:
        if abs(value) >= size * 0.9995:  # 999,950 reads 1 M, not 1000 k
            return size, prefix
    return 1.0, ""


def _join(text: str, prefix: str, unit: str) -> str:
    if unit in PLAIN:
        return f"{text} {prefix}" if prefix else text
    if unit == "%":
        return f"{text}%"
    if prefix and unit in SYMBOLS:
        return f"{text} {prefix}{unit}"
    return f"{text} {prefix + ' ' if prefix else ''}{unit}"


def _seconds(value: float, unit: str) -> tuple[float, str]:
    return (value / 1000.0, "s") if unit == "ms" and abs(value) >= 1000 else (value, unit)


def value_text(value: float | None, unit: str = "") -> str:
    """``value`` in ``unit`` as people read it (see the module doc); ``–`` when missing."""
    if value is None or not math.isfinite(value):
        return MISSING
    value, unit = _seconds(float(value), unit)
    size, prefix = _scale(value, unit)
    return _join(number(value / size), prefix, unit)


def range_text(low: float | None, high: float | None, unit: str = "") -> str:
    """``0 to 91.4%``, ``2.1 to 11.6 k messages/s``: both ends on the scale of the larger, the
    unit said once."""
    if low is None or high is None or not (math.isfinite(low) and math.isfinite(high)):
        return f"{value_text(low, unit)} to {value_text(high, unit)}"
    big = max(abs(low), abs(high))
    factor = 1000.0 if unit == "ms" and big >= 1000 else 1.0
    unit = "s" if factor != 1.0 else unit
    size, prefix = _scale(big / factor, unit)
    return f"{number(low / factor / size)} to {_join(number(high / factor / size), prefix, unit)}"
