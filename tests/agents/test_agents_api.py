"""``/api/agents`` (spec §5.1, §5.2): create contract, reads, update, archive/restore, tasks."""

from __future__ import annotations

import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from agents.models import Agent, AgentInvocationTarget, AgentSkill, AgentTask
from skills.models import Skill
from tests.agents import agents_helpers
from tests.agents.agents_helpers import create_agent, make_runtime

pytestmark = pytest.mark.django_db
agent_actor = agents_helpers.agent_actor


def err(resp):
    return resp.status, resp.json()["error"]


@pytest.fixture
def rt(ws):
    return make_runtime(ws.workspace, ws.owner)


@pytest.fixture
def member_rt(ws):
    return make_runtime(ws.workspace, ws.member)


# --- create -------------------------------------------------------------------------------------


def test_create_minimal_materializes_defaults(api, ws, rt, captured_events,
                                              django_capture_on_commit_callbacks):  # fmt: skip
    with django_capture_on_commit_callbacks(execute=True):
        body = create_agent(api, ws, ws.owner, rt, name="Scout")
    assert body["name"] == "Scout"
    assert body["runtime_id"] == str(rt.id)
    assert body["runtime_bound"] is True
    assert body["runtime_config"] == {}
    assert body["custom_args"] == []
    assert body["visibility"] == "private"
    assert body["permission_mode"] == "private"
    assert body["invocation_targets"] == []
    assert body["skills"] == []
    assert body["max_concurrent_tasks"] == 6
    assert body["has_custom_env"] is False
    assert body["custom_env_key_count"] == 0
    assert body["mcp_config"] is None
    assert body["mcp_config_redacted"] is False
    assert body["owner_id"] == str(ws.owner.id)
    assert body["status"] == "idle"  # online runtime ⇒ reconciled to idle
    assert (body["model"], body["thinking_level"], body["service_tier"]) == ("", "", "")
    assert body["description"] == ""
    assert body["instructions"] == ""
    assert body["archived_at"] is None
    assert body["disabled_runtime_skills"] == []
    assert "custom_env" not in body
    row = Agent.objects.get(pk=body["id"])
    assert row.custom_env == {}
    assert row.runtime_mode == rt.runtime_mode
    [event] = captured_events.of("agent:created")
    assert event.payload["agent"]["id"] == body["id"]


def test_create_offline_runtime_stays_offline(api, ws):
    runtime = make_runtime(ws.workspace, ws.owner, status="offline")
    assert create_agent(api, ws, ws.owner, runtime)["status"] == "offline"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({}, "name is required"),
        ({"name": ""}, "name is required"),
        ({"name": "a"}, "runtime_id is required"),
        ({"name": "a", "runtime_id": ""}, "runtime_id is required"),
        ({"name": "a", "runtime_id": "nope"}, "invalid runtime_id"),
        ({"name": "a", "runtime_id": str(uuid.uuid4())}, "invalid runtime_id"),
        ({"name": "a", "description": "x" * 256, "runtime_id": "x"},
         "description must be 255 characters or fewer"),
        ({"name": "a", "runtime_id": "RT", "max_concurrent_tasks": 0},
         "max_concurrent_tasks must be between 1 and 50"),
        ({"name": "a", "runtime_id": "RT", "max_concurrent_tasks": 51},
         "max_concurrent_tasks must be between 1 and 50"),
        ({"name": 5, "runtime_id": "RT"}, "invalid request body"),
        ({"name": "a", "runtime_id": "RT", "custom_env": {"K": 1}}, "invalid request body"),
        ({"name": "a", "runtime_id": "RT", "custom_args": "--x"}, "invalid request body"),
        ({"name": "a", "runtime_id": "RT", "skill_ids": ["nope"]}, "invalid skill_ids"),
        ({"name": "a", "runtime_id": "RT", "visibility": "secret"},
         "visibility must be 'private' or 'workspace'"),
        ({"name": "a", "runtime_id": "RT", "permission_mode": "open"},
         "permission_mode must be 'private' or 'public_to'"),
    ],
)  # fmt: skip
def test_create_validation_texts(api, ws, rt, body, message):
    if body.get("runtime_id") == "RT":
        body["runtime_id"] = str(rt.id)
    resp = api.as_user(ws.owner).post("/api/agents", json=body, ws=ws.workspace)
    assert err(resp) == (400, message)
    assert not Agent.objects.exists()


