"""Builders for the usage tests: usage rows placed at chosen times, the rollup driven to a given
instant, and the hourly table and the raw aggregation read side by side."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.db import connection

from usage.models import TaskUsage, TaskUsageHourly, TaskUsageHourlyDirty
from usage.services.rollup import SAFETY_LAG, rollup_tick

HOURLY_FIELDS = (
    "bucket_hour", "workspace_id", "runtime_id", "agent_id", "project_id", "provider", "model",
    "input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens", "task_count",
    "event_count", "cost_usd_ticks", "uncosted_input_tokens", "uncosted_output_tokens",
    "uncosted_cache_read_tokens", "uncosted_cache_write_tokens",
)  # fmt: skip


def add_usage(
    task: Any,
    at: datetime,
    *,
    provider: str = "claude",
    model: str = "claude-sonnet",
    bulk: bool = False,
    **counts: Any,
) -> TaskUsage:
    """A usage row created (and last written) at ``at``. ``bulk`` writes it the way a bulk load
    does (no trigger: found only by the ``updated_at`` discovery)."""
    fields = {"input_tokens": 100, "output_tokens": 10, "cache_read_tokens": 5,
              "cache_write_tokens": 1, **counts}  # fmt: skip
    if bulk:
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config('multica.usage_bulk_load', 'on', true)")
    try:
        return TaskUsage.objects.create(
            task=task, provider=provider, model=model, created_at=at, updated_at=at, **fields
        )
    finally:
        if bulk:
            with connection.cursor() as cursor:
                cursor.execute("SELECT set_config('multica.usage_bulk_load', '', true)")


def catch_up(now: datetime, *, max_ticks: int = 400, lookup_hours: int = 48) -> int:
    """Tick until the watermark reaches ``now − lag`` (each tick covers at most a day).
    ``lookup_hours=0`` makes every tick read its hours in one hash-joined pass."""
    written = 0
    for _ in range(max_ticks):
        result = rollup_tick(now=now, lookup_hours=lookup_hours)
        assert result is not None
        written += result.rows
        if result.window_to >= now - SAFETY_LAG:
            return written
    raise AssertionError("the rollup did not catch up")


def hourly_rows() -> list[tuple]:
    return sorted(
        TaskUsageHourly.objects.values_list(*HOURLY_FIELDS), key=lambda r: tuple(map(str, r))
    )


def hourly_snapshot() -> list[tuple]:
    """Every hourly row including ``updated_at``: equal before and after means untouched."""
    return sorted(
        TaskUsageHourly.objects.values_list("id", *HOURLY_FIELDS, "updated_at"),
        key=lambda r: r[0],
    )


def queued() -> int:
    return TaskUsageHourlyDirty.objects.count()


def expected_hourly() -> list[tuple]:
    """The rollup recomputed in Python from the raw rows (the definition, independently)."""
    buckets: dict[tuple, dict[str, Any]] = {}
    rows = TaskUsage.objects.select_related("task__agent", "task__issue").filter(
        task__runtime_id__isnull=False
    )
    for u in rows:
        task = u.task
        key = (
            u.created_at.replace(minute=0, second=0, microsecond=0),
            task.agent.workspace_id, task.runtime_id, task.agent_id,
            task.issue.project_id if task.issue_id else None, u.provider, u.model,
        )  # fmt: skip
        b = buckets.setdefault(key, {"tasks": set(), "events": 0, "sums": [0] * 9})
        b["tasks"].add(task.pk)
        b["events"] += 1
        uncosted = u.cost_usd_ticks is None
        tokens = (u.input_tokens, u.output_tokens, u.cache_read_tokens, u.cache_write_tokens)
        for i, v in enumerate(tokens):
            b["sums"][i] += v
            b["sums"][5 + i] += v if uncosted else 0
        b["sums"][4] += u.cost_usd_ticks or 0
    out = []
    for key, b in buckets.items():
        s = b["sums"]
        out.append((*key, s[0], s[1], s[2], s[3], len(b["tasks"]), b["events"], s[4], *s[5:]))
    return sorted(out, key=lambda r: tuple(map(str, r)))


def hours(n: float) -> timedelta:
    return timedelta(hours=n)
