"""The hourly rollup job (server contract §6.3): one tick recomputes the dirty buckets of one
bounded window and moves the watermark; the backfill walks history in slices through the same
window primitive (SQL ``rollup_task_usage_hourly_window``, see migration 0007).

* **Exclusive.** Every window runs under the transaction-scoped advisory lock 4246: the periodic
  tick skips when it is held (``pg_try_advisory_xact_lock``), the backfill waits for it. Runs
  are therefore serialised, and each one recomputes from a snapshot taken after the previous
  one committed, so a slower run can never write older figures over newer ones.
* **Bounded.** A tick covers at most one day of ``updated_at`` (starting at the first row after
  the watermark, so an idle stretch costs nothing) and at most ``QUEUE_LIMIT`` queued buckets.
* **Safety lag.** The window ends 5 minutes before now, so a row whose transaction commits a
  little after its ``updated_at`` is still discovered (rows enqueue themselves as well).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.db import connection, transaction
from django.utils import timezone

from usage.models import TaskUsageRollupState

logger = logging.getLogger(__name__)

LOCK_ID = 4246
SAFETY_LAG = timedelta(minutes=5)
MAX_WINDOW = timedelta(days=1)
QUEUE_LIMIT = 100_000
LOOKUP_HOURS = 48
DIRTY_RETENTION = timedelta(days=7)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
TEARDOWN_SETTING = "multica.workspace_teardown"


@dataclass(frozen=True)
class TickResult:
    window_from: datetime
    window_to: datetime
    rows: int
    pruned: int


def _scalar(sql: str, params: list | tuple = ()) -> object:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    return row[0] if row else None


def _db_now() -> datetime:
    return _scalar("SELECT clock_timestamp()")  # type: ignore[return-value]  # timestamptz


def rollup_window(
    window_from: datetime,
    window_to: datetime,
    *,
    queue_limit: int = QUEUE_LIMIT,
    lookup_hours: int = LOOKUP_HOURS,
) -> int:
    """Recompute the buckets dirty in ``[window_from, window_to)`` plus up to ``queue_limit``
    queued ones; up to ``lookup_hours`` dirty hours are read row by row through indexes, more
    in one hash-joined pass. Must run inside a transaction holding the lock (see :func:`_lock`)."""
    value = _scalar(
        "SELECT rollup_task_usage_hourly_window(%s, %s, %s, %s)",
        [window_from, window_to, queue_limit, lookup_hours],
    )
    return int(value or 0)  # type: ignore[call-overload]


def _lock(*, wait: bool) -> bool:
    if wait:
        _scalar("SELECT pg_advisory_xact_lock(%s)", [LOCK_ID])
        return True
    return bool(_scalar("SELECT pg_try_advisory_xact_lock(%s)", [LOCK_ID]))


def _next_row_at(after: datetime) -> datetime | None:
    """The first write time at or after ``after`` (``updated_at``, or ``created_at`` for legacy
    rows): two index probes, so an idle stretch of history is skipped in O(log n)."""
    return _scalar(  # type: ignore[return-value]
        """
        SELECT LEAST(
            (SELECT min(updated_at) FROM task_usage WHERE updated_at >= %s),
            (SELECT min(created_at) FROM task_usage WHERE updated_at IS NULL AND created_at >= %s))
        """,
        [after, after],
    )


def _state_for_update() -> TaskUsageRollupState:
    """The single state row, locked (re-created at the epoch if a flush removed it)."""
    _scalar(
        "INSERT INTO task_usage_hourly_rollup_state (id, watermark_at, last_run_rows)"
        " VALUES (1, %s, 0) ON CONFLICT (id) DO NOTHING RETURNING id",
        [EPOCH],
    )
    return TaskUsageRollupState.objects.select_for_update().get(pk=1)


def _state() -> TaskUsageRollupState:
    state = TaskUsageRollupState.objects.filter(pk=1).first()
    return state or TaskUsageRollupState(pk=1, watermark_at=EPOCH)


def _record_error(message: str) -> None:
    TaskUsageRollupState.objects.filter(pk=1).update(
        last_error=message[:2000], last_run_finished_at=timezone.now()
    )


def rollup_tick(
    *,
    now: datetime | None = None,
    queue_limit: int = QUEUE_LIMIT,
    lookup_hours: int = LOOKUP_HOURS,
) -> TickResult | None:
    """One run of the periodic job. Returns None when another run holds the lock."""
    try:
        with transaction.atomic():
            if not _lock(wait=False):
                logger.info("usage rollup: another run holds the lock, skipping")
                return None
            started = _db_now()
            state = _state_for_update()
            upper = (now or started) - SAFETY_LAG
            window_from = state.watermark_at
            first = _next_row_at(window_from)
            start = max(window_from, first) if first is not None else upper
            window_to = max(window_from, min(upper, start + MAX_WINDOW))
            rows = rollup_window(
                window_from, window_to, queue_limit=queue_limit, lookup_hours=lookup_hours
            )
            state.watermark_at = window_to
            state.last_run_started_at = started
            state.last_run_finished_at = _db_now()
            state.last_run_rows = rows
            state.last_error = None
            state.save()
    except Exception as exc:
        _record_error(f"{type(exc).__name__}: {exc}")
        raise
    pruned = prune_dirty()
    logger.info(
        "usage rollup: window %s..%s, %d bucket(s) written, %d stale queue row(s) pruned",
        window_from.isoformat(), window_to.isoformat(), rows, pruned,
    )  # fmt: skip
    return TickResult(window_from, window_to, rows, pruned)


def prune_dirty(*, retention: timedelta = DIRTY_RETENTION) -> int:
    """Delete queue rows older than ``retention`` (rows a stopped job left behind). Runs after
    the tick's lock is released: a plain bounded delete, safe without it."""
    with connection.cursor() as cursor:
        cursor.execute(
            "DELETE FROM task_usage_hourly_dirty WHERE enqueued_at < clock_timestamp() - %s",
            [retention],
        )
        return cursor.rowcount