def test_description_counts_code_points(api, ws, rt):
    body = create_agent(api, ws, ws.owner, rt, description="é" * 255)
    assert len(body["description"]) == 255
    resp = api.as_user(ws.owner).post(
        "/api/agents",
        json={"name": "b", "runtime_id": str(rt.id), "description": "😀" * 256},
        ws=ws.workspace,
    )
    assert err(resp) == (400, "description must be 255 characters or fewer")


def test_foreign_runtime_is_invalid(api, ws, other_ws):
    foreign = make_runtime(other_ws.workspace, other_ws.owner, visibility="public")
    resp = api.as_user(ws.owner).post(
        "/api/agents", json={"name": "a", "runtime_id": str(foreign.id)}, ws=ws.workspace
    )
    assert err(resp) == (400, "invalid runtime_id")
    assert not Agent.objects.exists()


def test_private_runtime_only_its_owner(api, ws, rt):
    resp = api.as_user(ws.admin).post(
        "/api/agents", json={"name": "a", "runtime_id": str(rt.id)}, ws=ws.workspace
    )
    assert err(resp) == (403, "this runtime is private; only its owner can create agents on it")
    rt.visibility = "public"
    rt.save()
    assert create_agent(api, ws, ws.member, rt)["owner_id"] == str(ws.member.id)


def test_ownerless_runtime_is_refused_even_public(api, ws):
    runtime = make_runtime(ws.workspace, None, visibility="public")
    resp = api.as_user(ws.owner).post(
        "/api/agents", json={"name": "a", "runtime_id": str(runtime.id)}, ws=ws.workspace
    )
    assert resp.status == 403


def test_max_concurrent_bounds_and_null(api, ws, rt):
    assert (
        create_agent(api, ws, ws.owner, rt, max_concurrent_tasks=50)["max_concurrent_tasks"] == 50
    )
    assert create_agent(api, ws, ws.owner, rt, max_concurrent_tasks=1)["max_concurrent_tasks"] == 1
    assert (
        create_agent(api, ws, ws.owner, rt, max_concurrent_tasks=None)["max_concurrent_tasks"] == 6
    )


@pytest.mark.parametrize(
    ("provider", "level", "ok"),
    [
        ("claude", "high", True), ("claude", "xhigh", True), ("claude", "ultra", False),
        ("grok", "low", True), ("grok", "xhigh", False), ("pi", "off", True),
        ("codex", "gpt-5.1.high_x", True), ("codex", "bad level!", False),
        ("codex", "x" * 65, False), ("opencode", "max", True),
        ("somethingnew", "whatever", True), ("claude", "", True),
    ],
)  # fmt: skip
def test_thinking_level_per_provider(api, ws, provider, level, ok):
    runtime = make_runtime(ws.workspace, ws.owner, provider=provider)
    resp = api.as_user(ws.owner).post(
        "/api/agents",
        json={"name": "t", "runtime_id": str(runtime.id), "thinking_level": level},
        ws=ws.workspace,
    )
    if ok:
        assert resp.want(201).json()["thinking_level"] == level
    else:
        assert err(resp) == (
            400,
            f'thinking_level "{level}" is not a recognised value for runtime "{provider}"',
        )


def test_service_tier_is_codex_only(api, ws, rt):
    resp = api.as_user(ws.owner).post(
        "/api/agents",
        json={"name": "t", "runtime_id": str(rt.id), "service_tier": "flex"},
        ws=ws.workspace,
    )
    assert err(resp) == (400, 'service_tier "flex" is not a recognised value for runtime "claude"')
    codex = make_runtime(ws.workspace, ws.owner, provider="codex")
    assert create_agent(api, ws, ws.owner, codex, service_tier="flex")["service_tier"] == "flex"


