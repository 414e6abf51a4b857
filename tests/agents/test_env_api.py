"""``GET/PUT /api/agents/{id}/env`` (spec §5.3; SEC-04 env access rules, audit fail-closed)."""

from __future__ import annotations

import pytest
from django.db import DatabaseError

from agents.models import Agent
from agents.services import env as env_services
from issues.models import ActivityLog
from tests.agents import agents_helpers
from tests.agents.agents_helpers import create_agent, make_runtime

pytestmark = pytest.mark.django_db
agent_actor = agents_helpers.agent_actor

ENV_NOT_ALLOWED = "only the agent owner or a workspace owner/admin can manage this agent's env"


def err(resp):
    return resp.status, resp.json()["error"]


@pytest.fixture
def agent(api, ws):
    runtime = make_runtime(ws.workspace, ws.owner)
    return create_agent(api, ws, ws.owner, runtime, custom_env={"API_KEY": "k1", "B": "b1"})


def env_path(agent):
    return f"/api/agents/{agent['id']}/env"


def audit_rows(action):
    return list(ActivityLog.objects.filter(action=action).order_by("created_at"))


def test_create_accepts_initial_env_without_audit(agent):
    row = Agent.objects.get(pk=agent["id"])
    assert row.custom_env == {"API_KEY": "k1", "B": "b1"}
    assert row.custom_env_keys == ["API_KEY", "B"]
    assert agent["has_custom_env"] is True
    assert agent["custom_env_key_count"] == 2
    assert not ActivityLog.objects.filter(action__startswith="agent_env").exists()


def test_get_reveals_and_audits_keys_only(api, ws, agent):
    resp = api.as_user(ws.owner).get(env_path(agent), ws=ws.workspace).want(200)
    assert resp.json() == {"agent_id": agent["id"], "custom_env": {"API_KEY": "k1", "B": "b1"}}
    [row] = audit_rows("agent_env_revealed")
    assert row.issue_id is None
    assert (row.actor_type, str(row.actor_id)) == ("member", str(ws.owner.id))
    assert row.details == {
        "agent_id": agent["id"],
        "agent_name": agent["name"],
        "revealed_keys": ["API_KEY", "B"],
        "key_count": 2,
    }
    assert "k1" not in str(row.details)


def test_put_full_replacement_with_sentinel(api, ws, agent, captured_events,
                                            django_capture_on_commit_callbacks):  # fmt: skip
    body = {"custom_env": {"API_KEY": "****", "NEW": "n1", "GHOST": "****", "B": "b1"}}
    with django_capture_on_commit_callbacks(execute=True):
        resp = api.as_user(ws.owner).put(env_path(agent), json=body, ws=ws.workspace).want(200)
    assert resp.json() == {
        "agent_id": agent["id"],
        "custom_env": {"API_KEY": "k1", "NEW": "n1", "B": "b1"},
    }
    row = Agent.objects.get(pk=agent["id"])
    assert row.custom_env == {"API_KEY": "k1", "NEW": "n1", "B": "b1"}
    assert row.custom_env_keys == ["API_KEY", "B", "NEW"]
    [audit] = audit_rows("agent_env_updated")
    assert audit.details == {
        "agent_id": agent["id"],
        "agent_name": agent["name"],
        "added_keys": ["NEW"],
        "removed_keys": [],
        "changed_keys": [],
        "preserved_keys": ["API_KEY"],
    }
    [event] = captured_events.of("agent:status")
    assert event.payload["agent"]["custom_env_key_count"] == 3
    assert "k1" not in str(event.envelope())


def test_put_removes_and_changes(api, ws, agent):
    body = {"custom_env": {"API_KEY": "k2"}}
    api.as_user(ws.owner).put(env_path(agent), json=body, ws=ws.workspace).want(200)
    [audit] = audit_rows("agent_env_updated")
    assert audit.details["changed_keys"] == ["API_KEY"]
    assert audit.details["removed_keys"] == ["B"]
    assert Agent.objects.get(pk=agent["id"]).custom_env == {"API_KEY": "k2"}
    got = api.as_user(ws.owner).get(f"/api/agents/{agent['id']}", ws=ws.workspace).json()
    assert got["custom_env_key_count"] == 1


def test_put_empty_or_null_clears(api, ws, agent):
    api.as_user(ws.owner).put(env_path(agent), json={}, ws=ws.workspace).want(200)
    assert Agent.objects.get(pk=agent["id"]).custom_env == {}


def test_put_rejects_non_string_values(api, ws, agent):
    resp = api.as_user(ws.owner).put(
        env_path(agent), json={"custom_env": {"A": 1}}, ws=ws.workspace
    )
    assert err(resp) == (400, "invalid request body")


