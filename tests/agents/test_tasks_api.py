"""Web task endpoints (spec §7.3, §7.4): runs, active tasks, cancel, rerun, messages."""

from __future__ import annotations

import pytest
from django.utils import timezone

from agents.models import Agent, AgentTask, TaskMessage
from issues.services import comments as comment_services
from issues.wire import issue_prefix
from tests.agents.conftest_dispatch import *  # noqa: F403
from tests.agents.conftest_dispatch import context_for, mention, tasks_of

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("dispatch")]

TASK_KEYS = [
    "id", "agent_id", "runtime_id", "issue_id", "workspace_id", "status", "priority",
    "dispatched_at", "started_at", "completed_at", "result", "error", "attempt",
    "max_attempts", "created_at", "delivered_comment_ids", "kind", "attribution",
]  # fmt: skip


def assign(agent: Agent) -> dict:
    return {"assignee_type": "agent", "assignee_id": str(agent.id)}


@pytest.fixture
def issue(owner_ctx, agent, make_issue):
    return make_issue(owner_ctx, priority="urgent", **assign(agent))


@pytest.fixture
def owner(api, ws):
    return api.as_user(ws.owner)


def test_task_runs_shape_newest_first(owner, ws, issue, agent, owner_ctx):
    first = tasks_of(issue)[0]
    AgentTask.objects.filter(pk=first.pk).update(
        status="completed", result={"ok": True}, completed_at=timezone.now()
    )
    posted = comment_services.comment_create(
        ctx=owner_ctx, issue_ref=issue.id, content=mention(agent)
    )
    rows = owner.get(f"/api/issues/{issue.id}/task-runs", ws=ws.workspace).want(200).json()
    assert [r["status"] for r in rows] == ["queued", "completed"]
    newest, oldest = rows
    assert list(oldest) == TASK_KEYS
    assert oldest["result"] == {"ok": True}
    assert oldest["kind"] == "direct"
    assert oldest["priority"] == 4
    assert oldest["runtime_id"] == str(agent.runtime_id)
    assert oldest["delivered_comment_ids"] == []
    assert oldest["attribution"] == {
        "source": "direct_human",
        "precise": True,
        "initiator": {"id": str(ws.owner.id), "name": "Owner", "email": "owner@example.com"},
        "originator": {"id": str(ws.owner.id), "name": "Owner", "email": "owner@example.com"},
    }
    assert newest["kind"] == "comment"
    assert newest["trigger_comment_id"] == str(posted.comment.id)
    assert newest["attribution"]["evidence"] == {
        "kind": "comment",
        "ref_id": str(posted.comment.id),
    }
    # Identifier addressing works too.
    ident = owner.get(
        f"/api/issues/{issue_prefix(ws.workspace)}-{issue.number}/task-runs", ws=ws.workspace
    ).want(200)
    assert len(ident.json()) == 2


def test_active_task(owner, ws, issue):
    body = owner.get(f"/api/issues/{issue.id}/active-task", ws=ws.workspace).want(200).json()
    assert [t["status"] for t in body["tasks"]] == ["queued"]
    AgentTask.objects.filter(issue=issue).update(status="failed")
    body = owner.get(f"/api/issues/{issue.id}/active-task", ws=ws.workspace).want(200).json()
    assert body == {"tasks": []}


def test_issue_task_cancel(
    owner, ws, issue, agent, captured_events, django_capture_on_commit_callbacks
):
    task = tasks_of(issue)[0]
    AgentTask.objects.filter(pk=task.pk).update(status="running")
    Agent.objects.filter(pk=agent.pk).update(status="working")
    with django_capture_on_commit_callbacks(execute=True):
        body = (
            owner.post(f"/api/issues/{issue.id}/tasks/{task.id}/cancel", ws=ws.workspace)
            .want(200)
            .json()
        )
    assert body["status"] == "cancelled"
    assert body["completed_at"]
    [event] = captured_events.of("task:cancelled")
    assert event.payload == {
        "task_id": str(task.id),
        "agent_id": str(agent.id),
        "issue_id": str(issue.id),
        "status": "cancelled",
    }
    assert event.actor_type == "system"
    [status] = captured_events.of("agent:status")
    assert status.payload["agent"]["status"] == "idle"
    agent.refresh_from_db()
    assert agent.status == "idle"
    # Already cancelled → 400 with the reason.
    again = owner.post(f"/api/issues/{issue.id}/tasks/{task.id}/cancel", ws=ws.workspace)
    assert again.want(400).json()["error"] == "task cannot be cancelled: it is already cancelled"


