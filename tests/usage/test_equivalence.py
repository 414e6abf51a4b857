"""On random histories — usage rows, then tasks moved between runtimes, issues moved between
projects, tasks, issues and rows deleted, counters corrected — the rollup equals its definition
(recomputed in Python) and every read answers the same from the rollup as from the raw rows."""

from __future__ import annotations

import itertools
from datetime import timedelta

import pytest
from django.db import connection
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agents.models import AgentTask
from issues.models import Issue, Project
from tests.usage.helpers import catch_up, expected_hourly, hourly_rows
from usage import selectors
from usage.models import TaskUsage, TaskUsageHourly, TaskUsageHourlyDirty, TaskUsageRollupState
from usage.services.rollup import EPOCH

pytestmark = pytest.mark.django_db

ZONES = ("UTC", "America/New_York", "Asia/Tokyo")
_numbers = itertools.count(1000)

usage_rows = st.lists(
    st.tuples(
        st.integers(0, 5),  # task
        st.sampled_from(["claude", "codex"]),
        st.sampled_from(["m1", "m2", "m3"]),
        st.integers(1, 24 * 9),  # hours before now (the last hour is inside the safety lag)
        st.integers(0, 59),  # minute
        st.integers(0, 1000),  # input tokens
        st.one_of(st.none(), st.integers(1, 500)),  # provider cost
    ),
    min_size=1,
    max_size=25,
)
mutations = st.lists(
    st.tuples(
        st.sampled_from(
            [
                "runtime",
                "unassign",
                "project",
                "delete_task",
                "delete_issue",
                "correct",
                "delete_row",
            ]
        ),
        st.integers(0, 5),
        st.integers(0, 2),
    ),
    max_size=6,
)


@pytest.fixture
def world(ws, other_ws, make_runtime, make_agent):
    runtimes = [make_runtime(), make_runtime()]
    foreign_rt = make_runtime(workspace=other_ws.workspace, owner=other_ws.owner)
    agents = [
        make_agent(rt=runtimes[0]),
        make_agent(rt=runtimes[1]),
        # The workspace-mismatch case: an agent of another workspace running this one's task.
        make_agent(workspace=other_ws.workspace, rt=foreign_rt),
    ]
    projects = [Project.objects.create(workspace=ws.workspace, title=f"P{n}") for n in range(2)]
    return {"ws": ws, "runtimes": [*runtimes, foreign_rt], "agents": agents, "projects": projects}


def _reset() -> None:
    TaskUsage.objects.all().delete()
    AgentTask.objects.all().delete()
    Issue.objects.all().delete()
    TaskUsageHourly.objects.all().delete()
    TaskUsageHourlyDirty.objects.all().delete()
    TaskUsageRollupState.objects.update(watermark_at=EPOCH)


def _build(world, now, rows, *, bulk: bool) -> tuple[list[AgentTask], list[Issue]]:
    """``bulk``: the usage rows skip their trigger (found by the ``updated_at`` discovery)."""
    ws = world["ws"]
    issues = [
        Issue.objects.create(
            workspace=ws.workspace, number=next(_numbers), title="i", creator_type="member",
            creator_id=ws.owner.id, project=project,
        )
        for project in (world["projects"][0], world["projects"][1], None)
    ]  # fmt: skip
    tasks = []
    for n in range(6):
        agent = world["agents"][n % 3]
        tasks.append(
            AgentTask.objects.create(
                workspace=ws.workspace, agent=agent, runtime_id=agent.runtime_id,
                issue=issues[n % 3] if n < 5 else None, status="completed",
            )
        )  # fmt: skip
    seen = set()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT set_config('multica.usage_bulk_load', %s, true)", ["on" if bulk else ""]
        )
    for task_n, provider, model, hours_ago, minute, tokens, cost in rows:
        if (task_n, provider, model) in seen:
            continue
        seen.add((task_n, provider, model))
        at = (now - timedelta(hours=hours_ago)).replace(minute=minute)
        TaskUsage.objects.create(
            task=tasks[task_n], provider=provider, model=model, input_tokens=tokens,
            output_tokens=tokens // 3, cache_read_tokens=tokens % 7, cache_write_tokens=1,
            cost_usd_ticks=cost, created_at=at, updated_at=at,
        )  # fmt: skip
    with connection.cursor() as cursor:
        cursor.execute("SELECT set_config('multica.usage_bulk_load', '', true)")
    return tasks, issues


def _mutate(world, tasks, issues, ops) -> None:
    for op, n, m in ops:
        task = tasks[n]
        if op == "runtime":
            AgentTask.objects.filter(pk=task.pk).update(runtime=world["runtimes"][m])
        elif op == "unassign":
            AgentTask.objects.filter(pk=task.pk).update(runtime=None)
        elif op == "project":
            project = world["projects"][m] if m < 2 else None
            Issue.objects.filter(pk=issues[n % 3].pk).update(project=project)
        elif op == "delete_task":
            AgentTask.objects.filter(pk=task.pk).delete()
        elif op == "delete_issue":
            Issue.objects.filter(pk=issues[m].pk).delete()
        elif op == "correct":
            TaskUsage.objects.filter(task_id=task.pk).update(input_tokens=m * 11)
        elif op == "delete_row":
            TaskUsage.objects.filter(pk__in=TaskUsage.objects.filter(task_id=task.pk)
                                     .values("pk")[:1]).delete()  # fmt: skip


def _assert_reads_agree(world, now) -> None:
    ws_ids = [world["ws"].workspace.id, world["agents"][2].workspace_id]
    for tz_name, days in itertools.product(ZONES, (1, 3, 10)):
        params = {"tz": tz_name, "days": str(days)}
        win = selectors.window(params, default_days=30, now=now)
        exact = selectors.window(params, default_days=30, exact=True, now=now)
        for runtime in world["runtimes"]:
            rollup = selectors.runtime_usage_daily_rows(runtime.id, win, source="rollup")
            raw = selectors.runtime_usage_daily_rows(runtime.id, win, source="raw")
            assert rollup == raw, (tz_name, days, "runtime")
        for ws_id in ws_ids:
            for project in (None, world["projects"][0].id):
                assert selectors.dashboard_usage_daily_rows(
                    ws_id, win, project, source="rollup"
                ) == selectors.dashboard_usage_daily_rows(ws_id, win, project, source="raw")
                assert selectors.dashboard_usage_by_agent_rows(
                    ws_id, exact, project, source="rollup"
                ) == selectors.dashboard_usage_by_agent_rows(ws_id, exact, project, source="raw")


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(rows=usage_rows, ops=mutations, split=st.booleans(), bulk=st.booleans(), scan=st.booleans())
def test_rollup_and_raw_reads_agree(world, now, rows, ops, split, bulk, scan):
    """``scan``: the window reads its dirty hours in one pass instead of row by row."""
    _reset()
    lookup_hours = 0 if scan else 48
    tasks, issues = _build(world, now, rows, bulk=bulk)
    if split:  # roll up, then change history, then roll up again
        catch_up(now, lookup_hours=lookup_hours)
    _mutate(world, tasks, issues, ops)
    catch_up(now, lookup_hours=lookup_hours)
    assert TaskUsageHourlyDirty.objects.count() == 0
    assert hourly_rows() == expected_hourly()
    _assert_reads_agree(world, now)