def test_permission_mode_derivation(api, ws, rt):
    a = create_agent(api, ws, ws.owner, rt, visibility="workspace")
    assert (a["permission_mode"], a["visibility"]) == ("public_to", "workspace")
    assert a["invocation_targets"] == [
        {"target_type": "workspace", "target_id": str(ws.workspace.id)}
    ]
    b = create_agent(api, ws, ws.owner, rt, permission_mode="public_to")
    assert b["invocation_targets"][0]["target_type"] == "workspace"
    c = create_agent(
        api, ws, ws.owner, rt, permission_mode="public_to", visibility="workspace",
        invocation_targets=[{"target_type": "member", "target_id": str(ws.member.id)}],
    )  # fmt: skip
    assert c["invocation_targets"] == [{"target_type": "member", "target_id": str(ws.member.id)}]
    assert c["visibility"] == "private"  # public_to without a workspace target
    d = create_agent(api, ws, ws.owner, rt, permission_mode="private", visibility="workspace")
    assert (d["permission_mode"], d["invocation_targets"]) == ("private", [])


def test_mcp_config_null_dropped_and_object_kept(api, ws, rt):
    a = create_agent(api, ws, ws.owner, rt, mcp_config=None)
    assert a["mcp_config"] is None
    assert Agent.objects.get(pk=a["id"]).mcp_config is None
    cfg = {"mcpServers": {"x": {"command": "run", "env": {"TOKEN": "t"}}}}
    b = create_agent(api, ws, ws.owner, rt, mcp_config=cfg)
    assert b["mcp_config"] == cfg
    assert b["mcp_config_redacted"] is False


def test_skill_ids_bound_and_validated(api, ws, other_ws, rt):
    mine = Skill.objects.create(workspace=ws.workspace, name="review", description="Reviews")
    theirs = Skill.objects.create(workspace=other_ws.workspace, name="theirs")
    resp = api.as_user(ws.owner).post(
        "/api/agents",
        json={"name": "a", "runtime_id": str(rt.id), "skill_ids": [str(mine.id), str(theirs.id)]},
        ws=ws.workspace,
    )
    assert err(resp) == (400, "skill does not belong to this workspace")
    assert not Agent.objects.exists()
    assert not AgentSkill.objects.exists()
    body = create_agent(api, ws, ws.owner, rt, skill_ids=[str(mine.id)])
    assert body["skills"] == [
        {"id": str(mine.id), "name": "review", "description": "Reviews", "enabled": True}
    ]


def test_duplicate_name_409(api, ws, rt):
    create_agent(api, ws, ws.owner, rt, name="Twin")
    resp = api.as_user(ws.owner).post(
        "/api/agents", json={"name": "Twin", "runtime_id": str(rt.id)}, ws=ws.workspace
    )
    assert err(resp) == (409, 'an agent named "Twin" already exists in this workspace')


def test_created_event_redacts_mcp_config(api, ws, rt, captured_events,
                                          django_capture_on_commit_callbacks):  # fmt: skip
    with django_capture_on_commit_callbacks(execute=True):
        body = create_agent(api, ws, ws.owner, rt, mcp_config={"k": "secret"})
    assert body["mcp_config"] == {"k": "secret"}
    [event] = captured_events.of("agent:created")
    agent = event.payload["agent"]
    assert agent["mcp_config"] is None
    assert agent["mcp_config_redacted"] is True
    assert (event.actor_type, event.actor_id) == ("member", str(ws.owner.id))


def test_runtime_config_gateway_token_masked(api, ws, rt):
    body = create_agent(api, ws, ws.owner, rt, runtime_config={"gateway": {"token": "tok-1"}})
    assert body["runtime_config"] == {"gateway": {"token": "***"}}
    agent = Agent.objects.get(pk=body["id"])
    assert agent.runtime_config["gateway"]["token"] == "tok-1"
    # Sending the mask back keeps the stored token.
    api.as_user(ws.owner).put(
        f"/api/agents/{agent.id}", json={"runtime_config": {"gateway": {"token": "***"}}},
        ws=ws.workspace,
    ).want(200)  # fmt: skip
    agent.refresh_from_db()
    assert agent.runtime_config["gateway"]["token"] == "tok-1"