def test_issue_task_cancel_404_for_another_issues_task(owner, ws, owner_ctx, agent, make_issue):
    one = make_issue(owner_ctx, **assign(agent))
    two = make_issue(owner_ctx)
    task = tasks_of(one)[0]
    owner.post(f"/api/issues/{two.id}/tasks/{task.id}/cancel", ws=ws.workspace).want(404)
    assert AgentTask.objects.get(pk=task.pk).status == "queued"


def test_task_cancel_by_id(owner, ws, issue):
    task = tasks_of(issue)[0]
    body = owner.post(f"/api/tasks/{task.id}/cancel", ws=ws.workspace).want(200).json()
    assert body["id"] == str(task.id)
    assert body["status"] == "cancelled"
    owner.post(f"/api/tasks/{task.id}/cancel", ws=ws.workspace).want(400)


def test_task_cancel_by_id_403_without_agent_access(api, ws, issue, make_agent):
    task = tasks_of(issue)[0]  # the owner's private agent
    body = api.as_user(ws.member).post(f"/api/tasks/{task.id}/cancel", ws=ws.workspace)
    assert body.want(403).json()["error"] == "you do not have access to this agent"
    api.as_user(ws.admin).post(f"/api/tasks/{task.id}/cancel", ws=ws.workspace).want(200)


def test_task_cancel_by_id_expected_status(owner, ws, issue):
    task = tasks_of(issue)[0]
    owner.post(f"/api/tasks/{task.id}/cancel?expected_status=running", ws=ws.workspace).want(400)
    owner.post(
        f"/api/tasks/{task.id}/cancel?expected_status=queued&chat_session_id={task.id}"
        "&queue_action=remove",
        ws=ws.workspace,
    ).want(409)
    assert AgentTask.objects.get(pk=task.pk).status == "queued"


def test_task_routes_404_in_another_workspace(api, ws, other_ws, issue):
    task = tasks_of(issue)[0]
    intruder = api.as_user(other_ws.owner)
    own = {"ws": other_ws.workspace}
    intruder.post(f"/api/tasks/{task.id}/cancel", **own).want(404)
    intruder.get(f"/api/tasks/{task.id}/messages", **own).want(404)
    intruder.get(f"/api/issues/{issue.id}/task-runs", **own).want(404)
    intruder.get(f"/api/issues/{issue.id}/active-task", **own).want(404)
    intruder.post(f"/api/issues/{issue.id}/tasks/{task.id}/cancel", **own).want(404)
    intruder.post(f"/api/issues/{issue.id}/rerun", json={}, **own).want(404)
    # Naming the victim workspace is refused before anything is looked up.
    intruder.get(f"/api/issues/{issue.id}/task-runs", ws=ws.workspace).want(404)
    assert AgentTask.objects.get(pk=task.pk).status == "queued"
    assert AgentTask.objects.count() == 1


# --- rerun ------------------------------------------------------------------------------------


def test_rerun_by_task_id(owner, ws, owner_ctx, agent, make_issue, captured_events):
    issue = make_issue(owner_ctx)
    posted = comment_services.comment_create(
        ctx=owner_ctx, issue_ref=issue.id, content=mention(agent)
    )
    source = tasks_of(issue)[0]
    AgentTask.objects.filter(pk=source.pk).update(status="completed")
    body = (
        owner.post(f"/api/issues/{issue.id}/rerun", json={"task_id": str(source.id)},
                   ws=ws.workspace)
        .want(202)
        .json()
    )  # fmt: skip
    assert body["status"] == "queued"
    assert body["attribution"]["rerun_of_task_id"] == str(source.id)
    assert body["trigger_comment_id"] == str(posted.comment.id)
    new = AgentTask.objects.get(pk=body["id"])
    assert new.force_fresh_session is True
    assert new.rerun_of_task_id == source.id
    assert new.agent_id == agent.id


