# ruff: noqa: F401, F811
"""``mat_`` task tokens: user API only, pinned to their workspace, acting as the agent, and
dead once the attempt ends or is reclaimed."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from agents.models import AgentTask
from issues.models import Comment
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
    task_auth,
    task_url,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def leased(ws, runtime, task, task_auth):
    return claims.task_claim(caller=caller_for(ws.owner), runtime_ids=[runtime.id], max_tasks=1)[0]


def test_token_reads_its_workspace(api, ws, leased, issue):
    client = api.with_token(leased.token)
    client.get(f"/api/issues/{issue.id}", ws=ws.workspace).want(200)
    client.get(f"/api/issues/{issue.id}").want(200)  # the binding names the workspace


def test_token_is_pinned_to_its_workspace(api, ws, other_ws, leased, issue):
    resp = api.with_token(leased.token).get(f"/api/issues/{issue.id}", ws=other_ws.workspace)
    assert resp.want(403).json()["code"] == "workspace_mismatch"


def test_token_acts_as_the_agent(api, ws, leased, issue, agent):
    api.with_token(leased.token).post(
        f"/api/issues/{issue.id}/comments", json={"content": "on it"}, ws=ws.workspace
    ).want(201)
    comment = Comment.objects.get(issue=issue, content="on it")
    assert comment.author_type == "agent"
    assert str(comment.author_id) == str(agent.id)


def test_token_does_not_open_the_daemon_api(api, ws, leased, runtime):
    client = api.with_token(leased.token)
    out = client.post("/api/daemon/tasks/claim", json={"runtime_ids": [str(runtime.id)]})
    assert out.status in (401, 403) or out.json() == {"tasks": []}
    assert client.post(task_url(leased.task.id, "start")).status in (401, 403, 404)
    leased.task.refresh_from_db()
    assert leased.task.status == "dispatched"


def test_token_revoked_at_terminal_transition(api, ws, leased, issue):
    api.as_user(ws.owner).post(task_url(leased.task.id, "start")).want(200)
    api.with_token(leased.token).get(f"/api/issues/{issue.id}").want(200)
    api.as_user(ws.owner).post(task_url(leased.task.id, "complete"), json={"output": ""}).want(200)
    api.with_token(leased.token).get(f"/api/issues/{issue.id}").want(401)


def test_token_of_a_reclaimed_attempt_is_dead(api, ws, runtime, leased, issue):
    AgentTask.objects.filter(pk=leased.task.pk).update(
        dispatched_at=timezone.now() - timedelta(seconds=120),
        prepare_lease_expires_at=timezone.now() - timedelta(seconds=1),
    )
    again = claims.task_claim(caller=caller_for(ws.owner), runtime_ids=[runtime.id], max_tasks=1)
    api.with_token(leased.token).get(f"/api/issues/{issue.id}").want(401)
    api.with_token(again[0].token).get(f"/api/issues/{issue.id}").want(200)


def test_token_dies_when_the_task_is_cancelled(api, ws, leased, issue):
    AgentTask.objects.filter(pk=leased.task.pk).update(status="cancelled")
    api.with_token(leased.token).get(f"/api/issues/{issue.id}").want(401)


def test_expired_token_is_401(api, ws, leased, issue):
    from runtimes.models import TaskToken

    TaskToken.objects.filter(task=leased.task).update(expires_at=timezone.now())
    api.with_token(leased.token).get(f"/api/issues/{issue.id}").want(401)


def test_unknown_task_token_is_401(api, task_auth, issue):
    api.with_token("mat_" + "0" * 40).get(f"/api/issues/{issue.id}").want(401)
