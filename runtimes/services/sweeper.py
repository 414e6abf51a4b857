"""The runtime sweeper (daemon spec §2; reliability §3.2): one beat job every 30 s.

Each run takes ``pg_try_advisory_xact_lock`` (transaction-scoped, never a session lock) and
returns at once when another run holds it, so duplicate beats are harmless. Every stage works
in bounded batches; every timer is a Django setting (tests use seconds):

1. ``online`` runtimes silent longer than ``RUNTIME_STALE_SECONDS`` (150) → ``offline``
   (``daemon:register {action: "stale_sweep"}`` to their workspaces);
2. leased tasks of runtimes silent longer than ``RUNTIME_RECONNECT_GRACE_SECONDS`` (3 h, at
   least the stale threshold) → ``failed runtime_offline`` (retryable);
3. ``dispatched`` longer than ``TASK_DISPATCH_TIMEOUT_SECONDS`` (300) with the prepare lease
   expired → ``failed timeout``;
4. ``running`` longer than ``TASK_RUNNING_BACKSTOP_SECONDS`` (9000) on a runtime past the
   grace → ``failed timeout`` (a heartbeating runtime is never killed);
5. ``queued`` longer than ``TASK_QUEUED_TTL_SECONDS`` (2 h) → ``failed queued_expired``;
6. ``offline`` runtimes without active agents, silent ``RUNTIME_GC_SECONDS`` (7 d) → deleted.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from agents.models import Agent, AgentTask
from multica_site.events import publish
from runtimes.models import AgentRuntime
from runtimes.services.claims import setting
from runtimes.services.reports import task_fail_locked

logger = logging.getLogger("multica.runtimes.sweeper")

SWEEP_LOCK_KEY = 0x6D756C5F73776570  # "mul_swep": one advisory key for the whole job
TASK_BATCH = 500
RUNTIME_BATCH = 500
GC_BATCH = 100
DAEMON_REGISTER = "daemon:register"
LEASED = ("dispatched", "waiting_local_directory", "running")


@dataclass
class SweepResult:
    locked: bool = True
    stale_runtimes: int = 0
    offline_failed: int = 0
    dispatch_timeouts: int = 0
    running_timeouts: int = 0
    queued_expired: int = 0
    runtimes_deleted: int = 0
    details: dict[str, Any] = field(default_factory=dict)


def _seconds(name: str, default: float) -> timedelta:
    return timedelta(seconds=setting(name, default))


def _try_lock() -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [SWEEP_LOCK_KEY])
        return bool(cursor.fetchone()[0])


def _mark_stale(now: Any) -> int:
    cutoff = now - _seconds("RUNTIME_STALE_SECONDS", 150)
    rows = list(
        AgentRuntime.objects.select_for_update(skip_locked=True)
        .filter(status=AgentRuntime.Status.ONLINE)
        .filter(Q(last_seen_at__lt=cutoff) | Q(last_seen_at__isnull=True))
        .order_by("last_seen_at")[:RUNTIME_BATCH]
    )
    if not rows:
        return 0
    AgentRuntime.objects.filter(pk__in=[r.pk for r in rows]).update(
        status=AgentRuntime.Status.OFFLINE, updated_at=now
    )
    by_ws: dict[Any, list[str]] = {}
    for r in rows:
        by_ws.setdefault(r.workspace_id, []).append(str(r.pk))
    for workspace_id, runtime_ids in by_ws.items():
        publish(
            DAEMON_REGISTER,
            {"action": "stale_sweep", "runtime_ids": runtime_ids},
            workspace_id=workspace_id,
        )
    return len(rows)


def _fail(qs: Any, reason: str, error: str, also: tuple[str, ...] = ()) -> int:
    count = 0
    for task in qs.select_for_update(skip_locked=True, of=("self",)).order_by("created_at")[
        :TASK_BATCH
    ]:
        failed, _ = task_fail_locked(task, task.lease_epoch, error=error, reason=reason, also=also)
        count += int(failed)
    return count


def _grace() -> timedelta:
    return max(
        _seconds("RUNTIME_RECONNECT_GRACE_SECONDS", 3 * 3600),
        _seconds("RUNTIME_STALE_SECONDS", 150),
    )


def _offline_tasks(now: Any) -> int:
    cutoff = now - _grace()
    qs = AgentTask.objects.filter(
        status__in=LEASED,
        runtime__status=AgentRuntime.Status.OFFLINE,
    ).filter(Q(runtime__last_seen_at__lt=cutoff) | Q(runtime__last_seen_at__isnull=True))
    return _fail(qs, "runtime_offline", "runtime went offline")


def _dispatch_timeouts(now: Any) -> int:
    qs = AgentTask.objects.filter(
        status=AgentTask.Status.DISPATCHED,
        dispatched_at__lt=now - _seconds("TASK_DISPATCH_TIMEOUT_SECONDS", 300),
    ).filter(Q(prepare_lease_expires_at__isnull=True) | Q(prepare_lease_expires_at__lt=now))
    return _fail(qs, "timeout", "task was not started in time")


def _running_backstop(now: Any) -> int:
    qs = AgentTask.objects.filter(
        status=AgentTask.Status.RUNNING,
        started_at__lt=now - _seconds("TASK_RUNNING_BACKSTOP_SECONDS", 9000),
    ).filter(
        Q(runtime__isnull=True)
        | Q(runtime__last_seen_at__lt=now - _grace())
        | Q(runtime__last_seen_at__isnull=True)
    )
    return _fail(qs, "timeout", "task ran past the backstop on a silent runtime")


def _queued_expiry(now: Any) -> int:
    qs = AgentTask.objects.filter(
        status=AgentTask.Status.QUEUED,
        created_at__lt=now - _seconds("TASK_QUEUED_TTL_SECONDS", 7200),
    )
    return _fail(qs, "queued_expired", "task was never claimed", also=("queued",))


def _gc_runtimes(now: Any) -> int:
    cutoff = now - _seconds("RUNTIME_GC_SECONDS", 7 * 86400)
    active_agents = Agent.objects.filter(archived_at__isnull=True, runtime__isnull=False).values(
        "runtime_id"
    )
    rows = list(
        AgentRuntime.objects.select_for_update(skip_locked=True)
        .filter(status=AgentRuntime.Status.OFFLINE)
        .filter(Q(last_seen_at__lt=cutoff) | Q(last_seen_at__isnull=True, created_at__lt=cutoff))
        .exclude(pk__in=active_agents)
        .exclude(tasks__status__in=(*LEASED, "queued", "deferred"))
        .order_by("last_seen_at")[:GC_BATCH]
    )
    if not rows:
        return 0
    ids = [r.pk for r in rows]
    Agent.objects.filter(runtime_id__in=ids, archived_at__isnull=False).update(runtime=None)
    AgentRuntime.objects.filter(pk__in=ids).delete()
    return len(ids)


def runtimes_sweep() -> SweepResult:
    """One sweep. Returns what it did (``locked=False`` when another sweep is running)."""
    result = SweepResult()
    with transaction.atomic():
        if not _try_lock():
            result.locked = False
            return result
        now = timezone.now()
        result.stale_runtimes = _mark_stale(now)
        result.offline_failed = _offline_tasks(now)
        result.dispatch_timeouts = _dispatch_timeouts(now)
        result.running_timeouts = _running_backstop(now)
        result.queued_expired = _queued_expiry(now)
        result.runtimes_deleted = _gc_runtimes(now)
    logger.info("runtime sweep: %s", result)
    return result
