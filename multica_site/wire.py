"""Wire formatting shared by every domain: Multica's time and date formats."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any


def format_time(value: datetime | None) -> str | None:
    """RFC 3339, second precision, UTC: ``2026-08-22T03:27:39Z``."""
    if value is None:
        return None
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def format_time_nano(value: datetime | None) -> str | None:
    """RFC 3339 with the sub-second part (``last_activity_at``, task messages)."""
    if value is None:
        return None
    text = value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f").rstrip("0").rstrip(".")
    return text + "Z"


def format_date(value: date | None) -> str | None:
    return value.isoformat() if value is not None else None


def str_or_none(value: Any) -> str | None:
    return str(value) if value is not None else None
