# ruff: noqa: F401, F811
"""The runtime sweeper, stage by stage, with short timers."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.utils import timezone

from agents.models import Agent, AgentTask
from runtimes.models import AgentRuntime, TaskToken
from runtimes.services import claims, sweeper
from runtimes.tasks import sweep_runtimes
from tests.runtimes.task_fixtures import (
    agent,
    caller_for,
    issue,
    make_agent,
    make_issue,
    make_runtime,
    make_task,
    runtime,
    task,
)

pytestmark = pytest.mark.django_db

AGO = timedelta(seconds=10)


@pytest.fixture(autouse=True)
def short_timers(settings):
    settings.RUNTIME_STALE_SECONDS = 5
    settings.RUNTIME_CLAIM_FRESHNESS_SECONDS = 5
    settings.RUNTIME_RECONNECT_GRACE_SECONDS = 5
    settings.TASK_DISPATCH_TIMEOUT_SECONDS = 5
    settings.TASK_RUNNING_BACKSTOP_SECONDS = 5
    settings.TASK_QUEUED_TTL_SECONDS = 5
    settings.RUNTIME_GC_SECONDS = 3600


def test_silent_runtime_goes_offline(runtime, captured_events, django_capture_on_commit_callbacks):
    AgentRuntime.objects.filter(pk=runtime.pk).update(last_seen_at=timezone.now() - AGO)
    with django_capture_on_commit_callbacks(execute=True):
        result = sweeper.runtimes_sweep()
    assert result.stale_runtimes == 1
    runtime.refresh_from_db()
    assert runtime.status == "offline"
    events = captured_events.of("daemon:register")
    assert events[0].payload["action"] == "stale_sweep"


def test_fresh_runtime_untouched(runtime, task):
    result = sweeper.runtimes_sweep()
    assert result.stale_runtimes == 0
    runtime.refresh_from_db()
    assert runtime.status == "online"


def test_tasks_of_long_offline_runtime_fail_and_retry(ws, runtime, task):
    claims.task_claim(caller=caller_for(ws.owner), runtime_ids=[runtime.id], max_tasks=1)
    AgentTask.objects.filter(pk=task.pk).update(status="running", started_at=timezone.now())
    AgentRuntime.objects.filter(pk=runtime.pk).update(
        status="offline", last_seen_at=timezone.now() - AGO
    )
    result = sweeper.runtimes_sweep()
    assert result.offline_failed == 1
    task.refresh_from_db()
    assert task.status == "failed"
    assert task.failure_reason == "runtime_offline"
    assert not TaskToken.objects.filter(task=task).exists()
    assert AgentTask.objects.get(retry_of_task_id=task.pk).status == "queued"
    assert Agent.objects.get(pk=task.agent_id).status == "idle"


def test_offline_within_grace_keeps_running(settings, ws, runtime, task):
    settings.RUNTIME_RECONNECT_GRACE_SECONDS = 3600
    claims.task_claim(caller=caller_for(ws.owner), runtime_ids=[runtime.id], max_tasks=1)
    AgentTask.objects.filter(pk=task.pk).update(status="running", started_at=timezone.now())
    AgentRuntime.objects.filter(pk=runtime.pk).update(last_seen_at=timezone.now() - AGO)
    sweeper.runtimes_sweep()
    task.refresh_from_db()
    assert task.status == "running"


def test_dispatch_timeout(ws, runtime, task):
    claims.task_claim(caller=caller_for(ws.owner), runtime_ids=[runtime.id], max_tasks=1)
    AgentTask.objects.filter(pk=task.pk).update(
        dispatched_at=timezone.now() - AGO, prepare_lease_expires_at=timezone.now() - AGO
    )
    result = sweeper.runtimes_sweep()
    assert result.dispatch_timeouts == 1
    task.refresh_from_db()
    assert (task.status, task.failure_reason) == ("failed", "timeout")


def test_dispatch_with_live_prepare_lease_is_kept(ws, runtime, task):
    claims.task_claim(caller=caller_for(ws.owner), runtime_ids=[runtime.id], max_tasks=1)
    AgentTask.objects.filter(pk=task.pk).update(dispatched_at=timezone.now() - AGO)
    sweeper.runtimes_sweep()
    task.refresh_from_db()
    assert task.status == "dispatched"


def test_running_on_heartbeating_runtime_is_never_killed(ws, runtime, task):
    AgentTask.objects.filter(pk=task.pk).update(
        status="running", started_at=timezone.now() - timedelta(days=1)
    )
    sweeper.runtimes_sweep()
    task.refresh_from_db()
    assert task.status == "running"


def test_queued_expiry(task):
    AgentTask.objects.filter(pk=task.pk).update(created_at=timezone.now() - AGO)
    result = sweeper.runtimes_sweep()
    assert result.queued_expired == 1
    task.refresh_from_db()
    assert (task.status, task.failure_reason) == ("failed", "queued_expired")
    assert not AgentTask.objects.filter(retry_of_task_id=task.pk).exists()


def test_runtime_gc(settings, make_runtime, make_agent):
    settings.RUNTIME_GC_SECONDS = 5
    old = timezone.now() - AGO
    idle = make_runtime(status="offline", last_seen_at=old)
    used = make_runtime(status="offline", last_seen_at=old)
    make_agent(rt=used)
    archived_only = make_runtime(status="offline", last_seen_at=old)
    gone = make_agent(rt=archived_only, archived_at=timezone.now())
    result = sweeper.runtimes_sweep()
    assert result.runtimes_deleted == 2
    assert not AgentRuntime.objects.filter(pk__in=[idle.pk, archived_only.pk]).exists()
    assert AgentRuntime.objects.filter(pk=used.pk).exists()
    gone.refresh_from_db()
    assert gone.runtime_id is None


@pytest.mark.django_db(transaction=True)
def test_only_one_sweep_at_a_time(ws, runtime):
    """A sweep finds the advisory lock held (by another connection) and does nothing."""
    import threading

    AgentRuntime.objects.filter(pk=runtime.pk).update(last_seen_at=timezone.now() - AGO)
    held, release = threading.Event(), threading.Event()

    def holder():
        from django.db import connections

        with transaction.atomic(), connections["default"].cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [sweeper.SWEEP_LOCK_KEY])
            held.set()
            release.wait(10)
        connections.close_all()

    t = threading.Thread(target=holder)
    t.start()
    held.wait(10)
    try:
        result = sweeper.runtimes_sweep()
        assert result.locked is False
        runtime.refresh_from_db()
        assert runtime.status == "online"
    finally:
        release.set()
        t.join()
    assert sweeper.runtimes_sweep().stale_runtimes == 1


@pytest.mark.django_db(transaction=True)
def test_lock_is_transaction_scoped():
    sweeper.runtimes_sweep()
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'")
        assert cursor.fetchone()[0] == 0


def test_celery_adapter_runs_the_sweep(runtime):
    AgentRuntime.objects.filter(pk=runtime.pk).update(last_seen_at=timezone.now() - AGO)
    sweep_runtimes.apply()
    runtime.refresh_from_db()
    assert runtime.status == "offline"
