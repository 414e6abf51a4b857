"""``POST /api/daemon/tasks/{id}/usage`` (daemon contract §1.10) and ``AgentTask.usage`` on the
issue's task runs (server contract §7.2–7.3)."""

from __future__ import annotations

import pytest

from agents.models import AgentTask
from usage.models import TaskUsage, TaskUsageHourlyDirty

pytestmark = pytest.mark.django_db

ENTRY = {
    "provider": "Claude",
    "model": "claude-sonnet-4",
    "input_tokens": 1200,
    "output_tokens": 300,
    "cache_read_tokens": 4000,
    "cache_write_tokens": 50,
}


def report(api, user, task_id, usage, **kw):
    return api.as_user(user).post(f"/api/daemon/tasks/{task_id}/usage", json={"usage": usage}, **kw)


def rows(task) -> list[tuple]:
    return list(
        TaskUsage.objects.filter(task=task)
        .order_by("model")
        .values_list("provider", "model", "input_tokens", "output_tokens", "cost_usd_ticks")
    )


def test_report_upserts_one_row_per_provider_and_model(api, ws, run):
    task = run()
    body = report(api, ws.owner, task.id, [ENTRY, {**ENTRY, "model": "haiku", "cost_usd_ticks": 9}])
    assert body.want(200).json() == {"status": "ok"}
    assert rows(task) == [
        ("claude", "claude-sonnet-4", 1200, 300, None),  # provider lower-cased; no cost ⇒ NULL
        ("claude", "haiku", 1200, 300, 9),
    ]
    # Rows enqueue their own bucket for the rollup.
    assert TaskUsageHourlyDirty.objects.count() == 2


def test_a_second_report_overwrites_and_moves_updated_at(api, ws, run):
    task = run()
    report(api, ws.owner, task.id, [ENTRY]).want(200)
    first = TaskUsage.objects.get(task=task)
    TaskUsage.objects.filter(pk=first.pk).update(updated_at=first.updated_at.replace(year=2020))
    report(api, ws.owner, task.id, [{**ENTRY, "input_tokens": 7, "cost_usd_ticks": 0}]).want(200)
    again = TaskUsage.objects.get(task=task)
    assert again.pk == first.pk
    assert (again.input_tokens, again.cost_usd_ticks) == (7, None)  # overwritten, not added
    assert again.created_at == first.created_at
    assert again.updated_at.year != 2020


def test_usage_is_accepted_after_the_task_ended(api, ws, run):
    for status in ("cancelled", "failed", "completed"):
        task = run(status=status)
        report(api, ws.owner, task.id, [ENTRY]).want(200)
        assert len(rows(task)) == 1


def test_missing_provider_takes_the_runtime_provider(api, ws, run):
    task = run()
    report(api, ws.owner, task.id, [{**ENTRY, "provider": ""}]).want(200)
    assert rows(task)[0][0] == "claude"


def test_malformed_reports_are_400_and_write_nothing(api, ws, run):
    task = run()
    for usage in ("x", [1], [{**ENTRY, "input_tokens": "many"}], [{**ENTRY, "model": 5}]):
        resp = report(api, ws.owner, task.id, usage).want(400)
        assert resp.json()["error"] == "invalid request body"
    assert rows(task) == []


def test_a_foreign_daemon_gets_404_and_writes_nothing(api, ws, other_ws, run):
    task = run()
    resp = report(api, other_ws.owner, task.id, [ENTRY]).want(404)
    assert resp.json()["error"] == "task not found"
    report(api, ws.owner, "00000000-0000-0000-0000-000000000000", [ENTRY]).want(404)
    assert rows(task) == []


def test_a_task_without_runtime_is_404(api, ws, run):
    task = run()
    AgentTask.objects.filter(pk=task.pk).update(runtime=None)
    report(api, ws.owner, task.id, [ENTRY]).want(404)


def test_task_runs_carry_usage(api, ws, run, issue):
    used, unused = run(), run(status="failed")
    report(api, ws.owner, used.id, [ENTRY, {**ENTRY, "model": "haiku", "cost_usd_ticks": 3}])
    body = api.as_user(ws.owner).get(f"/api/issues/{issue.id}/task-runs", ws=ws.workspace)
    by_id = {t["id"]: t for t in body.want(200).json()}
    assert "usage" not in by_id[str(unused.id)]  # no usage recorded ⇒ left out
    assert by_id[str(used.id)]["usage"] == [
        {
            "provider": "claude", "model": "claude-sonnet-4", "input_tokens": 1200,
            "output_tokens": 300, "cache_read_tokens": 4000, "cache_write_tokens": 50,
        },
        {
            "provider": "claude", "model": "haiku", "input_tokens": 1200, "output_tokens": 300,
            "cache_read_tokens": 4000, "cache_write_tokens": 50, "cost_usd_ticks": 3,
        },
    ]  # fmt: skip


def test_daemon_tokens_report_only_in_their_workspace(api, ws, other_ws, run):
    from tests.runtimes.helpers import mint_daemon_token

    task = run()
    own = mint_daemon_token(ws.workspace, ws.owner, daemon_id=task.runtime.daemon_id)
    foreign = mint_daemon_token(other_ws.workspace, other_ws.owner, daemon_id="elsewhere")
    url = f"/api/daemon/tasks/{task.id}/usage"
    api.with_token(foreign).post(url, json={"usage": [ENTRY]}).want(404)
    assert rows(task) == []
    api.with_token(own).post(url, json={"usage": [ENTRY]}).want(200)
    assert len(rows(task)) == 1


def test_task_runs_usage_costs_one_query_whatever_the_count(api, ws, run, issue):
    def runs_queries() -> int:
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as ctx:
            api.as_user(ws.owner).get(f"/api/issues/{issue.id}/task-runs", ws=ws.workspace).want(
                200
            )
        return len(ctx.captured_queries)

    report(api, ws.owner, run().id, [ENTRY]).want(200)
    one = runs_queries()
    for _ in range(3):
        report(api, ws.owner, run(status="failed").id, [ENTRY, {**ENTRY, "model": "x"}])
    assert runs_queries() == one
