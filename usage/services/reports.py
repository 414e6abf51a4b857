"""The daemon's usage report (daemon contract §1.10): ``POST /api/daemon/tasks/{id}/usage``.

One row per (task, provider, model), upserted: counters overwrite (a corrected report replaces
the previous figure), ``cost_usd_ticks`` is stored only when the provider priced the usage
(> 0), and ``updated_at`` moves on every write. Accepted whatever the task's status: the daemon
reports usage once after the run, also after a cancel or a failure.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db import connection, transaction

from agents.models import AgentTask
from multica_site.errors import ValidationError
from runtimes.models import AgentRuntime
from runtimes.services.claims import Caller, task_for_caller

MAX_ENTRIES = 200
PROVIDER_MAX = 64
MODEL_MAX = 255
COUNTERS = ("input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens")

UPSERT_SQL = """
INSERT INTO task_usage (id, task_id, provider, model, input_tokens, output_tokens,
                        cache_read_tokens, cache_write_tokens, cost_usd_ticks, created_at,
                        updated_at)
VALUES (gen_random_uuid(), %s, %s, %s, %s, %s, %s, %s, %s, now(), now())
ON CONFLICT (task_id, provider, model) DO UPDATE
   SET input_tokens = EXCLUDED.input_tokens,
       output_tokens = EXCLUDED.output_tokens,
       cache_read_tokens = EXCLUDED.cache_read_tokens,
       cache_write_tokens = EXCLUDED.cache_write_tokens,
       cost_usd_ticks = EXCLUDED.cost_usd_ticks,
       updated_at = now()
"""


@dataclass(frozen=True)
class UsageEntry:
    provider: str
    model: str
    input_tokens: int
    output_tokens: int
    cache_read_tokens: int
    cache_write_tokens: int
    cost_usd_ticks: int | None


def normalize_provider(value: str) -> str:
    return value.strip().lower()


def _count(raw: Any) -> int:
    if raw is None:
        return 0
    if isinstance(raw, bool) or not isinstance(raw, int | float) or raw != int(raw):
        raise ValidationError("invalid request body")
    return max(0, int(raw))


def parse_entries(usage: Any) -> list[UsageEntry]:
    """The ``usage`` array of the report; 400 ``invalid request body`` on a malformed one."""
    if usage is None:
        return []
    if not isinstance(usage, list) or len(usage) > MAX_ENTRIES:
        raise ValidationError("invalid request body")
    entries = []
    for item in usage:
        if not isinstance(item, dict):
            raise ValidationError("invalid request body")
        provider = item.get("provider") or ""
        model = item.get("model") or ""
        if not isinstance(provider, str) or not isinstance(model, str):
            raise ValidationError("invalid request body")
        provider = normalize_provider(provider.replace("\x00", ""))
        model = model.replace("\x00", "")
        if len(provider) > PROVIDER_MAX or len(model) > MODEL_MAX:
            raise ValidationError("invalid request body")
        counts = [_count(item.get(name)) for name in COUNTERS]
        cost = _count(item.get("cost_usd_ticks"))
        entries.append(UsageEntry(provider, model, *counts, cost if cost > 0 else None))
    return entries


def task_usage_upsert(*, task: AgentTask, entries: Sequence[UsageEntry]) -> None:
    """Upsert ``entries`` for ``task`` in one transaction. An entry without a provider (older
    daemons) takes the provider of the task's runtime."""
    if not entries:
        return
    fallback = ""
    if any(not e.provider for e in entries) and task.runtime_id is not None:
        provider = (
            AgentRuntime.objects.filter(pk=task.runtime_id)
            .values_list("provider", flat=True)
            .first()
        )
        fallback = normalize_provider(provider or "")[:PROVIDER_MAX]
    rows = [
        (
            task.pk, e.provider or fallback, e.model, e.input_tokens, e.output_tokens,
            e.cache_read_tokens, e.cache_write_tokens, e.cost_usd_ticks,
        )
        for e in entries
    ]  # fmt: skip
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.executemany(UPSERT_SQL, rows)


def task_usage_report(*, caller: Caller, task_id: Any, usage: Any) -> None:
    """The daemon's report: the caller must act for the task's runtime (404 ``task not found``
    otherwise, the same for missing and foreign tasks); the task may have ended."""
    task = task_for_caller(caller, task_id)
    entries = parse_entries(usage)
    task_usage_upsert(task=task, entries=entries)
