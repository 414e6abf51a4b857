# ruff: noqa: F401, F811
"""Daemon reports on a leased task: the state machine, fencing by lease epoch, idempotent
terminal reports, retries, and tenant isolation of every route."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from agents.models import Agent, AgentTask, TaskMessage
from issues.models import Comment
from runtimes.models import TaskReport, TaskToken
from runtimes.services import claims
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
    task_url,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def leased(ws, runtime, task):
    claimed = claims.task_claim(caller=caller_for(ws.owner), runtime_ids=[runtime.id], max_tasks=1)
    assert [c.task.pk for c in claimed] == [task.pk]
    return claimed[0]


def _post(api, user, task_id, action, body=None, **kw):
    return api.as_user(user).post(task_url(task_id, action), json=body or {}, **kw)


def _start(api, ws, task):
    return _post(api, ws.owner, task.id, "start").want(200).json()


def test_full_run(api, ws, leased, captured_events, django_capture_on_commit_callbacks):
    task = leased.task
    with django_capture_on_commit_callbacks(execute=True):
        started = _start(api, ws, task)
        assert started["status"] == "running"
        assert started["started_at"]
        _post(
            api, ws.owner, task.id, "progress", {"summary": "Launching", "step": 1, "total": 2}
        ).want(200)
        _post(
            api,
            ws.owner,
            task.id,
            "messages",
            {
                "messages": [
                    {"seq": 2, "type": "text", "content": "done\x00"},
                    {"seq": 1, "type": "tool_use", "tool": "Bash", "input": {"cmd": "ls\x00"}},
                ]
            },
        ).want(200)
        _post(api, ws.owner, task.id, "session", {"session_id": "s-1", "work_dir": "/w"}).want(204)
        assert (
            api.as_user(ws.owner).get(task_url(task.id, "status")).want(200).json()["status"]
            == "running"
        )
        done = _post(api, ws.owner, task.id, "complete", {"output": "All fixed"}).want(200).json()
    assert done["status"] == "completed"
    task.refresh_from_db()
    assert task.result == {"output": "All fixed"}
    assert task.session_id == "s-1"
    msgs = list(TaskMessage.objects.filter(task=task).order_by("seq"))
    assert [m.seq for m in msgs] == [1, 2]
    assert msgs[1].content == "done"
    assert msgs[0].input == {"cmd": "ls"}
    assert not TaskToken.objects.filter(task=task).exists()
    comment = Comment.objects.get(issue_id=task.issue_id, author_type="agent")
    assert comment.content == "All fixed"
    assert str(comment.author_id) == str(task.agent_id)
    types = captured_events.types()
    for event in (
        "task:running",
        "task:progress",
        "task:message",
        "task:completed",
    ):
        assert event in types
    assert [e.payload["seq"] for e in captured_events.of("task:message")] == [1, 2]
    assert Agent.objects.get(pk=task.agent_id).status == "idle"


def test_start_refused_after_cancel(api, ws, leased):
    AgentTask.objects.filter(pk=leased.task.pk).update(status="cancelled")
    resp = _post(api, ws.owner, leased.task.id, "start").want(409)
    assert resp.json()["code"] == "lease_lost"


def test_wait_local_directory_then_start(
    api, ws, leased, captured_events, django_capture_on_commit_callbacks
):
    task = leased.task
    reason = "local_directory /src/app (held by task 0190abcd)"
    before = AgentTask.objects.get(pk=task.pk).prepare_lease_expires_at
    with django_capture_on_commit_callbacks(execute=True):
        body = _post(api, ws.owner, task.id, "wait-local-directory", {"reason": reason})
    out = body.want(200).json()
    assert out["status"] == "waiting_local_directory"
    row = AgentTask.objects.get(pk=task.pk)
    assert row.wait_reason == reason
    assert row.prepare_lease_expires_at >= before
    (event,) = captured_events.of("task:waiting_local_directory")
    assert event.payload["wait_reason"] == reason
    assert event.payload["task_id"] == str(task.id)
    assert _start(api, ws, task)["status"] == "running"
    _post(api, ws.owner, task.id, "wait-local-directory", {"reason": "x"}).want(409)


def test_wait_local_directory_fenced(api, ws, leased):
    stale = {"X-Lease-Epoch": str(leased.task.lease_epoch + 1)}
    resp = _post(api, ws.owner, leased.task.id, "wait-local-directory", {}, headers=stale)
    assert resp.want(409).json()["code"] == "lease_lost"
    AgentTask.objects.filter(pk=leased.task.pk).update(status="cancelled")
    _post(api, ws.owner, leased.task.id, "wait-local-directory", {"reason": "r"}).want(409)
    assert AgentTask.objects.get(pk=leased.task.pk).wait_reason is None


def test_complete_requires_running(api, ws, leased):
    _post(api, ws.owner, leased.task.id, "complete", {"output": "x"}).want(409)
    leased.task.refresh_from_db()
    assert leased.task.status == "dispatched"


def test_stale_epoch_is_fenced_without_side_effects(api, ws, leased):
    task = leased.task
    _start(api, ws, task)
    stale = {"X-Lease-Epoch": "0"}
    for action, body in (
        ("messages", {"messages": [{"seq": 1, "type": "text", "content": "x"}]}),
        ("session", {"session_id": "zzz"}),
        ("progress", {"summary": "x"}),
        ("complete", {"output": "late"}),
        ("fail", {"error": "late"}),
        ("cancel-ack", {}),
    ):
        resp = _post(api, ws.owner, task.id, action, body, headers=stale).want(409)
        assert resp.json()["code"] == "lease_lost"
    task.refresh_from_db()
    assert task.status == "running"
    assert task.session_id is None
    assert not TaskMessage.objects.filter(task=task).exists()
    assert TaskToken.objects.filter(task=task).exists()
    # The current epoch works (header or body).
    _post(api, ws.owner, task.id, "complete", {"output": "ok", "lease_epoch": 1}).want(200)


def test_reports_after_terminal_are_refused(api, ws, leased):
    task = leased.task
    _start(api, ws, task)
    _post(api, ws.owner, task.id, "fail", {"error": "boom"}).want(200)
    _post(api, ws.owner, task.id, "complete", {"output": "late"}).want(409)
    _post(api, ws.owner, task.id, "fail", {"error": "again"}).want(409)
    _post(api, ws.owner, task.id, "messages", {"messages": [{"seq": 9, "type": "text"}]}).want(409)
    task.refresh_from_db()
    assert task.status == "failed"
    assert task.error == "boom"
    # cancel-ack of an ended task is a plain acknowledgement.
    assert _post(api, ws.owner, task.id, "cancel-ack").want(200).json() == {"status": "ok"}


def test_complete_is_idempotent_with_key(api, ws, leased):
    task = leased.task
    _start(api, ws, task)
    key = {"Idempotency-Key": "k-1"}
    first = _post(api, ws.owner, task.id, "complete", {"output": "A"}, headers=key).want(200).json()
    again = _post(api, ws.owner, task.id, "complete", {"output": "A"}, headers=key).want(200).json()
    assert first == again
    other = _post(api, ws.owner, task.id, "complete", {"output": "B"}, headers=key).want(422)
    assert other.json()["code"] == "idempotency_key_mismatch"
    assert TaskReport.objects.filter(task=task).count() == 1
    assert Comment.objects.filter(issue_id=task.issue_id, author_type="agent").count() == 1
    # Without a key, a repeated complete of the completed attempt is an idempotent success.
    _post(api, ws.owner, task.id, "complete", {"output": "A"}).want(200)
    assert Comment.objects.filter(issue_id=task.issue_id, author_type="agent").count() == 1


def test_retryable_failure_creates_the_next_attempt(api, ws, leased, runtime):
    task = leased.task
    _start(api, ws, task)
    _post(
        api,
        ws.owner,
        task.id,
        "fail",
        {"error": "net", "failure_reason": "agent_error.provider_network"},
    ).want(200)
    child = AgentTask.objects.get(retry_of_task_id=task.id)
    assert child.status == "queued"
    assert child.attempt == 2
    assert child.parent_task_id == task.id
    # The retry is claimable; a retryable failure of the last attempt makes no more.
    got = claims.task_claim(caller=caller_for(ws.owner), runtime_ids=[runtime.id], max_tasks=1)
    assert [c.task.pk for c in got] == [child.pk]
    _post(api, ws.owner, child.id, "fail", {"error": "net", "failure_reason": "timeout"}).want(200)
    assert not AgentTask.objects.filter(retry_of_task_id=child.id).exists()


def test_non_retryable_failure_makes_no_retry(api, ws, leased):
    _post(
        api,
        ws.owner,
        leased.task.id,
        "fail",
        {"error": "x", "failure_reason": "agent_error.unknown"},
    ).want(200)
    assert not AgentTask.objects.filter(retry_of_task_id=leased.task.id).exists()


def test_cancel_ack_of_active_task_cancels_once(api, ws, leased):
    _start(api, ws, leased.task)
    _post(api, ws.owner, leased.task.id, "cancel-ack", {"error_message": "stopped"}).want(200)
    leased.task.refresh_from_db()
    assert leased.task.status == "cancelled"
    assert not TaskToken.objects.filter(task=leased.task).exists()


def test_prepare_lease_extends(api, ws, leased, runtime):
    AgentTask.objects.filter(pk=leased.task.pk).update(prepare_lease_expires_at=timezone.now())
    api.as_user(ws.owner).post(
        f"/api/daemon/runtimes/{runtime.id}/tasks/{leased.task.id}/prepare-lease"
    ).want(200)
    leased.task.refresh_from_db()
    assert leased.task.prepare_lease_expires_at > timezone.now() + timedelta(seconds=30)
    _post(api, ws.owner, leased.task.id, "prepare-lease").want(200)


def test_recover_orphans(api, ws, runtime, make_task, make_issue):
    a = make_task(i=make_issue())
    b = make_task(i=make_issue())
    claims.task_claim(caller=caller_for(ws.owner), runtime_ids=[runtime.id], max_tasks=2)
    out = (
        api.as_user(ws.owner)
        .post(
            "/api/daemon/recover-orphans",
            json={"runtime_ids": [str(runtime.id)], "held_task_ids": [str(a.id)]},
        )
        .want(200)
        .json()
    )
    assert out == {"orphaned": 1, "retried": 1}
    b.refresh_from_db()
    assert b.status == "failed"
    assert b.failure_reason == "runtime_recovery"
    out = api.as_user(ws.owner).post(f"/api/daemon/runtimes/{runtime.id}/recover-orphans").want(200)
    assert out.json()["orphaned"] == 1


ROUTES = [
    ("post", "start", {}),
    ("post", "progress", {"summary": "x"}),
    ("post", "messages", {"messages": [{"seq": 1, "type": "text", "content": "x"}]}),
    ("post", "session", {"session_id": "x"}),
    ("get", "status", None),
    ("post", "complete", {"output": "x"}),
    ("post", "fail", {"error": "x"}),
    ("post", "cancel-ack", {}),
    ("post", "prepare-lease", {}),
    ("post", "wait-local-directory", {"reason": "x"}),
]


@pytest.mark.parametrize(("method", "action", "body"), ROUTES, ids=[r[1] for r in ROUTES])
def test_foreign_daemon_gets_404_and_changes_nothing(
    api, ws, other_ws, leased, method, action, body
):
    before = AgentTask.objects.filter(pk=leased.task.pk).values().get()
    client = api.as_user(other_ws.owner)
    if method == "get":
        resp = client.get(task_url(leased.task.id, action))
    else:
        resp = client.post(task_url(leased.task.id, action), json=body)
    assert resp.want(404).json()["error"] == "task not found"
    assert AgentTask.objects.filter(pk=leased.task.pk).values().get() == before
    assert not TaskMessage.objects.exists()


def test_foreign_runtime_routes_404(api, ws, other_ws, leased, runtime):
    client = api.as_user(other_ws.owner)
    client.post(f"/api/daemon/runtimes/{runtime.id}/recover-orphans").want(404)
    client.post(f"/api/daemon/runtimes/{runtime.id}/tasks/{leased.task.id}/prepare-lease").want(404)
    client.post(
        f"/api/daemon/runtimes/{runtime.id}/tasks/{leased.task.id}/skill-bundles/resolve",
        json={"skills": []},
    ).want(404)
    out = client.post("/api/daemon/recover-orphans", json={"runtime_ids": [str(runtime.id)]})
    assert out.want(200).json() == {"orphaned": 0, "retried": 0}
    leased.task.refresh_from_db()
    assert leased.task.status == "dispatched"


def test_unknown_task_is_404(api, ws):
    import uuid

    assert _post(api, ws.owner, uuid.uuid4(), "start").want(404).json()["error"] == "task not found"