# --- reads --------------------------------------------------------------------------------------


def test_list_oldest_first_archived_and_view_rights(api, ws, rt, member_rt):
    first = create_agent(api, ws, ws.owner, rt, name="first")
    shared = create_agent(api, ws, ws.owner, rt, name="shared", visibility="workspace")
    own = create_agent(api, ws, ws.member, member_rt, name="own")
    archived = create_agent(api, ws, ws.owner, rt, name="gone")
    api.as_user(ws.owner).post(f"/api/agents/{archived['id']}/archive", ws=ws.workspace).want(200)
    Agent.objects.create(workspace=ws.workspace, name="mika", kind="system", system_key="mika")

    names = [a["name"] for a in api.as_user(ws.owner).get("/api/agents", ws=ws.workspace).json()]
    assert names == ["first", "shared", "own"]
    with_archived = (
        api.as_user(ws.owner).get("/api/agents", ws=ws.workspace, include_archived="true").json()
    )
    assert [a["name"] for a in with_archived] == ["first", "shared", "own", "gone"]
    member_view = api.as_user(ws.member).get("/api/agents", ws=ws.workspace).json()
    assert [a["name"] for a in member_view] == ["shared", "own"]
    assert first["id"] not in {a["id"] for a in member_view}
    assert shared["id"]
    assert own["id"]


def test_list_redacts_mcp_for_non_managers(api, ws, rt):
    create_agent(api, ws, ws.owner, rt, name="s", visibility="workspace", mcp_config={"k": 1})
    [seen] = api.as_user(ws.member).get("/api/agents", ws=ws.workspace).json()
    assert seen["mcp_config"] is None
    assert seen["mcp_config_redacted"] is True
    [admin_seen] = api.as_user(ws.admin).get("/api/agents", ws=ws.workspace).json()
    assert admin_seen["mcp_config"] == {"k": 1}


def test_always_redact_env_workspace_setting(api, ws, rt):
    create_agent(api, ws, ws.owner, rt, mcp_config={"k": 1})
    ws.workspace.settings = {"always_redact_env": True}
    ws.workspace.save()
    [seen] = api.as_user(ws.owner).get("/api/agents", ws=ws.workspace).json()
    assert seen["mcp_config"] is None
    assert seen["mcp_config_redacted"] is True


def _seed_agents(ws, rt, n):
    skill = Skill.objects.get_or_create(workspace=ws.workspace, name="s1")[0]
    for i in range(n):
        agent = Agent.objects.create(
            workspace=ws.workspace, name=f"bulk-{uuid.uuid4().hex[:8]}-{i}", runtime=rt,
            owner=ws.owner, permission_mode="public_to", custom_env={"A": "1"},
            custom_env_keys=["A"],
        )  # fmt: skip
        AgentSkill.objects.create(agent=agent, skill=skill)
        AgentInvocationTarget.objects.create(
            agent=agent, target_type="workspace", target_id=ws.workspace.id
        )


def _list_queries(api, ws):
    with CaptureQueriesContext(connection) as q:
        api.as_user(ws.member).get("/api/agents", ws=ws.workspace).want(200)
    return len(q)


def test_list_query_count_is_flat(api, ws, rt):
    _seed_agents(ws, rt, 1)
    one = _list_queries(api, ws)
    _seed_agents(ws, rt, 19)
    twenty = _list_queries(api, ws)
    assert one == twenty
    assert twenty <= 8  # auth + membership + agents + skills + targets


def test_get_view_rules(api, ws, rt, other_ws):
    private = create_agent(api, ws, ws.owner, rt)
    path = f"/api/agents/{private['id']}"
    assert err(api.as_user(ws.member).get(path, ws=ws.workspace)) == (
        403, "you do not have access to this agent",
    )  # fmt: skip
    api.as_user(ws.admin).get(path, ws=ws.workspace).want(200)
    targeted = create_agent(
        api, ws, ws.owner, rt, permission_mode="public_to",
        invocation_targets=[{"target_type": "member", "target_id": str(ws.member.id)}],
    )  # fmt: skip
    api.as_user(ws.member).get(f"/api/agents/{targeted['id']}", ws=ws.workspace).want(200)
    system = Agent.objects.create(workspace=ws.workspace, name="mika", kind="system")
    assert err(api.as_user(ws.owner).get(f"/api/agents/{system.id}", ws=ws.workspace)) == (
        404, "agent not found",
    )  # fmt: skip
    api.as_user(other_ws.owner).get(path, ws=other_ws.workspace).want(404)