# --- backfill ---------------------------------------------------------------------------------

# Recompute every bucket of the hours in [from, to) (hour-aligned) from the rows created in them,
# and replace: the set-based twin of the window primitive for whole slices of history, where one
# pass with hash joins beats a lookup per row. Bound values are sent as literals, so each slice
# is planned for its own size.
REBUILD_SQL = """
WITH raw AS (
    SELECT task_usage_hour_bucket(tu.created_at) AS bucket_hour, a.workspace_id, atq.runtime_id,
           atq.agent_id, i.project_id, tu.provider, tu.model,
           SUM(tu.input_tokens)::bigint AS input_tokens,
           SUM(tu.output_tokens)::bigint AS output_tokens,
           SUM(tu.cache_read_tokens)::bigint AS cache_read_tokens,
           SUM(tu.cache_write_tokens)::bigint AS cache_write_tokens,
           COUNT(DISTINCT tu.task_id)::bigint AS task_count,
           COUNT(*)::bigint AS event_count,
           COALESCE(SUM(tu.cost_usd_ticks), 0)::bigint AS cost_usd_ticks,
           COALESCE(SUM(tu.input_tokens) FILTER (WHERE tu.cost_usd_ticks IS NULL), 0)::bigint
               AS uncosted_input_tokens,
           COALESCE(SUM(tu.output_tokens) FILTER (WHERE tu.cost_usd_ticks IS NULL), 0)::bigint
               AS uncosted_output_tokens,
           COALESCE(SUM(tu.cache_read_tokens) FILTER (WHERE tu.cost_usd_ticks IS NULL), 0)::bigint
               AS uncosted_cache_read_tokens,
           COALESCE(SUM(tu.cache_write_tokens) FILTER (WHERE tu.cost_usd_ticks IS NULL), 0)::bigint
               AS uncosted_cache_write_tokens
      FROM task_usage tu
      JOIN agent_task_queue atq ON atq.id = tu.task_id
      JOIN agent a ON a.id = atq.agent_id
      LEFT JOIN issue i ON i.id = atq.issue_id
     WHERE tu.created_at >= %(start)s AND tu.created_at < %(end)s
       AND atq.runtime_id IS NOT NULL
     GROUP BY 1, 2, 3, 4, 5, 6, 7
),
upserted AS (
    INSERT INTO task_usage_hourly AS h (
        bucket_hour, workspace_id, runtime_id, agent_id, project_id, provider, model,
        input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, task_count,
        event_count, cost_usd_ticks, uncosted_input_tokens, uncosted_output_tokens,
        uncosted_cache_read_tokens, uncosted_cache_write_tokens, updated_at)
    SELECT *, clock_timestamp() FROM raw
    ON CONFLICT ON CONSTRAINT uq_task_usage_hourly_key DO UPDATE
        SET input_tokens = EXCLUDED.input_tokens,
            output_tokens = EXCLUDED.output_tokens,
            cache_read_tokens = EXCLUDED.cache_read_tokens,
            cache_write_tokens = EXCLUDED.cache_write_tokens,
            task_count = EXCLUDED.task_count,
            event_count = EXCLUDED.event_count,
            cost_usd_ticks = EXCLUDED.cost_usd_ticks,
            uncosted_input_tokens = EXCLUDED.uncosted_input_tokens,
            uncosted_output_tokens = EXCLUDED.uncosted_output_tokens,
            uncosted_cache_read_tokens = EXCLUDED.uncosted_cache_read_tokens,
            uncosted_cache_write_tokens = EXCLUDED.uncosted_cache_write_tokens,
            updated_at = EXCLUDED.updated_at
      WHERE (h.input_tokens, h.output_tokens, h.cache_read_tokens, h.cache_write_tokens,
             h.task_count, h.event_count, h.cost_usd_ticks, h.uncosted_input_tokens,
             h.uncosted_output_tokens, h.uncosted_cache_read_tokens,
             h.uncosted_cache_write_tokens)
            IS DISTINCT FROM
            (EXCLUDED.input_tokens, EXCLUDED.output_tokens, EXCLUDED.cache_read_tokens,
             EXCLUDED.cache_write_tokens, EXCLUDED.task_count, EXCLUDED.event_count,
             EXCLUDED.cost_usd_ticks, EXCLUDED.uncosted_input_tokens,
             EXCLUDED.uncosted_output_tokens, EXCLUDED.uncosted_cache_read_tokens,
             EXCLUDED.uncosted_cache_write_tokens)
    RETURNING 1
),
deleted AS (
    DELETE FROM task_usage_hourly h
     WHERE h.bucket_hour >= %(start)s AND h.bucket_hour < %(end)s
       AND NOT EXISTS (
           SELECT 1 FROM raw r
            WHERE r.bucket_hour = h.bucket_hour AND r.workspace_id = h.workspace_id
              AND r.runtime_id = h.runtime_id AND r.agent_id = h.agent_id
              AND COALESCE(r.project_id, '00000000-0000-0000-0000-000000000000'::uuid)
                  = COALESCE(h.project_id, '00000000-0000-0000-0000-000000000000'::uuid)
              AND r.provider = h.provider AND r.model = h.model)
    RETURNING 1
)
SELECT (SELECT count(*) FROM upserted) + (SELECT count(*) FROM deleted)
"""


