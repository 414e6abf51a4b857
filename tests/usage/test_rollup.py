"""The hourly rollup (server contract §6.3; the seed's four review rounds): aggregation,
idempotency, the watermark, invalidation by triggers, the workspace canary, teardown, the
lock and the backfill."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import connection, transaction

from agents.models import Agent, AgentTask
from issues.models import Project
from issues.services import issues as issue_services
from tests.runtimes.task_fixtures import owner_ctx
from tests.usage.helpers import (
    add_usage,
    catch_up,
    expected_hourly,
    hourly_rows,
    hourly_snapshot,
    hours,
    queued,
)
from usage.models import TaskUsage, TaskUsageHourly, TaskUsageHourlyDirty, TaskUsageRollupState
from usage.services import rollup
from usage.services.rollup import SAFETY_LAG, rollup_tick
from workspaces.services.workspaces import workspace_delete

pytestmark = pytest.mark.django_db


def _state() -> TaskUsageRollupState:
    return TaskUsageRollupState.objects.get(pk=1)


def test_aggregation_matches_the_definition(ws, now, run, make_agent, make_runtime, issue):
    other_rt = make_runtime()
    a2 = make_agent(rt=other_rt)
    t1, t2, t3 = run(), run(a2), run(i=None)
    base = (now - hours(30)).replace(minute=0)
    add_usage(t1, base + timedelta(minutes=5), input_tokens=10, output_tokens=1)
    add_usage(t1, base + timedelta(minutes=50), model="claude-opus", cost_usd_ticks=77)
    add_usage(t2, base + timedelta(minutes=20), input_tokens=7)
    add_usage(t3, base + timedelta(minutes=59), input_tokens=3)
    add_usage(t2, base + hours(5), provider="codex", model="gpt-5")
    catch_up(now)
    assert hourly_rows() == expected_hourly()
    assert len(hourly_rows()) == 4  # t1+t3 (no project either way), t1 opus, t2 (2 hours)
    assert queued() == 0
    bucket = TaskUsageHourly.objects.get(agent_id=t1.agent_id, model="claude-sonnet")
    assert bucket.bucket_hour == base
    assert bucket.project_id is None  # the fixture issue has no project; t3 has no issue
    assert (bucket.task_count, bucket.event_count, bucket.uncosted_input_tokens) == (2, 2, 13)
    priced = TaskUsageHourly.objects.get(model="claude-opus")
    assert (priced.cost_usd_ticks, priced.uncosted_input_tokens) == (77, 0)


def test_two_tasks_in_one_bucket_count_twice(now, run):
    t1, t2 = run(), run(i=None)
    t2.issue = t1.issue
    t2.save()
    add_usage(t1, now - hours(3), input_tokens=1)
    add_usage(t2, now - hours(3) + timedelta(minutes=1), input_tokens=2)
    catch_up(now)
    (bucket,) = TaskUsageHourly.objects.all()
    assert (bucket.input_tokens, bucket.task_count, bucket.event_count) == (3, 2, 2)


def test_running_the_window_twice_changes_nothing(now, run):
    t = run()
    add_usage(t, now - hours(2))
    add_usage(t, now - hours(1), model="other")
    catch_up(now)
    before = hourly_snapshot()
    with transaction.atomic():
        rewritten = rollup.rollup_window(now - hours(48), now)  # every row is in this window
    assert rewritten == 0
    assert hourly_snapshot() == before
    with transaction.atomic():
        assert rollup.rollup_window(now - hours(48), now) == 0
    with transaction.atomic():  # the same through the one-pass read of the dirty hours
        assert rollup.rollup_window(now - hours(48), now, lookup_hours=0) == 0
    assert hourly_snapshot() == before


def test_watermark_advances_to_now_minus_lag(now, run):
    add_usage(run(), now - hours(3))
    result = rollup_tick(now=now)
    assert result.window_to == now - SAFETY_LAG
    state = _state()
    assert state.watermark_at == now - SAFETY_LAG
    assert state.last_run_finished_at is not None
    assert state.last_error is None
    assert state.last_run_rows == 1
    # A second tick at the same instant has an empty window and writes nothing.
    again = rollup_tick(now=now)
    assert (again.window_from, again.window_to, again.rows) == (now - SAFETY_LAG,) * 2 + (0,)
    assert rollup.rollup_lag_seconds(now=now) == SAFETY_LAG.total_seconds()


def test_idle_history_is_skipped_and_windows_are_bounded(now, run):
    t = run()
    add_usage(t, now - timedelta(days=3), bulk=True)
    add_usage(t, now - timedelta(days=1, hours=1), model="m2", bulk=True)
    first = rollup_tick(now=now)  # 1970 → the first row, then at most one day
    assert first.window_from.year == 1970
    assert first.window_to == now - timedelta(days=2)
    assert TaskUsageHourly.objects.count() == 1
    catch_up(now)
    assert hourly_rows() == expected_hourly()


def test_rows_written_without_triggers_are_found_by_updated_at(now, run):
    t = run()
    add_usage(t, now - hours(2), bulk=True)
    assert queued() == 0
    catch_up(now)
    assert hourly_rows() == expected_hourly() != []


def test_legacy_rows_without_updated_at_are_found_by_created_at(now, run):
    row = add_usage(run(), now - hours(2), bulk=True)
    TaskUsage.objects.filter(pk=row.pk).update(updated_at=None)  # a row from before 0002
    TaskUsageHourlyDirty.objects.all().delete()
    catch_up(now)
    assert hourly_rows() == expected_hourly() != []


def test_a_correction_replaces_the_bucket(now, run):
    t = run()
    row = add_usage(t, now - hours(2), input_tokens=100)
    catch_up(now)
    TaskUsage.objects.filter(pk=row.pk).update(input_tokens=40)  # the trigger enqueues it
    catch_up(now)
    assert TaskUsageHourly.objects.get().input_tokens == 40


def test_invalidation_on_runtime_reassignment(now, run, make_runtime):
    t = run()
    add_usage(t, now - hours(2))
    catch_up(now)
    old_runtime = t.runtime_id
    new_runtime = make_runtime()
    AgentTask.objects.filter(pk=t.pk).update(runtime=new_runtime)
    assert queued() == 2  # the old and the new key
    catch_up(now)
    (bucket,) = TaskUsageHourly.objects.all()
    assert bucket.runtime_id == new_runtime.id != old_runtime
    assert hourly_rows() == expected_hourly()
    # Unassigned (runtime deleted): the usage leaves the rollup, as it leaves the raw reads.
    AgentTask.objects.filter(pk=t.pk).update(runtime=None)
    catch_up(now)
    assert TaskUsageHourly.objects.count() == 0


def test_invalidation_on_issue_delete_cascading_through_tasks(ws, now, run, make_issue):
    doomed, kept = make_issue(), make_issue()
    add_usage(run(i=doomed), now - hours(2), input_tokens=5)
    add_usage(run(i=doomed), now - hours(2), input_tokens=6, model="other")
    add_usage(run(i=kept), now - hours(2), input_tokens=7)
    catch_up(now)
    assert sorted(TaskUsageHourly.objects.values_list("input_tokens", flat=True)) == [6, 12]
    issue_services.issue_delete(ctx=owner_ctx(ws.workspace, ws.owner), issue_ref=doomed.pk)
    assert not TaskUsage.objects.filter(task__issue_id=doomed.pk).exists()
    catch_up(now)
    assert [r.input_tokens for r in TaskUsageHourly.objects.all()] == [7]
    assert hourly_rows() == expected_hourly()


def test_issue_project_change_moves_the_bucket(ws, now, run, issue):
    project = Project.objects.create(workspace=ws.workspace, title="Apollo")
    add_usage(run(), now - hours(2))
    catch_up(now)
    assert TaskUsageHourly.objects.get().project_id is None
    issue.project = project
    issue.save()
    catch_up(now)
    assert TaskUsageHourly.objects.get().project_id == project.id
    project.delete()  # SET NULL on the issue: back to the no-project bucket
    catch_up(now)
    assert TaskUsageHourly.objects.get().project_id is None
    assert hourly_rows() == expected_hourly()


def test_workspace_comes_from_the_agent_canary(ws, other_ws, now, run, make_agent, make_runtime):
    """The task and its issue live in ``ws``; its agent lives in ``other_ws``. Triggers,
    discovery and recompute all attribute the usage to the agent's workspace, so the bucket is
    neither split nor dropped — also after a reassignment to a runtime of that workspace."""
    foreign_rt = make_runtime(workspace=other_ws.workspace, owner=other_ws.owner)
    foreign_agent = make_agent(workspace=other_ws.workspace, rt=foreign_rt)
    t = run()
    AgentTask.objects.filter(pk=t.pk).update(agent=foreign_agent)
    t.refresh_from_db()
    assert t.workspace_id == ws.workspace.id != foreign_agent.workspace_id
    add_usage(t, now - hours(2))
    catch_up(now)
    (bucket,) = TaskUsageHourly.objects.all()
    assert bucket.workspace_id == other_ws.workspace.id
    AgentTask.objects.filter(pk=t.pk).update(runtime=foreign_rt)
    catch_up(now)
    (bucket,) = TaskUsageHourly.objects.all()
    assert (bucket.workspace_id, bucket.runtime_id) == (other_ws.workspace.id, foreign_rt.id)
    # The same bucket through the discovery path alone (no queue).
    TaskUsageHourly.objects.all().delete()
    TaskUsageHourlyDirty.objects.all().delete()
    TaskUsage.objects.update(updated_at=now - hours(1))
    TaskUsageHourlyDirty.objects.all().delete()
    TaskUsageRollupState.objects.update(watermark_at=now - hours(3))
    catch_up(now)
    assert hourly_rows() == expected_hourly() != []


def test_workspace_teardown_removes_its_buckets_directly(
    ws, other_ws, now, run, make_agent, make_runtime
):
    add_usage(run(), now - hours(2))
    foreign_rt = make_runtime(workspace=other_ws.workspace, owner=other_ws.owner)
    foreign_agent = make_agent(workspace=other_ws.workspace, rt=foreign_rt)
    add_usage(run(foreign_agent, i=None), now - hours(2))
    catch_up(now)
    assert TaskUsageHourly.objects.count() == 2
    # Agents stay bound to their runtime: the workspace delete takes both (RESTRICT, not PROTECT).
    assert Agent.objects.filter(workspace=ws.workspace, runtime__isnull=False).exists()
    workspace_delete(ctx=owner_ctx(ws.workspace, ws.owner))
    assert not TaskUsageHourly.objects.filter(workspace_id=ws.workspace.id).exists()
    assert not TaskUsageHourlyDirty.objects.filter(workspace_id=ws.workspace.id).exists()
    assert TaskUsageHourly.objects.filter(workspace_id=other_ws.workspace.id).count() == 1
    catch_up(now)
    assert hourly_rows() == expected_hourly()


@pytest.mark.django_db(transaction=True)
def test_a_tick_skips_while_another_holds_the_lock(now, run):
    from threading import Thread

    add_usage(run(), now - hours(2))
    held, done = [], []

    def other_run() -> None:
        try:
            with transaction.atomic():
                held.append(rollup._lock(wait=False))
                done.append(rollup_tick(now=now))
        finally:
            connection.close()

    with transaction.atomic():
        assert rollup._lock(wait=False)
        worker = Thread(target=other_run)
        worker.start()
        worker.join()
    assert held == [False]
    assert done == [None]
    assert rollup_tick(now=now) is not None


def test_a_failed_tick_records_its_error(now, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(rollup, "rollup_window", broken)
    with pytest.raises(RuntimeError):
        rollup_tick(now=now)
    assert "boom" in _state().last_error
    assert _state().watermark_at.year == 1970


def test_bounded_queue_per_tick(now, run):
    t = run()
    for n in range(5):
        add_usage(t, now - hours(n + 1), model=f"m{n}")
    assert queued() == 5
    rollup_tick(now=now, queue_limit=2)
    assert queued() == 3
    catch_up(now)
    assert queued() == 0
    assert hourly_rows() == expected_hourly()


def test_old_queue_rows_are_pruned(now, run):
    add_usage(run(), now - hours(2))
    TaskUsageHourlyDirty.objects.update(enqueued_at=now - timedelta(days=400))
    assert rollup.prune_dirty() == 1
    assert queued() == 0


def test_backfill_command_walks_history_and_stamps_the_watermark(now, run, capsys):
    t = run()
    for day in range(4):
        add_usage(t, now - timedelta(days=day, hours=1), model=f"m{day}", bulk=True)
    call_command(
        "backfill_task_usage_hourly",
        "--from", (now - timedelta(days=5)).isoformat(),
        "--to", (now - SAFETY_LAG).isoformat(),
        "--slice-hours", "24",
    )  # fmt: skip
    assert hourly_rows() == expected_hourly() != []
    assert _state().watermark_at == now - SAFETY_LAG
    assert "buckets written" in capsys.readouterr().out
    before = hourly_snapshot()
    call_command("backfill_task_usage_hourly", "--from", (now - timedelta(days=5)).isoformat(),
                 "--to", (now - SAFETY_LAG).isoformat())  # fmt: skip
    assert hourly_snapshot() == before  # rerunnable


def test_backfill_repairs_wrong_and_orphan_buckets(now, run):
    t = run()
    add_usage(t, now - hours(3), input_tokens=10)
    catch_up(now)
    TaskUsageHourly.objects.update(input_tokens=999)  # a bucket gone wrong
    orphan = TaskUsageHourly.objects.get()
    orphan.pk = None
    orphan.model = "ghost"  # a bucket with no rows behind it
    orphan.save()
    written, watermark = rollup.backfill(start=now - hours(5), end=now - SAFETY_LAG)
    assert written == 2
    assert watermark == now - SAFETY_LAG
    assert hourly_rows() == expected_hourly()
    assert rollup.backfill(start=now - hours(5), end=now - SAFETY_LAG)[0] == 0