def test_agent_actor_sees_all_but_no_mcp(api, ws, rt, agent_actor):
    a = create_agent(api, ws, ws.owner, rt, mcp_config={"k": 1})
    headers = {"X-Test-Agent-Actor": a["id"]}
    listed = api.as_user(ws.member).get("/api/agents", ws=ws.workspace, headers=headers).json()
    assert [x["id"] for x in listed] == [a["id"]]
    assert listed[0]["mcp_config"] is None
    assert listed[0]["mcp_config_redacted"] is True
    one = api.as_user(ws.owner).get(f"/api/agents/{a['id']}", ws=ws.workspace, headers=headers)
    assert one.want(200).json()["mcp_config"] is None


# --- update -------------------------------------------------------------------------------------


def test_update_manage_rule_and_fields(api, ws, rt, captured_events,
                                       django_capture_on_commit_callbacks):  # fmt: skip
    a = create_agent(api, ws, ws.owner, rt, visibility="workspace", mcp_config={"k": 1})
    path = f"/api/agents/{a['id']}"
    resp = api.as_user(ws.member).put(path, json={"name": "x"}, ws=ws.workspace)
    assert err(resp) == (403, "only the agent owner can manage this agent")
    with django_capture_on_commit_callbacks(execute=True):
        body = api.as_user(ws.admin).put(
            path,
            json={"description": "d", "instructions": "do it", "max_concurrent_tasks": 3,
                  "thinking_level": "high", "custom_args": ["--x"], "model": "opus",
                  "mcp_config": None},
            ws=ws.workspace,
        ).want(200).json()  # fmt: skip
    assert (body["description"], body["instructions"], body["max_concurrent_tasks"]) == (
        "d", "do it", 3,
    )  # fmt: skip
    assert body["thinking_level"] == "high"
    assert body["custom_args"] == ["--x"]
    assert body["mcp_config"] is None
    assert body["mcp_config_redacted"] is False
    assert Agent.objects.get(pk=a["id"]).mcp_config is None
    [event] = captured_events.of("agent:status")
    assert event.payload["agent"]["description"] == "d"
    cleared = api.as_user(ws.owner).put(path, json={"thinking_level": ""}, ws=ws.workspace)
    assert cleared.json()["thinking_level"] == ""


def test_update_validation(api, ws, rt):
    a = create_agent(api, ws, ws.owner, rt)
    create_agent(api, ws, ws.owner, rt, name="taken")
    path = f"/api/agents/{a['id']}"

    def put(body):
        return api.as_user(ws.owner).put(path, json=body, ws=ws.workspace)

    assert err(put({"custom_env": {"A": "b"}})) == (
        400,
        "custom_env is no longer accepted on this endpoint; use PUT /api/agents/{id}/env "
        "(or `multica agent env set`)",
    )
    assert err(put({"name": "taken"})) == (
        409, 'an agent named "taken" already exists in this workspace',
    )  # fmt: skip
    assert err(put({"description": "x" * 256}))[0] == 400
    assert err(put({"max_concurrent_tasks": 99}))[1] == (
        "max_concurrent_tasks must be between 1 and 50"
    )
    assert err(put({"thinking_level": "ultra"}))[0] == 400
    assert err(put({"runtime_id": str(uuid.uuid4())})) == (400, "invalid runtime_id")
    assert err(put({"status": "sleeping"}))[0] == 400


