"""Usage reads (server contract §6.2–6.3, §3.3 issue usage).

Runtime daily usage and the dashboard's token series read the hourly rollup when
``settings.USAGE_ROLLUP_READS`` is on (O(buckets)); otherwise, and for tests that prove the two
agree, the same figures come from ``task_usage`` directly (O(events)). By-agent, by-hour and
issue usage always read ``task_usage``, as Multica does. Run time, failures and a runtime's
hourly activity count tasks, so they read ``agent_task_queue`` (one aggregate each), as Multica
does.

Windows: ``days`` (1..365, else the default) counts local days in the viewer's time zone
(``?tz=`` ⇒ the user's ``timezone`` ⇒ UTC); date-bucketed series start at local midnight
``days`` days ago, rows without a date start ``days − 1`` days ago (exactly N calendar days).
Rollup buckets are UTC hours, so for zones with a sub-hour offset the rollup cuts days at the
hour; the raw path cuts them exactly.
"""

# The SQL below is assembled from constant fragments only; every value is a bound parameter.
# ruff: noqa: S608

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.db import connection
from django.utils import timezone

from agents.access import can_view_agent
from agents.models import Agent, AgentInvocationTarget
from issues.selectors import issue_get, parse_uuid
from runtimes.services.runtimes import runtime_get
from workspaces.context import WorkspaceContext

UTC_ZONE = ZoneInfo("UTC")
MAX_DAYS = 365
RESTRICTED_AGENTS = "__restricted_agents__"
TOKENS = ("input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens")
COST = (
    "cost_usd_ticks", "uncosted_input_tokens", "uncosted_output_tokens",
    "uncosted_cache_read_tokens", "uncosted_cache_write_tokens",
)  # fmt: skip
T = TOKENS + COST

# --- parameters -------------------------------------------------------------------------------


def rollup_reads_enabled() -> bool:
    return bool(getattr(settings, "USAGE_ROLLUP_READS", True))


_PG_ZONES: set[str] = set()


def _known_to_postgres(name: str) -> bool:
    """The zone names PostgreSQL knows (read once per process): a name Python accepts but the
    database does not would fail the query, so it falls back like an unknown one."""
    if not _PG_ZONES:
        with connection.cursor() as cursor:
            cursor.execute("SELECT name FROM pg_timezone_names")
            _PG_ZONES.update(row[0] for row in cursor.fetchall())
    return name in _PG_ZONES


def resolve_tz(raw: str | None, user: Any = None) -> ZoneInfo:
    """``?tz=`` if it names a zone, else the user's stored ``timezone``, else UTC."""
    for candidate in (raw, getattr(user, "timezone", None)):
        name = (candidate or "").strip()
        if not name:
            continue
        try:
            zone = ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            continue
        if _known_to_postgres(zone.key):
            return zone
    return UTC_ZONE


def parse_days(raw: Any, default: int) -> int:
    try:
        days = int(str(raw).strip())
    except (TypeError, ValueError):
        return default
    return days if 1 <= days <= MAX_DAYS else default


def since_from_days(now: datetime, days: int, tz: ZoneInfo) -> datetime:
    """Local midnight ``days`` days before ``now``'s local date, as an instant."""
    local_day = now.astimezone(tz).date() - timedelta(days=days)
    return datetime(local_day.year, local_day.month, local_day.day, tzinfo=tz)


@dataclass(frozen=True)
class Window:
    tz: ZoneInfo
    since: datetime

    @property
    def tz_name(self) -> str:
        return self.tz.key


def window(
    params: Mapping[str, Any],
    *,
    user: Any = None,
    default_days: int,
    exact: bool = False,
    now: datetime | None = None,
) -> Window:
    """The window of a request: ``days`` and ``tz`` from ``params``. ``exact`` gives exactly N
    calendar days (for rows without a date), else N + 1 (today and N full days before)."""
    tz = resolve_tz(params.get("tz"), user)
    days = parse_days(params.get("days"), default_days)
    return Window(tz, since_from_days(now or timezone.now(), days - (1 if exact else 0), tz))


def _project(params: Mapping[str, Any]) -> uuid.UUID | None:
    raw = params.get("project_id")
    if raw in (None, ""):
        return None
    return parse_uuid(raw, "project_id")


