"""Output helpers: JSON pretty-printed with 2-space indent, aligned tables, messages on stderr."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterable, Sequence
from typing import Any

Column = tuple[str, str | Callable[[dict[str, Any]], Any]]

MAX_CELL = 60


def print_json(data: Any) -> None:
    """The server's response as JSON with a 2-space indent (spec §5.1)."""
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")


def info(message: str) -> None:
    """A human message: always stderr, so stdout stays machine-readable."""
    sys.stderr.write(message + "\n")


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return ", ".join(_cell(v) for v in value)
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False)
    text = " ".join(str(value).split())
    if len(text) > MAX_CELL:
        text = text[: MAX_CELL - 1] + "…"
    return text


def _value(row: dict[str, Any], getter: str | Callable[[dict[str, Any]], Any]) -> Any:
    if callable(getter):
        return getter(row)
    value: Any = row
    for part in getter.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


def format_table(rows: Iterable[dict[str, Any]], columns: Sequence[Column]) -> str:
    """Rows as left-aligned columns under upper-case headers, two spaces apart."""
    header = [title.upper() for title, _ in columns]
    body = [[_cell(_value(row, getter)) for _, getter in columns] for row in rows]
    widths = [len(h) for h in header]
    for line in body:
        widths = [max(w, len(c)) for w, c in zip(widths, line, strict=True)]
    lines = []
    for line in [header, *body]:
        padded = [c.ljust(w) for c, w in zip(line, widths, strict=True)]
        lines.append("  ".join(padded).rstrip())
    return "\n".join(lines) + "\n"


def print_table(rows: Iterable[dict[str, Any]], columns: Sequence[Column]) -> None:
    sys.stdout.write(format_table(rows, columns))


def print_fields(obj: dict[str, Any], fields: Sequence[Column]) -> None:
    """One object as ``KEY: value`` lines (the table form of a single resource)."""
    width = max((len(title) for title, _ in fields), default=0)
    for title, getter in fields:
        value = _value(obj, getter)
        text = "" if value is None else _cell(value) if not isinstance(value, str) else value
        sys.stdout.write(f"{(title + ':').ljust(width + 1)} {text}\n")


def emit(
    data: Any,
    output: str | None,
    *,
    columns: Sequence[Column] | None = None,
    rows: Iterable[dict[str, Any]] | None = None,
    fields: Sequence[Column] | None = None,
    default: str = "json",
) -> None:
    """Print ``data`` as JSON, or as a table of ``rows`` (or key/value ``fields``)."""
    fmt = output or default
    if fmt == "json" or (columns is None and fields is None):
        print_json(data)
    elif columns is not None:
        print_table(rows if rows is not None else data, columns)
    else:
        print_fields(data, fields or [])