@pytest.mark.parametrize("method", ["get", "put"])
def test_access_rules(api, ws, agent, method):
    def call(user, headers=None):
        kw = {"json": {"custom_env": {}}} if method == "put" else {}
        return getattr(api.as_user(user), method)(
            env_path(agent), ws=ws.workspace, headers=headers, **kw
        )

    assert err(call(ws.member)) == (403, ENV_NOT_ALLOWED)
    call(ws.admin).want(200)
    call(ws.owner).want(200)


def test_member_manages_own_agent_env(api, ws):
    runtime = make_runtime(ws.workspace, ws.member)
    mine = create_agent(api, ws, ws.member, runtime, custom_env={"X": "1"})
    resp = api.as_user(ws.member).get(env_path(mine), ws=ws.workspace).want(200)
    assert resp.json()["custom_env"] == {"X": "1"}


def test_null_owner_agent_is_not_readable_by_members(api, ws):
    orphan = Agent.objects.create(
        workspace=ws.workspace, name="orphan", owner=None, custom_env={"S": "v"},
        custom_env_keys=["S"],
    )  # fmt: skip
    path = f"/api/agents/{orphan.id}/env"
    assert err(api.as_user(ws.member).get(path, ws=ws.workspace)) == (403, ENV_NOT_ALLOWED)
    api.as_user(ws.admin).get(path, ws=ws.workspace).want(200)


@pytest.mark.parametrize("method", ["get", "put"])
def test_agent_actor_always_refused(api, ws, agent, agent_actor, method):
    headers = {"X-Test-Agent-Actor": agent["id"]}
    kw = {"json": {"custom_env": {"A": "x"}}} if method == "put" else {}
    resp = getattr(api.as_user(ws.owner), method)(
        env_path(agent), ws=ws.workspace, headers=headers, **kw
    )
    assert err(resp) == (403, "agents may not access env management endpoints")
    assert not ActivityLog.objects.filter(action__startswith="agent_env").exists()
    assert Agent.objects.get(pk=agent["id"]).custom_env == {"API_KEY": "k1", "B": "b1"}


def test_agent_actor_refused_in_service(ws, agent):
    from multica_site.errors import PermissionDenied
    from workspaces.context import Actor

    ctx = agents_helpers.ctx_for(ws.workspace, ws.owner, actor=Actor("agent", agent["id"]))
    with pytest.raises(PermissionDenied, match="agents may not access"):
        env_services.agent_env_get(ctx=ctx, agent_id=agent["id"])


def test_reveal_fails_closed_when_audit_cannot_be_written(api, ws, agent, monkeypatch):
    def broken(**kwargs):
        raise DatabaseError("activity_log unavailable")

    monkeypatch.setattr(env_services, "write_env_audit", broken)
    resp = api.as_user(ws.owner).get(env_path(agent), ws=ws.workspace)
    assert resp.status == 500
    assert resp.json() == {
        "error": "audit log write failed; refusing to serve env without a recorded reveal",
        "code": "audit_write_failed",
    }
    assert b"k1" not in resp.body


def test_update_rolls_back_when_audit_cannot_be_written(api, ws, agent, monkeypatch):
    def broken(**kwargs):
        raise DatabaseError("activity_log unavailable")

    monkeypatch.setattr(env_services, "write_env_audit", broken)
    resp = api.as_user(ws.owner).put(
        env_path(agent), json={"custom_env": {"API_KEY": "rotated"}}, ws=ws.workspace
    )
    assert resp.status == 500
    assert resp.json()["error"] == "audit log write failed; env update rolled back"
    assert Agent.objects.get(pk=agent["id"]).custom_env == {"API_KEY": "k1", "B": "b1"}


def test_audit_insert_failing_in_the_database_fails_closed(api, ws, agent, monkeypatch):
    """The real insert raising (not a stub): the reveal is refused, nothing leaks."""
    from django.db.models.query import QuerySet

    original = QuerySet.create

    def create(self, **kwargs):
        if self.model is ActivityLog:
            raise DatabaseError("insert failed")
        return original(self, **kwargs)

    monkeypatch.setattr(QuerySet, "create", create)
    resp = api.as_user(ws.owner).get(env_path(agent), ws=ws.workspace)
    assert resp.status == 500
    assert b"k1" not in resp.body


def test_foreign_agent_env_is_404(api, ws, other_ws, agent):
    for method in ("get", "put"):
        kw = {"json": {"custom_env": {}}} if method == "put" else {}
        resp = getattr(api.as_user(other_ws.owner), method)(
            env_path(agent), ws=other_ws.workspace, **kw
        )
        assert err(resp) == (404, "agent not found")
    assert not ActivityLog.objects.filter(action__startswith="agent_env").exists()