# --- SQL --------------------------------------------------------------------------------------

_ROLLUP_T = """
    SUM(input_tokens)::bigint, SUM(output_tokens)::bigint,
    SUM(cache_read_tokens)::bigint, SUM(cache_write_tokens)::bigint,
    SUM(cost_usd_ticks)::bigint,
    SUM(COALESCE(uncosted_input_tokens, input_tokens))::bigint,
    SUM(COALESCE(uncosted_output_tokens, output_tokens))::bigint,
    SUM(COALESCE(uncosted_cache_read_tokens, cache_read_tokens))::bigint,
    SUM(COALESCE(uncosted_cache_write_tokens, cache_write_tokens))::bigint"""

_RAW_T = """
    SUM(tu.input_tokens)::bigint, SUM(tu.output_tokens)::bigint,
    SUM(tu.cache_read_tokens)::bigint, SUM(tu.cache_write_tokens)::bigint,
    COALESCE(SUM(tu.cost_usd_ticks), 0)::bigint,
    COALESCE(SUM(tu.input_tokens) FILTER (WHERE tu.cost_usd_ticks IS NULL), 0)::bigint,
    COALESCE(SUM(tu.output_tokens) FILTER (WHERE tu.cost_usd_ticks IS NULL), 0)::bigint,
    COALESCE(SUM(tu.cache_read_tokens) FILTER (WHERE tu.cost_usd_ticks IS NULL), 0)::bigint,
    COALESCE(SUM(tu.cache_write_tokens) FILTER (WHERE tu.cost_usd_ticks IS NULL), 0)::bigint"""

RUNTIME_DAILY_ROLLUP = f"""
SELECT DATE(bucket_hour AT TIME ZONE %(tz)s), LOWER(provider), model, {_ROLLUP_T}
  FROM task_usage_hourly
 WHERE runtime_id = %(runtime_id)s AND bucket_hour >= %(since)s
 GROUP BY 1, 2, 3
 ORDER BY 1 DESC, 2, 3"""

RUNTIME_DAILY_RAW = f"""
SELECT DATE(tu.created_at AT TIME ZONE %(tz)s), LOWER(tu.provider), tu.model, {_RAW_T}
  FROM task_usage tu
  JOIN agent_task_queue atq ON atq.id = tu.task_id
 WHERE atq.runtime_id = %(runtime_id)s AND tu.created_at >= %(since)s
 GROUP BY 1, 2, 3
 ORDER BY 1 DESC, 2, 3"""

RUNTIME_BY_AGENT_RAW = f"""
SELECT atq.agent_id, LOWER(tu.provider), tu.model, {_RAW_T}, COUNT(DISTINCT tu.task_id)::int
  FROM task_usage tu
  JOIN agent_task_queue atq ON atq.id = tu.task_id
 WHERE atq.runtime_id = %(runtime_id)s AND tu.created_at >= %(since)s
 GROUP BY 1, 2, 3
 ORDER BY 1, 2, 3"""

RUNTIME_BY_HOUR_RAW = f"""
SELECT EXTRACT(HOUR FROM tu.created_at AT TIME ZONE %(tz)s)::int, tu.model, {_RAW_T},
       COUNT(DISTINCT tu.task_id)::int
  FROM task_usage tu
  JOIN agent_task_queue atq ON atq.id = tu.task_id
 WHERE atq.runtime_id = %(runtime_id)s AND tu.created_at >= %(since)s
 GROUP BY 1, 2
 ORDER BY 1, 2"""

ISSUE_TOTALS_RAW = f"""
SELECT {_RAW_T}, COUNT(DISTINCT tu.task_id)::int
  FROM task_usage tu
  JOIN agent_task_queue atq ON atq.id = tu.task_id
 WHERE atq.issue_id = %(issue_id)s"""

_PROJECT_ROLLUP = "AND (%(project_id)s::uuid IS NULL OR project_id = %(project_id)s::uuid)"
_PROJECT_RAW = "AND (%(project_id)s::uuid IS NULL OR i.project_id = %(project_id)s::uuid)"
_RAW_WORKSPACE_FROM = """
  FROM task_usage tu
  JOIN agent_task_queue atq ON atq.id = tu.task_id
  JOIN agent a ON a.id = atq.agent_id
  LEFT JOIN issue i ON i.id = atq.issue_id
 WHERE a.workspace_id = %(workspace_id)s AND atq.runtime_id IS NOT NULL
   AND tu.created_at >= %(since)s"""