def test_update_access_fields_owner_only(api, ws, rt):
    a = create_agent(api, ws, ws.owner, rt)
    path = f"/api/agents/{a['id']}"
    owner_made = create_agent(api, ws, ws.member, make_runtime(ws.workspace, ws.member))
    mpath = f"/api/agents/{owner_made['id']}"
    resp = api.as_user(ws.admin).put(mpath, json={"visibility": "workspace"}, ws=ws.workspace)
    assert err(resp) == (
        403, "only the agent owner can change access (permission_mode / invocation_targets)",
    )  # fmt: skip
    # A no-op echo by an admin is tolerated.
    api.as_user(ws.admin).put(
        mpath, json={"visibility": "private", "description": "ok"}, ws=ws.workspace
    ).want(200)
    body = (
        api.as_user(ws.owner)
        .put(path, json={"permission_mode": "public_to"}, ws=ws.workspace)
        .want(200)
        .json()
    )
    assert body["visibility"] == "workspace"
    assert len(body["invocation_targets"]) == 1


def test_update_runtime_move_rechecks(api, ws, rt):
    a = create_agent(api, ws, ws.owner, rt, thinking_level="xhigh")
    path = f"/api/agents/{a['id']}"
    members = make_runtime(ws.workspace, ws.member)
    resp = api.as_user(ws.owner).put(path, json={"runtime_id": str(members.id)}, ws=ws.workspace)
    assert err(resp) == (403, "this runtime is private; only its owner can move agents onto it")
    grok = make_runtime(ws.workspace, ws.owner, provider="grok")
    resp = api.as_user(ws.owner).put(path, json={"runtime_id": str(grok.id)}, ws=ws.workspace)
    assert err(resp) == (
        400,
        'existing thinking_level "xhigh" is not valid for runtime "grok"; pass '
        'thinking_level="" to clear or set a value valid for the new runtime',
    )
    body = (
        api.as_user(ws.owner)
        .put(path, json={"runtime_id": str(grok.id), "thinking_level": "high"}, ws=ws.workspace)
        .want(200)
        .json()
    )
    assert body["runtime_id"] == str(grok.id)
    assert body["thinking_level"] == "high"


# --- archive / restore / tasks ------------------------------------------------------------------


def _task(agent_id, ws, status, **extra):
    return AgentTask.objects.create(
        workspace=ws.workspace, agent_id=agent_id, status=status, **extra
    )


def test_archive_restore(api, ws, rt, captured_events, django_capture_on_commit_callbacks):
    a = create_agent(api, ws, ws.owner, rt)
    queued = _task(a["id"], ws, "queued")
    running = _task(a["id"], ws, "running")
    done = _task(a["id"], ws, "completed")
    base = f"/api/agents/{a['id']}"
    assert api.as_user(ws.member).post(f"{base}/archive", ws=ws.workspace).status == 403
    with django_capture_on_commit_callbacks(execute=True):
        body = api.as_user(ws.owner).post(f"{base}/archive", ws=ws.workspace).want(200).json()
    assert body["archived_at"]
    assert body["archived_by"] == str(ws.owner.id)
    assert {t.status for t in AgentTask.objects.filter(pk__in=[queued.pk, running.pk])} == {
        "cancelled"
    }
    assert AgentTask.objects.get(pk=queued.pk).completed_at is not None
    assert AgentTask.objects.get(pk=done.pk).status == "completed"
    assert captured_events.of("agent:archived")
    assert err(api.as_user(ws.owner).post(f"{base}/archive", ws=ws.workspace)) == (
        409, "agent is already archived",
    )  # fmt: skip
    with django_capture_on_commit_callbacks(execute=True):
        restored = api.as_user(ws.owner).post(f"{base}/restore", ws=ws.workspace).want(200)
    assert restored.json()["archived_at"] is None
    assert captured_events.of("agent:restored")
    assert err(api.as_user(ws.owner).post(f"{base}/restore", ws=ws.workspace)) == (
        409, "agent is not archived",
    )  # fmt: skip


def test_archive_runs_hooks(api, ws, rt, monkeypatch):
    from agents.services import agents as services

    seen = []
    monkeypatch.setattr(
        services, "AGENT_ARCHIVED_HOOKS",
        [lambda **kw: seen.append((kw["agent"].id, len(kw["cancelled_tasks"])))],
    )  # fmt: skip
    a = create_agent(api, ws, ws.owner, rt)
    _task(a["id"], ws, "queued")
    api.as_user(ws.owner).post(f"/api/agents/{a['id']}/archive", ws=ws.workspace).want(200)
    assert seen == [(uuid.UUID(a["id"]), 1)]


