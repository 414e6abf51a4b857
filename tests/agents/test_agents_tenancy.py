"""Tenant isolation of every agent route: foreign agents are 404, foreign ids in bodies are 400,
and nothing is written."""

from __future__ import annotations

import pytest

from agents.models import Agent, AgentSkill, AgentTask
from issues.models import ActivityLog
from skills.models import Skill
from tests.agents.agents_helpers import create_agent, make_runtime

pytestmark = pytest.mark.django_db


@pytest.fixture
def victim_agent(api, ws):
    runtime = make_runtime(ws.workspace, ws.owner, visibility="public")
    agent = create_agent(api, ws, ws.owner, runtime, custom_env={"S": "victim"})
    AgentTask.objects.create(workspace=ws.workspace, agent_id=agent["id"], status="queued")
    return agent


ROUTES = [
    ("get", ""), ("put", ""), ("get", "/env"), ("put", "/env"), ("post", "/archive"),
    ("post", "/restore"), ("post", "/cancel-tasks"), ("get", "/tasks"),
]  # fmt: skip


@pytest.mark.parametrize(("method", "suffix"), ROUTES)
def test_foreign_agent_is_404(api, ws, other_ws, victim_agent, method, suffix):
    path = f"/api/agents/{victim_agent['id']}{suffix}"
    kw = {"json": {"name": "pwned", "custom_env": {}}} if method == "put" else {}
    if suffix == "/env" and method == "put":
        kw = {"json": {"custom_env": {"S": "pwned"}}}
    resp = getattr(api.as_user(other_ws.owner), method)(path, ws=other_ws.workspace, **kw)
    assert resp.status == 404
    assert resp.json()["error"] == "agent not found"
    agent = Agent.objects.get(pk=victim_agent["id"])
    assert agent.name == victim_agent["name"]
    assert agent.archived_at is None
    assert agent.custom_env == {"S": "victim"}
    assert AgentTask.objects.get(agent_id=agent.id).status == "queued"
    assert not ActivityLog.objects.filter(action__startswith="agent_env").exists()


def test_foreign_runtime_in_bodies_is_400(api, ws, other_ws):
    foreign_rt = make_runtime(ws.workspace, ws.owner, visibility="public")
    own_rt = make_runtime(other_ws.workspace, other_ws.owner)
    intruder = api.as_user(other_ws.owner)
    resp = intruder.post(
        "/api/agents", json={"name": "x", "runtime_id": str(foreign_rt.id)}, ws=other_ws.workspace
    )
    assert (resp.status, resp.json()["error"]) == (400, "invalid runtime_id")
    assert not Agent.objects.filter(workspace=other_ws.workspace).exists()
    mine = create_agent(api, other_ws, other_ws.owner, own_rt)
    resp = intruder.put(
        f"/api/agents/{mine['id']}", json={"runtime_id": str(foreign_rt.id)}, ws=other_ws.workspace
    )
    assert (resp.status, resp.json()["error"]) == (400, "invalid runtime_id")
    assert Agent.objects.get(pk=mine["id"]).runtime_id == own_rt.id


def test_foreign_skill_ids_are_400(api, ws, other_ws):
    victim_skill = Skill.objects.create(workspace=ws.workspace, name="victim-skill")
    own_rt = make_runtime(other_ws.workspace, other_ws.owner)
    resp = api.as_user(other_ws.owner).post(
        "/api/agents",
        json={"name": "x", "runtime_id": str(own_rt.id), "skill_ids": [str(victim_skill.id)]},
        ws=other_ws.workspace,
    )
    assert (resp.status, resp.json()["error"]) == (400, "skill does not belong to this workspace")
    assert not Agent.objects.filter(workspace=other_ws.workspace).exists()
    assert not AgentSkill.objects.exists()


def test_lists_never_include_other_workspaces(api, ws, other_ws, victim_agent):
    body = api.as_user(other_ws.owner).get("/api/agents", ws=other_ws.workspace).json()
    assert body == []