DASHBOARD_DAILY_ROLLUP = f"""
SELECT DATE(bucket_hour AT TIME ZONE %(tz)s), LOWER(provider), model, {_ROLLUP_T},
       SUM(task_count)::int
  FROM task_usage_hourly
 WHERE workspace_id = %(workspace_id)s AND bucket_hour >= %(since)s {_PROJECT_ROLLUP}
 GROUP BY 1, 2, 3
 ORDER BY 1 DESC, 2, 3"""

DASHBOARD_DAILY_RAW = f"""
SELECT DATE(tu.created_at AT TIME ZONE %(tz)s), LOWER(tu.provider), tu.model, {_RAW_T},
       COUNT(DISTINCT tu.task_id)::int
{_RAW_WORKSPACE_FROM} {_PROJECT_RAW}
 GROUP BY 1, 2, 3
 ORDER BY 1 DESC, 2, 3"""

DASHBOARD_BY_AGENT_ROLLUP = f"""
SELECT agent_id, LOWER(provider), model, {_ROLLUP_T}, SUM(task_count)::int
  FROM task_usage_hourly
 WHERE workspace_id = %(workspace_id)s AND bucket_hour >= %(since)s {_PROJECT_ROLLUP}
 GROUP BY 1, 2, 3
 ORDER BY 1, 2, 3"""

DASHBOARD_BY_AGENT_RAW = f"""
SELECT atq.agent_id, LOWER(tu.provider), tu.model, {_RAW_T}, COUNT(DISTINCT tu.task_id)::int
{_RAW_WORKSPACE_FROM} {_PROJECT_RAW}
 GROUP BY 1, 2, 3
 ORDER BY 1, 2, 3"""


# Run time and failures read ``agent_task_queue`` (as Multica does: the rollup holds tokens, not
# task outcomes), one aggregate per request; the rollup switch does not apply to them.
RUNTIME_ACTIVITY = """
SELECT EXTRACT(HOUR FROM started_at AT TIME ZONE %(tz)s)::int, COUNT(*)::int
  FROM agent_task_queue
 WHERE runtime_id = %(runtime_id)s AND workspace_id = %(workspace_id)s
   AND started_at IS NOT NULL
 GROUP BY 1
 ORDER BY 1"""

# Terminal runs that occupied an agent (a run cancelled while queued never started), anchored on
# completed_at in the viewer's window.
_RUN_TIME = """
    COALESCE(SUM(EXTRACT(EPOCH FROM (atq.completed_at - atq.started_at))), 0)::bigint,
    COUNT(*)::int,
    (COUNT(*) FILTER (WHERE atq.status = 'failed'))::int,
    (COUNT(*) FILTER (WHERE atq.status = 'cancelled'))::int"""
_RUN_TIME_FROM = f"""
  FROM agent_task_queue atq
  LEFT JOIN issue i ON i.id = atq.issue_id
 WHERE atq.workspace_id = %(workspace_id)s
   AND atq.status IN ('completed', 'failed', 'cancelled')
   AND atq.started_at IS NOT NULL AND atq.completed_at IS NOT NULL
   AND atq.completed_at >= %(since)s {_PROJECT_RAW}"""

DASHBOARD_RUN_TIME_DAILY = f"""
SELECT DATE(atq.completed_at AT TIME ZONE %(tz)s), {_RUN_TIME}
{_RUN_TIME_FROM}
 GROUP BY 1
 ORDER BY 1 DESC"""

DASHBOARD_AGENT_RUN_TIME = f"""
SELECT atq.agent_id, {_RUN_TIME}
{_RUN_TIME_FROM}
 GROUP BY 1
 ORDER BY 2 DESC, 1"""

# Every completed or failed task (a task that expired in the queue never started but did fail);
# failure_reason "" is the succeeded bucket, a failure without a reason is "unclassified".
_FAILURE_REASON = """
    CASE WHEN atq.status = 'failed' THEN COALESCE(NULLIF(atq.failure_reason, ''), 'unclassified')
         ELSE '' END"""