def _hour_floor(at: datetime) -> datetime:
    return at.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def _hour_ceil(at: datetime) -> datetime:
    floor = _hour_floor(at)
    return floor if floor == at else floor + timedelta(hours=1)


def backfill_bounds() -> tuple[datetime, datetime] | None:
    """``[the first row's creation, now − lag)``, or None on an empty table."""
    first = _scalar("SELECT min(created_at) FROM task_usage")
    if first is None:
        return None
    return first, _db_now() - SAFETY_LAG  # type: ignore[return-value]


def backfill_slices(
    start: datetime, end: datetime, step: timedelta
) -> Iterator[tuple[datetime, datetime]]:
    """Hour-aligned slices covering ``[start, end)``."""
    cursor, stop = _hour_floor(start), _hour_ceil(end)
    while cursor < stop:
        upper = min(stop, cursor + step)
        yield cursor, upper
        cursor = upper


def rebuild_hours(start: datetime, end: datetime) -> int:
    """Recompute and replace every bucket of the hours in ``[start, end)`` (hour-aligned), in
    its own transaction under the lock (waiting for a running tick)."""
    with transaction.atomic():
        _lock(wait=True)
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL work_mem = '256MB'")
            cursor.execute(REBUILD_SQL, {"start": start, "end": end})
            return int(cursor.fetchone()[0])


