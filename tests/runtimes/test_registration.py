"""POST /api/daemon/register, /deregister and GET /api/daemon/workspaces."""

from __future__ import annotations

import pytest

from agents.models import Agent
from multica_site.events import add_sink, remove_sink
from runtimes.models import AgentRuntime
from tests.runtimes.helpers import CAPS, make_runtime, register_body
from workspaces.tokens import issue_jwt

pytestmark = pytest.mark.django_db


@pytest.fixture
def events():
    captured = []
    add_sink(captured.append)
    yield captured
    remove_sink(captured.append)


def test_register_creates_one_runtime_per_provider(
    api, ws, events, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        body = (
            api.as_user(ws.member)
            .post(
                "/api/daemon/register",
                json=register_body(ws.workspace),
                headers={"X-Client-Capabilities": CAPS},
            )
            .want(200)
            .json()
        )
    assert set(body) == {"runtimes", "repos", "repos_version", "settings"}
    assert body["repos"] == []
    assert len(body["repos_version"]) == 64
    claude, codex = body["runtimes"]
    assert claude["provider"] == "claude"
    assert claude["name"] == "Claude (my-mac)"
    assert claude["launch_header"] == "claude (stream-json)"
    assert codex["provider"] == "codex"
    assert codex["name"] == "codex (my-mac)"
    assert claude["device_info"] == "my-mac · 2.1.0"
    assert claude["status"] == "online"
    assert claude["last_seen_at"]
    assert claude["owner_id"] == str(ws.member.id)
    assert claude["metadata"] == {
        "version": "2.1.0",
        "cli_version": "0.4.2",
        "launched_by": "",
        "capabilities": ["skill-bundles-v1", "agent-skill-v1"],
    }
    row = AgentRuntime.objects.get(pk=claude["id"])
    assert row.client_capabilities == ["skill-bundles-v1", "agent-skill-v1"]
    assert [e.type for e in events] == ["daemon:register"]
    assert events[0].payload["runtimes"] == body["runtimes"]
    assert events[0].workspace_id == str(ws.workspace.id)


def test_register_is_an_upsert(api, ws):
    first = (
        api.as_user(ws.member)
        .post("/api/daemon/register", json=register_body(ws.workspace))
        .want(200)
        .json()
    )
    AgentRuntime.objects.update(status="offline")
    again = (
        api.as_user(ws.member)
        .post(
            "/api/daemon/register",
            json=register_body(ws.workspace, cli_version="0.5.0"),
            headers={"X-Client-Capabilities": "rpc-v1"},
        )
        .want(200)
        .json()
    )
    assert [r["id"] for r in again["runtimes"]] == [r["id"] for r in first["runtimes"]]
    assert AgentRuntime.objects.count() == 2
    row = AgentRuntime.objects.get(pk=again["runtimes"][0]["id"])
    assert row.status == "online"
    assert row.metadata["cli_version"] == "0.5.0"
    assert row.client_capabilities == ["rpc-v1"]


def test_register_merges_legacy_daemon_ids(api, ws):
    legacy = make_runtime(ws.workspace, ws.member, daemon_id="My-Mac.local")
    agent = Agent.objects.create(workspace=ws.workspace, name="a1", runtime=legacy, owner=ws.member)
    body = register_body(ws.workspace, daemon_id="uuid-daemon", legacy_daemon_ids=["my-mac.local"])
    out = api.as_user(ws.member).post("/api/daemon/register", json=body).want(200).json()
    new_id = out["runtimes"][0]["id"]
    assert not AgentRuntime.objects.filter(pk=legacy.pk).exists()
    agent.refresh_from_db()
    assert str(agent.runtime_id) == new_id
    assert AgentRuntime.objects.get(pk=new_id).legacy_daemon_id == "my-mac.local"


def test_register_validation(api, ws):
    client = api.as_user(ws.member)
    body = register_body(ws.workspace)
    body.pop("daemon_id")
    assert client.post("/api/daemon/register", json=body).want(400).json()["error"] == (
        "daemon_id is required"
    )
    body = register_body(ws.workspace, runtimes=[])
    client.post("/api/daemon/register", json=body).want(400)
    body = register_body(ws.workspace, workspace_id="nope")
    client.post("/api/daemon/register", json=body).want(400)


def test_register_into_foreign_workspace_is_404_and_writes_nothing(api, ws, other_ws):
    resp = api.as_user(other_ws.owner).post(
        "/api/daemon/register", json=register_body(ws.workspace)
    )
    assert resp.want(404).json()["error"] == "workspace not found"
    assert AgentRuntime.objects.count() == 0


def test_register_requires_auth(api, ws):
    api.post("/api/daemon/register", json=register_body(ws.workspace)).want(401)


def test_deregister_marks_offline_with_reason(api, ws, events, django_capture_on_commit_callbacks):
    rt = make_runtime(ws.workspace, ws.member)
    with django_capture_on_commit_callbacks(execute=True):
        api.as_user(ws.member).post(
            "/api/daemon/deregister",
            json={
                "runtime_ids": [str(rt.id)],
                "offline_reasons": {str(rt.id): {"code": "not_executable", "detail": "gone"}},
            },
        ).want(200)
    rt.refresh_from_db()
    assert rt.status == "offline"
    assert rt.metadata["offline_reason"] == {"code": "not_executable", "detail": "gone"}
    assert events[0].payload == {"action": "deregister"}


def test_deregister_skips_foreign_runtimes(api, ws, other_ws):
    rt = make_runtime(ws.workspace, ws.member)
    api.as_user(other_ws.owner).post(
        "/api/daemon/deregister", json={"runtime_ids": [str(rt.id)]}
    ).want(200)
    rt.refresh_from_db()
    assert rt.status == "online"


def test_deregister_needs_ids(api, ws):
    api.as_user(ws.member).post("/api/daemon/deregister", json={}).want(400)


def test_workspaces_list_with_etag(api, ws, other_ws):
    client = api.as_user(ws.member)
    resp = client.get("/api/daemon/workspaces").want(200)
    assert resp.json() == [{"id": str(ws.workspace.id), "name": "Acme"}]
    etag = resp.headers["ETag"]
    client.get("/api/daemon/workspaces", headers={"If-None-Match": etag}).want(304)
    ws.workspace.name = "Renamed"
    ws.workspace.save()
    client.get("/api/daemon/workspaces", headers={"If-None-Match": etag}).want(200)


def test_workspaces_list_for_jwt(api, ws):
    from tests.conftest import Api

    Api().with_token(issue_jwt(ws.owner)).get("/api/daemon/workspaces").want(200)


def test_workspace_repos(api, ws, other_ws):
    ws.workspace.repos = [
        {"url": "https://b.example/r.git", "description": "b"},
        {"url": "https://a.example/r.git"},
        {"url": "https://a.example/r.git"},
    ]
    ws.workspace.save()
    body = (
        api.as_user(ws.member)
        .get(f"/api/daemon/workspaces/{ws.workspace.id}/repos")
        .want(200)
        .json()
    )
    assert body["workspace_id"] == str(ws.workspace.id)
    assert [r["url"] for r in body["repos"]] == [
        "https://b.example/r.git",
        "https://a.example/r.git",
    ]
    assert len(body["repos_version"]) == 64
    api.as_user(other_ws.owner).get(f"/api/daemon/workspaces/{ws.workspace.id}/repos").want(404)