_FAILURES_FROM = f"""
  FROM agent_task_queue atq
  LEFT JOIN issue i ON i.id = atq.issue_id
 WHERE atq.workspace_id = %(workspace_id)s
   AND atq.status IN ('completed', 'failed')
   AND atq.completed_at IS NOT NULL
   AND atq.completed_at >= %(since)s {_PROJECT_RAW}"""

DASHBOARD_FAILURES_DAILY = f"""
SELECT DATE(atq.completed_at AT TIME ZONE %(tz)s), {_FAILURE_REASON}, COUNT(*)::int
{_FAILURES_FROM}
 GROUP BY 1, 2
 ORDER BY 1 DESC, 2"""

DASHBOARD_FAILURES_BY_AGENT = f"""
SELECT atq.agent_id, {_FAILURE_REASON}, COUNT(*)::int
{_FAILURES_FROM}
 GROUP BY 1, 2
 ORDER BY 1, 2"""


def _rows(sql: str, params: Mapping[str, Any]) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _t(values: Sequence[Any]) -> dict[str, int]:
    return {name: int(v or 0) for name, v in zip(T, values, strict=True)}


def _date(value: date) -> str:
    return value.isoformat()


def _use_rollup(source: str | None) -> bool:
    if source is None:
        return rollup_reads_enabled()
    return source == "rollup"


# --- runtime usage ----------------------------------------------------------------------------


def runtime_usage_daily_rows(
    runtime_id: uuid.UUID, win: Window, *, source: str | None = None
) -> list[dict[str, Any]]:
    """``[{runtime_id, date, provider, model, T}]``, date DESC."""
    sql = RUNTIME_DAILY_ROLLUP if _use_rollup(source) else RUNTIME_DAILY_RAW
    rows = _rows(sql, {"runtime_id": runtime_id, "tz": win.tz_name, "since": win.since})
    rid = str(runtime_id)
    return [
        {"runtime_id": rid, "date": _date(r[0]), "provider": r[1], "model": r[2], **_t(r[3:12])}
        for r in rows
    ]


def runtime_usage_daily(
    *,
    ctx: WorkspaceContext,
    runtime_id: Any,
    params: Mapping[str, Any],
    now: datetime | None = None,
) -> list[dict[str, Any]]:
    runtime = runtime_get(ctx=ctx, runtime_id=runtime_id)
    win = window(params, user=ctx.user, default_days=90, now=now)
    return runtime_usage_daily_rows(runtime.pk, win)


def runtime_usage_by_agent(
    *,
    ctx: WorkspaceContext,
    runtime_id: Any,
    params: Mapping[str, Any],
    now: datetime | None = None,
) -> list[dict[str, Any]]:
    """``[{agent_id, provider, model, T, task_count}]`` over ``task_usage``."""
    runtime = runtime_get(ctx=ctx, runtime_id=runtime_id)
    win = window(params, user=ctx.user, default_days=30, now=now)
    rows = _rows(RUNTIME_BY_AGENT_RAW, {"runtime_id": runtime.pk, "since": win.since})
    return [
        {"agent_id": str(r[0]), "provider": r[1], "model": r[2], **_t(r[3:12]), "task_count": r[12]}
        for r in rows
    ]


def runtime_usage_by_hour(
    *,
    ctx: WorkspaceContext,
    runtime_id: Any,
    params: Mapping[str, Any],
    now: datetime | None = None,
) -> list[dict[str, Any]]:
    """``[{hour, model, T, task_count}]`` (hour of day in the viewer's zone; empty hours left
    out) over ``task_usage``."""
    runtime = runtime_get(ctx=ctx, runtime_id=runtime_id)
    win = window(params, user=ctx.user, default_days=30, now=now)
    rows = _rows(
        RUNTIME_BY_HOUR_RAW, {"runtime_id": runtime.pk, "tz": win.tz_name, "since": win.since}
    )
    return [{"hour": r[0], "model": r[1], **_t(r[2:11]), "task_count": r[11]} for r in rows]