def test_system_agent_cannot_be_archived(ws):
    from agents.services.agents import agent_archive
    from multica_site.errors import ValidationError
    from tests.agents.agents_helpers import ctx_for

    agent = Agent.objects.create(workspace=ws.workspace, name="m", system_key="mika")
    with pytest.raises(ValidationError, match="built into Multica"):
        agent_archive(ctx=ctx_for(ws.workspace, ws.owner), agent_id=agent.id)


def test_cancel_tasks(api, ws, rt, captured_events, django_capture_on_commit_callbacks):
    a = create_agent(api, ws, ws.owner, rt)
    Agent.objects.filter(pk=a["id"]).update(status="working")
    tasks = [_task(a["id"], ws, s) for s in ("queued", "dispatched", "running", "failed")]
    with django_capture_on_commit_callbacks(execute=True):
        body = (
            api.as_user(ws.admin)
            .post(f"/api/agents/{a['id']}/cancel-tasks", ws=ws.workspace)
            .want(200)
            .json()
        )
    assert body == {"cancelled": 3}
    events = captured_events.of("task:cancelled")
    assert {e.payload["task_id"] for e in events} == {str(t.id) for t in tasks[:3]}
    assert events[0].payload == {
        "task_id": events[0].payload["task_id"], "agent_id": a["id"], "issue_id": "",
        "status": "cancelled",
    }  # fmt: skip
    assert Agent.objects.get(pk=a["id"]).status == "idle"
    assert AgentTask.objects.get(pk=tasks[3].pk).status == "failed"
    again = api.as_user(ws.owner).post(f"/api/agents/{a['id']}/cancel-tasks", ws=ws.workspace)
    assert again.json() == {"cancelled": 0}
    denied = api.as_user(ws.member).post(f"/api/agents/{a['id']}/cancel-tasks", ws=ws.workspace)
    assert err(denied) == (403, "only the agent owner can manage this agent")


def test_tasks_newest_first_and_view_rule(api, ws, rt):
    a = create_agent(api, ws, ws.owner, rt)
    older = _task(a["id"], ws, "completed")
    newer = _task(a["id"], ws, "queued")
    body = api.as_user(ws.owner).get(f"/api/agents/{a['id']}/tasks", ws=ws.workspace).json()
    assert [t["id"] for t in body] == [str(newer.id), str(older.id)]
    assert body[0]["agent_id"] == a["id"]
    assert body[0]["issue_id"] == ""
    denied = api.as_user(ws.member).get(f"/api/agents/{a['id']}/tasks", ws=ws.workspace)
    assert err(denied) == (403, "you do not have access to this agent")


# --- other domains --------------------------------------------------------------------------------


def test_issue_assignment_to_archived_or_foreign_agent(api, ws, other_ws, rt):
    a = create_agent(api, ws, ws.owner, rt)
    api.as_user(ws.owner).post(f"/api/agents/{a['id']}/archive", ws=ws.workspace).want(200)
    resp = api.as_user(ws.owner).post(
        "/api/issues",
        json={"title": "t", "assignee_type": "agent", "assignee_id": a["id"]},
        ws=ws.workspace,
    )
    assert err(resp) == (400, "cannot assign to archived agent")
    foreign_rt = make_runtime(other_ws.workspace, other_ws.owner)
    foreign = create_agent(api, other_ws, other_ws.owner, foreign_rt)
    resp = api.as_user(ws.owner).post(
        "/api/issues",
        json={"title": "t", "assignee_type": "agent", "assignee_id": foreign["id"]},
        ws=ws.workspace,
    )
    assert resp.status == 400


def test_issue_assignment_to_agent_succeeds(api, ws, rt):
    a = create_agent(api, ws, ws.owner, rt)
    resp = api.as_user(ws.owner).post(
        "/api/issues",
        json={"title": "t", "assignee_type": "agent", "assignee_id": a["id"]},
        ws=ws.workspace,
    )
    assert resp.want(201).json()["assignee_id"] == a["id"]