def stamp_watermark(at: datetime) -> datetime:
    """Move the watermark forward to ``at`` (never back) so the periodic job resumes there."""
    with transaction.atomic():
        _lock(wait=True)
        state = _state_for_update()
        if at > state.watermark_at:
            state.watermark_at = at
            state.save(update_fields=["watermark_at"])
        return state.watermark_at


def backfill(
    *,
    start: datetime | None = None,
    end: datetime | None = None,
    step: timedelta = timedelta(days=7),
    progress: Callable[[int, int], None] | None = None,
) -> tuple[int, datetime | None]:
    """Rebuild the hours of ``[start, end)`` (default: all of history up to now − lag) slice by
    slice, then stamp the watermark to ``end``: the periodic job takes over from there (a row
    created before ``end`` but written again later is found by its ``updated_at``). Idempotent,
    and safe while the periodic job runs (each slice takes the same lock). Returns (buckets
    written or deleted, the watermark)."""
    bounds = backfill_bounds()
    if bounds is None and (start is None or end is None):
        return 0, None
    start = start or bounds[0]  # type: ignore[index]
    end = end or bounds[1]  # type: ignore[index]
    slices = list(backfill_slices(start, end, step))
    total = 0
    for n, (lo, hi) in enumerate(slices, 1):
        total += rebuild_hours(lo, hi)
        if progress is not None:
            progress(n, len(slices))
    return total, stamp_watermark(end)


# --- monitoring ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class RollupStatus:
    watermark_at: datetime
    lag_seconds: float
    last_run_started_at: datetime | None
    last_run_finished_at: datetime | None
    last_run_rows: int
    last_error: str | None
    queued_buckets: int


def rollup_lag_seconds(*, now: datetime | None = None) -> float:
    """How far the rollup is behind: now − watermark (≈ 5–10 minutes when healthy)."""
    return max(0.0, ((now or timezone.now()) - _state().watermark_at).total_seconds())


def rollup_status(*, now: datetime | None = None) -> RollupStatus:
    state = _state()
    now = now or timezone.now()
    queued = int(_scalar("SELECT count(*) FROM task_usage_hourly_dirty") or 0)  # type: ignore[arg-type]
    return RollupStatus(
        watermark_at=state.watermark_at,
        lag_seconds=max(0.0, (now - state.watermark_at).total_seconds()),
        last_run_started_at=state.last_run_started_at,
        last_run_finished_at=state.last_run_finished_at,
        last_run_rows=state.last_run_rows,
        last_error=state.last_error,
        queued_buckets=queued,
    )


# --- workspace teardown ----------------------------------------------------------------------


def workspace_teardown(workspace: object) -> None:
    """``WORKSPACE_DELETING_HOOKS``: the workspace's buckets and queue rows go now, and its usage
    rows, deleted by the cascade that follows in this transaction, skip the delete trigger (the
    setting is transaction-local). Buckets of other workspaces are still enqueued."""
    workspace_id = str(workspace.pk)  # type: ignore[attr-defined]
    with connection.cursor() as cursor:
        cursor.execute("SELECT set_config(%s, %s, true)", [TEARDOWN_SETTING, workspace_id])
        cursor.execute("DELETE FROM task_usage_hourly WHERE workspace_id = %s", [workspace_id])
        cursor.execute(
            "DELETE FROM task_usage_hourly_dirty WHERE workspace_id = %s", [workspace_id]
        )