def runtime_task_activity(
    *, ctx: WorkspaceContext, runtime_id: Any, params: Mapping[str, Any]
) -> list[dict[str, int]]:
    """``[{hour, count}]``: task starts per hour of day in the viewer's zone, over the runtime's
    whole history (no window, as Multica); empty hours left out."""
    runtime = runtime_get(ctx=ctx, runtime_id=runtime_id)
    tz = resolve_tz(params.get("tz"), ctx.user)
    rows = _rows(
        RUNTIME_ACTIVITY,
        {"runtime_id": runtime.pk, "workspace_id": ctx.workspace_id, "tz": tz.key},
    )
    return [{"hour": r[0], "count": r[1]} for r in rows]


# --- issue usage ------------------------------------------------------------------------------


def issue_usage(*, ctx: WorkspaceContext, issue_ref: Any) -> dict[str, int]:
    issue = issue_get(ctx=ctx, issue_ref=issue_ref)
    row = _rows(ISSUE_TOTALS_RAW, {"issue_id": issue.pk})[0]
    t = _t(row[:9])
    return {
        **{f"total_{name}": t[name] for name in TOKENS},
        **{name: t[name] for name in COST},
        "task_count": int(row[9] or 0),
    }


# --- workspace dashboard ----------------------------------------------------------------------


def dashboard_usage_daily_rows(
    workspace_id: uuid.UUID, win: Window, project_id: uuid.UUID | None, *, source: str | None = None
) -> list[dict[str, Any]]:
    """``[{date, provider, model, T, task_count}]``, date DESC."""
    sql = DASHBOARD_DAILY_ROLLUP if _use_rollup(source) else DASHBOARD_DAILY_RAW
    params = {
        "workspace_id": workspace_id, "tz": win.tz_name, "since": win.since,
        "project_id": project_id,
    }  # fmt: skip
    return [
        {"date": _date(r[0]), "provider": r[1], "model": r[2], **_t(r[3:12]), "task_count": r[12]}
        for r in _rows(sql, params)
    ]


def dashboard_usage_by_agent_rows(
    workspace_id: uuid.UUID, win: Window, project_id: uuid.UUID | None, *, source: str | None = None
) -> list[dict[str, Any]]:
    """``[{agent_id, provider, model, T, task_count}]``."""
    sql = DASHBOARD_BY_AGENT_ROLLUP if _use_rollup(source) else DASHBOARD_BY_AGENT_RAW
    params = {"workspace_id": workspace_id, "since": win.since, "project_id": project_id}
    return [
        {"agent_id": str(r[0]), "provider": r[1], "model": r[2], **_t(r[3:12]), "task_count": r[12]}
        for r in _rows(sql, params)
    ]


def dashboard_usage_daily(
    *, ctx: WorkspaceContext, params: Mapping[str, Any], now: datetime | None = None
) -> list[dict[str, Any]]:
    project_id = _project(params)
    win = window(params, user=ctx.user, default_days=30, now=now)
    return dashboard_usage_daily_rows(ctx.workspace_id, win, project_id)


def restricted_agent_ids(ctx: WorkspaceContext) -> set[str]:
    """Agents of the workspace the caller may not see (and hidden system agents)."""
    agents = list(Agent.objects.filter(workspace_id=ctx.workspace_id))
    targets: dict[uuid.UUID, list[AgentInvocationTarget]] = {}
    for target in AgentInvocationTarget.objects.filter(agent__workspace_id=ctx.workspace_id):
        targets.setdefault(target.agent_id, []).append(target)
    return {
        str(a.pk)
        for a in agents
        if a.kind == "system" or not can_view_agent(ctx, a, targets.get(a.pk, []))
    }


def fold_restricted(
    rows: list[dict[str, Any]],
    restricted: set[str],
    *,
    key: Sequence[str] = ("provider", "model"),
    sums: Sequence[str] = (*T, "task_count"),
) -> list[dict[str, Any]]:
    """Rows of agents the caller may not see are merged, per ``key`` (by default provider and
    model), into one row with the ``__restricted_agents__`` id, adding up ``sums``: totals still
    add up, no private agent is named. The bucket sits where its first member was."""
    if not restricted:
        return rows
    out: list[dict[str, Any]] = []
    bucket_at: dict[tuple[Any, ...], int] = {}
    for row in rows:
        if row["agent_id"] not in restricted:
            out.append(row)
            continue
        bucket = tuple(row[name] for name in key)
        if bucket in bucket_at:
            merged = out[bucket_at[bucket]]
            for name in sums:
                merged[name] += row[name]
            continue
        bucket_at[bucket] = len(out)
        out.append({**row, "agent_id": RESTRICTED_AGENTS})
    return out


