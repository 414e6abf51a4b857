"""The usage of each task, for ``AgentTask.usage`` (server contract §7.2). Kept apart from
:mod:`usage.selectors` so the task wire can import it without pulling in other domains."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import connection


def task_usage_by_task(task_ids: Sequence[Any]) -> dict[str, list[dict[str, Any]]]:
    """``{task_id: [{provider, model, input_tokens, …, cost_usd_ticks?}]}`` in one query;
    tasks without usage are absent."""
    if not task_ids:
        return {}
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT task_id, provider, model, input_tokens, output_tokens, cache_read_tokens,
                   cache_write_tokens, cost_usd_ticks
              FROM task_usage WHERE task_id = ANY(%s::uuid[])
             ORDER BY task_id, model, provider""",
            [[str(t) for t in task_ids]],
        )
        rows = cursor.fetchall()
    out: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        entry: dict[str, Any] = {}
        if r[1]:
            entry["provider"] = r[1]
        entry.update(
            model=r[2], input_tokens=r[3], output_tokens=r[4], cache_read_tokens=r[5],
            cache_write_tokens=r[6],
        )  # fmt: skip
        if r[7] is not None:
            entry["cost_usd_ticks"] = r[7]
        out.setdefault(str(r[0]), []).append(entry)
    return out