def test_rerun_default_targets_assignee_and_replaces_pending(
    owner, ws, issue, captured_events, django_capture_on_commit_callbacks
):
    old = tasks_of(issue)[0]
    with django_capture_on_commit_callbacks(execute=True):
        body = owner.post(f"/api/issues/{issue.id}/rerun", ws=ws.workspace).want(202).json()
    assert AgentTask.objects.get(pk=old.pk).status == "cancelled"
    assert body["id"] != str(old.id)
    assert "rerun_of_task_id" not in body["attribution"]
    assert captured_events.types().count("task:queued") == 1
    assert captured_events.types().count("task:cancelled") == 1


def test_rerun_leaves_running_task_alone(owner, ws, issue):
    running = tasks_of(issue)[0]
    AgentTask.objects.filter(pk=running.pk).update(status="running")
    owner.post(f"/api/issues/{issue.id}/rerun", json={}, ws=ws.workspace).want(202)
    assert sorted(t.status for t in tasks_of(issue)) == ["queued", "running"]


def test_rerun_403_when_caller_may_not_invoke(api, ws, issue):
    body = api.as_user(ws.member).post(f"/api/issues/{issue.id}/rerun", ws=ws.workspace)
    assert body.want(403).json()["reason_code"] == "invocation_not_allowed"
    assert [t.status for t in tasks_of(issue)] == ["queued"]  # nothing cancelled


def test_rerun_400s(owner, ws, owner_ctx, make_issue, make_agent, issue):
    unassigned = make_issue(owner_ctx)
    r = owner.post(f"/api/issues/{unassigned.id}/rerun", ws=ws.workspace).want(400)
    assert r.json()["error"] == "issue is not assigned to an agent or squad"
    other_task = tasks_of(issue)[0]
    r = owner.post(
        f"/api/issues/{unassigned.id}/rerun", json={"task_id": str(other_task.id)},
        ws=ws.workspace,
    ).want(400)  # fmt: skip
    assert r.json()["error"] == "source task does not belong to this issue"
    owner.post(
        f"/api/issues/{unassigned.id}/rerun", json={"task_id": "nope"}, ws=ws.workspace
    ).want(400)
    unbound = make_agent(runtime=None)
    parked = make_issue(owner_ctx, **assign(unbound))
    r = owner.post(f"/api/issues/{parked.id}/rerun", ws=ws.workspace).want(400)
    assert r.json()["reason_code"] == "agent_runtime_required"


# --- messages ---------------------------------------------------------------------------------


def test_messages_since(owner, ws, issue):
    task = tasks_of(issue)[0]
    for seq, kind in ((1, "text"), (2, "tool_use"), (3, "tool_result")):
        TaskMessage.objects.create(
            workspace=ws.workspace, task=task, seq=seq, type=kind,
            content="hi" if kind == "text" else None,
            tool="bash" if kind != "text" else None,
            input={"cmd": "ls"} if kind == "tool_use" else None,
            output="a\nb" if kind == "tool_result" else None,
        )  # fmt: skip
    rows = owner.get(f"/api/tasks/{task.id}/messages", ws=ws.workspace).want(200).json()
    assert [r["seq"] for r in rows] == [1, 2, 3]
    assert set(rows[0]) == {"task_id", "issue_id", "seq", "type", "content", "created_at"}
    assert rows[0]["issue_id"] == str(issue.id)
    assert rows[1]["input"] == {"cmd": "ls"}
    assert rows[2]["output"] == "a\nb"
    later = owner.get(f"/api/tasks/{task.id}/messages?since=1", ws=ws.workspace).want(200)
    assert [r["seq"] for r in later.json()] == [2, 3]
    owner.get(f"/api/tasks/{task.id}/messages?since=x", ws=ws.workspace).want(400)


def test_member_sees_runs(api, ws, owner_ctx, make_agent, make_issue):
    agent = make_agent(targets=[("workspace", ws.workspace.id)])
    issue = make_issue(context_for(ws.workspace, ws.member), **assign(agent))
    rows = api.as_user(ws.member).get(f"/api/issues/{issue.id}/task-runs", ws=ws.workspace)
    [row] = rows.want(200).json()
    assert row["attribution"]["originator"]["id"] == str(ws.member.id)