def dashboard_usage_by_agent(
    *, ctx: WorkspaceContext, params: Mapping[str, Any], now: datetime | None = None
) -> list[dict[str, Any]]:
    project_id = _project(params)
    win = window(params, user=ctx.user, default_days=30, exact=True, now=now)
    rows = dashboard_usage_by_agent_rows(ctx.workspace_id, win, project_id)
    return fold_restricted(rows, restricted_agent_ids(ctx))


RUN_TIME_SUMS = ("total_seconds", "task_count", "failed_count", "cancelled_count")


def _run_time(values: Sequence[Any]) -> dict[str, int]:
    return {name: int(v or 0) for name, v in zip(RUN_TIME_SUMS, values, strict=True)}


def _task_params(ctx: WorkspaceContext, win: Window, project_id: uuid.UUID | None) -> dict:
    return {
        "workspace_id": ctx.workspace_id, "tz": win.tz_name, "since": win.since,
        "project_id": project_id,
    }  # fmt: skip


def dashboard_agent_run_time(
    *, ctx: WorkspaceContext, params: Mapping[str, Any], now: datetime | None = None
) -> list[dict[str, Any]]:
    """``[{agent_id, total_seconds, task_count, failed_count, cancelled_count}]`` over terminal
    runs that started, total_seconds DESC; exactly ``days`` local days; agents the caller may
    not see folded into one row."""
    project_id = _project(params)
    win = window(params, user=ctx.user, default_days=30, exact=True, now=now)
    rows = [
        {"agent_id": str(r[0]), **_run_time(r[1:5])}
        for r in _rows(DASHBOARD_AGENT_RUN_TIME, _task_params(ctx, win, project_id))
    ]
    return fold_restricted(rows, restricted_agent_ids(ctx), key=(), sums=RUN_TIME_SUMS)


def dashboard_run_time_daily(
    *, ctx: WorkspaceContext, params: Mapping[str, Any], now: datetime | None = None
) -> list[dict[str, Any]]:
    """``[{date, total_seconds, task_count, failed_count, cancelled_count}]``, date DESC (local
    day of ``completed_at``)."""
    project_id = _project(params)
    win = window(params, user=ctx.user, default_days=30, now=now)
    return [
        {"date": _date(r[0]), **_run_time(r[1:5])}
        for r in _rows(DASHBOARD_RUN_TIME_DAILY, _task_params(ctx, win, project_id))
    ]


def dashboard_failures_daily(
    *, ctx: WorkspaceContext, params: Mapping[str, Any], now: datetime | None = None
) -> list[dict[str, Any]]:
    """``[{date, failure_reason, task_count}]``, date DESC then reason; ``""`` counts the
    succeeded tasks (the error rate's denominator)."""
    project_id = _project(params)
    win = window(params, user=ctx.user, default_days=30, now=now)
    return [
        {"date": _date(r[0]), "failure_reason": r[1], "task_count": r[2]}
        for r in _rows(DASHBOARD_FAILURES_DAILY, _task_params(ctx, win, project_id))
    ]


def dashboard_failures_by_agent(
    *, ctx: WorkspaceContext, params: Mapping[str, Any], now: datetime | None = None
) -> list[dict[str, Any]]:
    """``[{agent_id, failure_reason, task_count}]`` by agent then reason; exactly ``days`` local
    days; agents the caller may not see folded per reason."""
    project_id = _project(params)
    win = window(params, user=ctx.user, default_days=30, exact=True, now=now)
    rows = [
        {"agent_id": str(r[0]), "failure_reason": r[1], "task_count": r[2]}
        for r in _rows(DASHBOARD_FAILURES_BY_AGENT, _task_params(ctx, win, project_id))
    ]
    return fold_restricted(
        rows, restricted_agent_ids(ctx), key=("failure_reason",), sums=("task_count",)
    )
