# ruff: noqa: F401, F811
"""Claims over HTTP and in the service: freshness, capacity, one run per (agent, issue),
redelivery of a lost response, payload shape, tenant isolation."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from agents.models import Agent, AgentSkill, AgentTask
from runtimes.models import TaskToken
from runtimes.services import claims
from skills.models import Skill, SkillFile
from tests.runtimes.task_fixtures import (
    agent,
    caller_for,
    claim_url,
    issue,
    make_agent,
    make_issue,
    make_runtime,
    make_task,
    runtime,
    task,
    task_auth,
)

pytestmark = pytest.mark.django_db


def _claim(api, user, runtime_ids, max_tasks=8, **extra):
    body = {"daemon_id": "", "runtime_ids": [str(r) for r in runtime_ids], "max_tasks": max_tasks}
    body.update(extra)
    return api.as_user(user).post(claim_url(), json=body)


def test_claim_dispatches_and_mints_a_token(api, ws, runtime, agent, task):
    data = _claim(api, ws.owner, [runtime.id]).want(200).json()
    assert [t["id"] for t in data["tasks"]] == [str(task.id)]
    payload = data["tasks"][0]
    assert payload["auth_token"].startswith("mat_")
    assert payload["agent_id"] == payload["agent"]["id"] == str(agent.id)
    assert payload["runtime_id"] == str(runtime.id)
    assert payload["workspace_id"] == str(ws.workspace.id)
    assert payload["lease_epoch"] == 1
    task.refresh_from_db()
    assert task.status == "dispatched"
    assert task.lease_epoch == 1
    assert task.prepare_lease_expires_at > timezone.now()
    token = TaskToken.objects.get(task=task)
    assert token.lease_epoch == 1
    assert token.user_id == runtime.owner_id
    agent.refresh_from_db()
    assert agent.status == Agent.Status.WORKING
    # A second claim finds nothing.
    assert _claim(api, ws.owner, [runtime.id]).want(200).json() == {"tasks": []}


def test_alias_and_legacy_routes(api, ws, runtime, make_task, make_issue, agent):
    make_task(i=make_issue())
    make_task(i=make_issue())
    api.as_user(ws.owner).post(
        "/api/daemon/claim", json={"runtime_ids": [str(runtime.id)], "max_tasks": 1}
    ).want(200)
    data = api.as_user(ws.owner).post(f"/api/daemon/runtimes/{runtime.id}/tasks/claim").want(200)
    assert data.json()["task"]["runtime_id"] == str(runtime.id)
    assert api.as_user(ws.owner).post(f"/api/daemon/runtimes/{runtime.id}/tasks/claim").want(
        200
    ).json() == {"task": None}


def test_max_tasks_zero_and_cap(api, ws, runtime, task):
    assert _claim(api, ws.owner, [runtime.id], max_tasks=0).want(200).json() == {"tasks": []}
    task.refresh_from_db()
    assert task.status == "queued"


def test_stale_or_offline_runtime_gets_nothing(api, ws, runtime, task):
    runtime.last_seen_at = timezone.now() - timedelta(seconds=151)
    runtime.save()
    assert _claim(api, ws.owner, [runtime.id]).want(200).json()["tasks"] == []
    runtime.last_seen_at = timezone.now()
    runtime.status = "offline"
    runtime.save()
    assert _claim(api, ws.owner, [runtime.id]).want(200).json()["tasks"] == []


def test_max_concurrent_tasks_is_honoured(api, ws, runtime, make_agent, make_task, make_issue):
    a = make_agent(max_concurrent_tasks=2)
    for _ in range(4):
        make_task(a=a, i=make_issue())
    assert len(_claim(api, ws.owner, [runtime.id]).want(200).json()["tasks"]) == 2
    assert _claim(api, ws.owner, [runtime.id]).want(200).json()["tasks"] == []


def test_one_active_run_per_agent_and_issue(ws, runtime, agent, issue, make_task):
    running = make_task(status="running", lease_epoch=1)
    queued = make_task()
    assert (
        claims.task_claim(caller=caller_for(ws.owner), runtime_ids=[runtime.id], max_tasks=8) == []
    )
    running.status = "completed"
    running.save()
    got = claims.task_claim(caller=caller_for(ws.owner), runtime_ids=[runtime.id], max_tasks=8)
    assert [c.task.pk for c in got] == [queued.pk]


def test_priority_then_age(ws, runtime, make_agent, make_task, make_issue):
    a = make_agent()
    low = make_task(a=a, i=make_issue(), priority=1)
    high = make_task(a=a, i=make_issue(), priority=4)
    got = claims.task_claim(caller=caller_for(ws.owner), runtime_ids=[runtime.id], max_tasks=1)
    assert [c.task.pk for c in got] == [high.pk]
    got = claims.task_claim(caller=caller_for(ws.owner), runtime_ids=[runtime.id], max_tasks=1)
    assert [c.task.pk for c in got] == [low.pk]


def test_lost_response_is_redelivered_to_the_same_runtime(settings, ws, runtime, task):
    first = claims.task_claim(caller=caller_for(ws.owner), runtime_ids=[runtime.id], max_tasks=1)
    old_token = first[0].token
    # Inside the window: nothing.
    assert (
        claims.task_claim(caller=caller_for(ws.owner), runtime_ids=[runtime.id], max_tasks=1) == []
    )
    AgentTask.objects.filter(pk=task.pk).update(
        dispatched_at=timezone.now() - timedelta(seconds=91),
        prepare_lease_expires_at=timezone.now() - timedelta(seconds=1),
    )
    again = claims.task_claim(caller=caller_for(ws.owner), runtime_ids=[runtime.id], max_tasks=1)
    assert [c.task.pk for c in again] == [task.pk]
    assert again[0].task.lease_epoch == 2
    assert again[0].token != old_token
    assert TaskToken.objects.filter(task=task).count() == 1
    assert TaskToken.objects.get(task=task).lease_epoch == 2


def test_started_task_is_never_redelivered(ws, runtime, task):
    claims.task_claim(caller=caller_for(ws.owner), runtime_ids=[runtime.id], max_tasks=1)
    AgentTask.objects.filter(pk=task.pk).update(
        status="running",
        started_at=timezone.now(),
        dispatched_at=timezone.now() - timedelta(seconds=500),
    )
    assert (
        claims.task_claim(caller=caller_for(ws.owner), runtime_ids=[runtime.id], max_tasks=1) == []
    )


def test_deferred_due_task_is_promoted(ws, runtime, agent, make_task):
    t = make_task(status="deferred", fire_at=timezone.now() - timedelta(seconds=1))
    got = claims.task_claim(caller=caller_for(ws.owner), runtime_ids=[runtime.id], max_tasks=1)
    assert [c.task.pk for c in got] == [t.pk]


def test_payload_skills_inline_or_refs_and_env(api, ws, runtime, agent, task):
    skill = Skill.objects.create(workspace=ws.workspace, name="lint", content="# Lint")
    SkillFile.objects.create(skill=skill, path="scripts/run.sh", content="echo hi")
    AgentSkill.objects.create(agent=agent, skill=skill)
    agent.custom_env = {"API_KEY": "s3cret"}
    agent.custom_args = ["--fast"]
    agent.mcp_config = {"mcpServers": {}}
    agent.model = "sonnet"
    agent.save()
    payload = _claim(api, ws.owner, [runtime.id]).want(200).json()["tasks"][0]
    block = payload["agent"]
    assert block["custom_env"] == {"API_KEY": "s3cret"}
    assert block["custom_args"] == ["--fast"]
    assert block["mcp_config"] == {"mcpServers": {}}
    assert block["model"] == "sonnet"
    assert block["skills"][0]["content"] == "# Lint"
    assert block["skills"][0]["files"][0]["content"] == "echo hi"
    assert "skill_refs" not in block

    runtime.client_capabilities = ["skill-bundles-v1"]
    runtime.save()
    AgentTask.objects.filter(pk=task.pk).update(status="completed")
    task2 = AgentTask.objects.create(
        workspace=ws.workspace, agent=agent, issue=task.issue, runtime=runtime
    )
    payload = _claim(api, ws.owner, [runtime.id]).want(200).json()["tasks"][0]
    assert payload["id"] == str(task2.id)
    refs = payload["agent"]["skill_refs"]
    assert "skills" not in payload["agent"]
    assert refs[0]["file_count"] == 1
    assert "content" not in refs[0]["files"][0]
    bundles = (
        api.as_user(ws.owner)
        .post(
            f"/api/daemon/runtimes/{runtime.id}/tasks/{task2.id}/skill-bundles/resolve",
            json={"skills": [refs[0]]},
        )
        .want(200)
        .json()["bundles"]
    )
    assert bundles[0]["hash"] == refs[0]["hash"]
    assert bundles[0]["content"] == "# Lint"


def test_prior_session_only_from_the_same_runtime(
    ws, runtime, make_runtime, agent, issue, make_task
):
    make_task(status="completed", session_id="sess-1", work_dir="/w/1")
    t = make_task()
    got = claims.task_claim(caller=caller_for(ws.owner), runtime_ids=[runtime.id], max_tasks=1)
    payload = claims.claim_payload(got[0])
    assert payload["id"] == str(t.id)
    assert payload["prior_session_id"] == "sess-1"
    assert payload["prior_work_dir"] == "/w/1"
    other = make_runtime()
    AgentTask.objects.filter(pk=t.pk).update(status="completed")
    t3 = make_task(runtime_id=other.id)
    AgentTask.objects.filter(pk=t.pk).update(runtime=runtime, session_id="sess-2")
    got = claims.task_claim(caller=caller_for(ws.owner), runtime_ids=[other.id], max_tasks=1)
    payload = claims.claim_payload(got[0])
    assert payload["id"] == str(t3.id)
    assert "prior_session_id" not in payload


def test_trigger_and_coalesced_comments(ws, runtime, agent, issue, make_task):
    from issues.services.comments import comment_create
    from tests.runtimes.task_fixtures import owner_ctx

    ctx = owner_ctx(ws.workspace, ws.owner)
    first = comment_create(ctx=ctx, issue_ref=str(issue.id), content="please fix").comment
    second = comment_create(ctx=ctx, issue_ref=str(issue.id), content="also this").comment
    AgentTask.objects.filter(issue=issue).delete()
    make_task(trigger_comment_id=first.id, coalesced_comment_ids=[second.id])
    got = claims.task_claim(caller=caller_for(ws.owner), runtime_ids=[runtime.id], max_tasks=1)
    payload = claims.claim_payload(got[0])
    assert payload["trigger_comment_content"] == "please fix"
    assert payload["trigger_author_type"] == "member"
    assert [c["content"] for c in payload["coalesced_comments"]] == ["also this"]


def test_foreign_daemon_cannot_claim(api, ws, other_ws, runtime, task):
    assert _claim(api, other_ws.owner, [runtime.id]).want(200).json() == {"tasks": []}
    api.as_user(other_ws.owner).post(f"/api/daemon/runtimes/{runtime.id}/tasks/claim").want(404)
    task.refresh_from_db()
    assert task.status == "queued"
    assert task.lease_epoch == 0


def test_unauthenticated_claim_is_401(api, runtime):
    api.post(claim_url(), json={"runtime_ids": [str(runtime.id)]}).want(401)
