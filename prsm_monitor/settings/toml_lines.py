"""Where a key is written in TOML text: the line numbers a rules file's errors name.

``tomllib`` reports the line of a syntax error but not where a key that parsed fine (and is
wrong) was written; these helpers find it in the text, for the common ways of writing it."""

from __future__ import annotations

import re


def key_line(text: str, rule: str | None, key: str | None) -> int | None:
    """The line (from 1) where ``rules.<rule>.<key>`` is written in ``text``: the key's line
    inside the ``[rules.<rule>]`` table, else the table's header, else None."""
    lines = text.splitlines()
    quoted = rf'(?:{re.escape(rule)}|"{re.escape(rule)}"|\'{re.escape(rule)}\')' if rule else None
    header = re.compile(rf"^\s*\[\s*rules\s*\.\s*{quoted}\s*\]") if quoted else re.compile(r"^\s*\[\s*rules\s*\]")
    dotted = re.compile(rf"^\s*(?:rules\s*\.\s*)?{quoted}\s*\.\s*{re.escape(key)}\s*=") if quoted and key else None
    start = None
    for i, line in enumerate(lines):
        if header.match(line):
            start = i
            break
        if dotted and dotted.match(line):
            return i + 1
    if start is None:
        return None
    if key:
        assignment = re.compile(rf"^\s*(?:{re.escape(key)}|\"{re.escape(key)}\"|'{re.escape(key)}')\s*=")
        for j in range(start + 1, len(lines)):
            if lines[j].lstrip().startswith("["):
                break
            if assignment.match(lines[j]):
                return j + 1
    return start + 1


def top_line(text: str, key: str) -> int | None:
    pattern = re.compile(rf"^\s*\[?\s*{re.escape(key)}\b")
    return next((i + 1 for i, line in enumerate(text.splitlines()) if pattern.match(line)), None)


_HEADER = re.compile(r"^\s*\[+\s*([^\]=]+?)\s*(?:\]|$)")  # a table header, closed or not
_ASSIGNED = re.compile(r"^\s*([A-Za-z0-9_\-.\"' ]+?)\s*=")


def key_at(text: str, line: int | None) -> str:
    """The dotted key written on ``line`` (from 1) under its table, as far as it can be read:
    ``rules.cpu.warning``, the table's name on a header line, or "TOML" when neither."""
    lines = text.splitlines()
    if not line or not 0 < line <= len(lines):
        return "TOML"
    table = next((m.group(1) for row in reversed(lines[: line - 1]) if (m := _HEADER.match(row))), "")
    if m := _HEADER.match(lines[line - 1]):
        return m.group(1)
    if m := _ASSIGNED.match(lines[line - 1]):
        key = m.group(1).replace('"', "").replace("'", "").replace(" ", "")
        return f"{table}.{key}" if table else key
    return table or "TOML"


def line_text(text: str, line: int | None) -> str:
    lines = text.splitlines()
    return lines[line - 1].strip() if line and 0 < line <= len(lines) else ""
