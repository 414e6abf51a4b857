"""Agent skill bindings (spec §5.4): list, set (replace), add (merge), enable, remove."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from agents.models import Agent, AgentSkill
from agents.services.bindings import agent_skill_list
from skills.models import Skill
from tests.skills.helpers import make_agent
from workspaces.models import Member

pytestmark = pytest.mark.django_db

SUMMARY_KEYS = {
    "id",
    "workspace_id",
    "name",
    "description",
    "config",
    "created_by",
    "created_at",
    "updated_at",
    "enabled",
}


@pytest.fixture
def agent(ws):
    return make_agent(ws.workspace, ws.member)


@pytest.fixture
def skills(ws):
    return [
        Skill.objects.create(workspace=ws.workspace, name=n, content="body", created_by=ws.owner)
        for n in ("charlie", "alpha", "bravo")
    ]


def url(agent, suffix=""):
    return f"/api/agents/{agent.id}/skills{suffix}"


def ids(rows):
    return [r["name"] for r in rows]


def test_add_merges_and_lists_by_name(
    api, ws, agent, skills, captured_events, django_capture_on_commit_callbacks
):
    user = api.as_user(ws.member)
    with django_capture_on_commit_callbacks(execute=True):
        rows = user.post(
            url(agent, "/add"), json={"skill_ids": [str(skills[0].id)]}, ws=ws.workspace
        )
    rows = rows.want(200).json()
    assert ids(rows) == ["charlie"]
    assert set(rows[0]) == SUMMARY_KEYS
    assert rows[0]["enabled"] is True
    (event,) = captured_events.of("agent:status")
    assert event.payload == {"agent_id": str(agent.id), "skills": rows}
    rows = (
        user.post(
            url(agent, "/add"),
            json={"skill_ids": [str(skills[0].id), str(skills[1].id), str(skills[1].id)]},
            ws=ws.workspace,
        )
        .want(200)
        .json()
    )
    assert ids(rows) == ["alpha", "charlie"]
    listed = api.as_user(ws.admin).get(url(agent), ws=ws.workspace).want(200).json()
    assert listed == rows


def test_set_replaces_and_empty_clears(api, ws, agent, skills):
    user = api.as_user(ws.member)
    rows = user.put(url(agent), json={"skill_ids": [str(s.id) for s in skills]}, ws=ws.workspace)
    assert ids(rows.want(200).json()) == ["alpha", "bravo", "charlie"]
    rows = user.put(url(agent), json={"skill_ids": [str(skills[2].id)]}, ws=ws.workspace)
    assert ids(rows.want(200).json()) == ["bravo"]
    assert user.put(url(agent), json={"skill_ids": []}, ws=ws.workspace).want(200).json() == []
    user.put(url(agent), json={"skill_ids": [str(skills[2].id)]}, ws=ws.workspace).want(200)
    assert user.put(url(agent), json={}, ws=ws.workspace).want(200).json() == []
    assert not AgentSkill.objects.exists()


def test_enable_disable_and_remove(api, ws, agent, skills):
    user = api.as_user(ws.member)
    user.put(url(agent), json={"skill_ids": [str(s.id) for s in skills[:2]]}, ws=ws.workspace)
    path = url(agent, f"/{skills[0].id}/enabled")
    rows = user.put(path, json={"enabled": False}, ws=ws.workspace).want(200).json()
    assert {r["name"]: r["enabled"] for r in rows} == {"alpha": True, "charlie": False}
    # add keeps the existing binding's state
    rows = user.post(url(agent, "/add"), json={"skill_ids": [str(skills[0].id)]}, ws=ws.workspace)
    assert {r["name"]: r["enabled"] for r in rows.json()} == {"alpha": True, "charlie": False}
    for bad in ({}, {"enabled": "no"}, {"enabled": None}):
        resp = user.put(path, json=bad, ws=ws.workspace)
        assert resp.want(400).json()["error"] == "enabled is required"
    resp = user.put(url(agent, f"/{skills[2].id}/enabled"), json={"enabled": True}, ws=ws.workspace)
    assert resp.want(404).json()["error"] == "agent skill not found"
    rows = user.delete(url(agent, f"/{skills[0].id}"), ws=ws.workspace).want(200).json()
    assert ids(rows) == ["alpha"]
    rows = user.delete(url(agent, f"/{skills[0].id}"), ws=ws.workspace).want(200).json()
    assert ids(rows) == ["alpha"]  # idempotent


def test_manage_rule(api, ws, agent, skills, make_user):
    other = make_user("plain@example.com")
    Member.objects.create(workspace=ws.workspace, user=other, role="member")
    denied = "only the agent owner can manage this agent"
    body = {"skill_ids": [str(skills[0].id)]}
    user = api.as_user(other)
    assert user.put(url(agent), json=body, ws=ws.workspace).want(403).json()["error"] == denied
    assert (
        user.post(url(agent, "/add"), json=body, ws=ws.workspace).want(403).json()["error"]
        == denied
    )
    path = url(agent, f"/{skills[0].id}/enabled")
    assert (
        user.put(path, json={"enabled": False}, ws=ws.workspace).want(403).json()["error"] == denied
    )
    assert (
        user.delete(url(agent, f"/{skills[0].id}"), ws=ws.workspace).want(403).json()["error"]
        == denied
    )
    assert not AgentSkill.objects.exists()
    user.get(url(agent), ws=ws.workspace).want(200)  # any member may read
    # workspace owner and admin may manage
    api.as_user(ws.admin).post(url(agent, "/add"), json=body, ws=ws.workspace).want(200)
    api.as_user(ws.owner).put(url(agent), json={"skill_ids": []}, ws=ws.workspace).want(200)


def test_foreign_or_unknown_skill_ids_are_404_and_write_nothing(api, ws, other_ws, agent, skills):
    foreign = Skill.objects.create(workspace=other_ws.workspace, name="foreign")
    user = api.as_user(ws.member)
    user.put(url(agent), json={"skill_ids": [str(skills[0].id)]}, ws=ws.workspace).want(200)
    for body in (
        {"skill_ids": [str(skills[1].id), str(foreign.id)]},
        {"skill_ids": ["00000000-0000-0000-0000-000000000001"]},
    ):
        for method, path in (("put", url(agent)), ("post", url(agent, "/add"))):
            resp = getattr(user, method)(path, json=body, ws=ws.workspace)
            assert resp.want(404).json()["error"] == "skill not found"
    assert list(AgentSkill.objects.values_list("skill_id", flat=True)) == [skills[0].id]
    resp = user.put(url(agent), json={"skill_ids": ["nope"]}, ws=ws.workspace)
    assert resp.want(400).json()["error"] == "invalid skill_ids"
    resp = user.put(url(agent), json={"skill_ids": "x"}, ws=ws.workspace)
    assert resp.want(400).json()["error"] == "invalid request body"


def test_foreign_or_unknown_agent_is_404(api, ws, other_ws, skills):
    foreign = make_agent(other_ws.workspace, other_ws.owner, name="foreign")
    system = make_agent(ws.workspace, ws.owner, name="mika")
    Agent.objects.filter(id=system.id).update(kind="system")
    user = api.as_user(ws.owner)
    for target in (foreign, system):
        for method, path, kw in (
            ("get", url(target), {}),
            ("put", url(target), {"json": {"skill_ids": []}}),
            ("post", url(target, "/add"), {"json": {"skill_ids": [str(skills[0].id)]}}),
            ("put", url(target, f"/{skills[0].id}/enabled"), {"json": {"enabled": True}}),
            ("delete", url(target, f"/{skills[0].id}"), {}),
        ):
            resp = getattr(user, method)(path, ws=ws.workspace, **kw)
            assert resp.want(404).json()["error"] == "agent not found"
    assert not AgentSkill.objects.exists()


def test_deleting_a_skill_unbinds_it(api, ws, agent, skills):
    api.as_user(ws.owner).put(
        url(agent), json={"skill_ids": [str(s.id) for s in skills]}, ws=ws.workspace
    ).want(200)
    api.as_user(ws.owner).delete(f"/api/skills/{skills[0].id}", ws=ws.workspace).want(204)
    rows = api.as_user(ws.owner).get(url(agent), ws=ws.workspace).json()
    assert ids(rows) == ["alpha", "bravo"]


def test_list_query_count(api, ws, agent, skills, django_assert_num_queries):
    for s in skills:
        AgentSkill.objects.create(agent=agent, skill=s)
    with django_assert_num_queries(1):
        assert len(agent_skill_list(agent=agent)) == 3
    with CaptureQueriesContext(connection) as few:
        api.as_user(ws.owner).get(url(agent), ws=ws.workspace).want(200)
    for i in range(10):
        AgentSkill.objects.create(
            agent=agent, skill=Skill.objects.create(workspace=ws.workspace, name=f"x{i}")
        )
    with CaptureQueriesContext(connection) as many:
        api.as_user(ws.owner).get(url(agent), ws=ws.workspace).want(200)
    assert len(few) == len(many)
