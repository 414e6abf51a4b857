"""Daemon tokens: valid on /api/daemon/* only, bound to one workspace and daemon id; task
tokens refused on daemon routes; PAT and JWT accepted there. Management API /api/daemon-tokens."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from runtimes.models import AgentRuntime, DaemonToken
from tests.conftest import Api
from tests.runtimes.helpers import make_runtime, mint_daemon_token, register_body
from workspaces import tokens
from workspaces.models import PersonalAccessToken

pytestmark = pytest.mark.django_db


def as_token(raw: str) -> Api:
    return Api().with_token(raw)


def test_daemon_token_registers_in_its_workspace_and_daemon(ws):
    raw = mint_daemon_token(ws.workspace, ws.member, daemon_id="daemon-1")
    out = as_token(raw).post("/api/daemon/register", json=register_body(ws.workspace)).want(200)
    runtime = AgentRuntime.objects.get(pk=out.json()["runtimes"][0]["id"])
    assert runtime.owner_id == ws.member.id
    assert DaemonToken.objects.get().last_used_at is not None


def test_daemon_token_cannot_register_another_daemon_id(ws):
    raw = mint_daemon_token(ws.workspace, ws.member, daemon_id="daemon-1")
    body = register_body(ws.workspace, daemon_id="daemon-2")
    as_token(raw).post("/api/daemon/register", json=body).want(403)
    assert not AgentRuntime.objects.exists()


def test_daemon_token_cannot_register_another_workspace(ws, other_ws):
    raw = mint_daemon_token(ws.workspace, ws.owner)
    resp = as_token(raw).post("/api/daemon/register", json=register_body(other_ws.workspace))
    assert resp.want(404).json()["error"] == "workspace not found"
    assert not AgentRuntime.objects.exists()


def test_daemon_token_lists_only_its_workspace(ws, other_ws):
    from workspaces.models import Member, Role

    Member.objects.create(workspace=other_ws.workspace, user=ws.member, role=Role.MEMBER)
    raw = mint_daemon_token(ws.workspace, ws.member)
    body = as_token(raw).get("/api/daemon/workspaces").want(200).json()
    assert body == [{"id": str(ws.workspace.id), "name": "Acme"}]


def test_daemon_token_heartbeat_only_for_its_daemon(ws):
    mine = make_runtime(ws.workspace, ws.member, daemon_id="daemon-1")
    other = make_runtime(ws.workspace, ws.member, daemon_id="daemon-2", provider="codex")
    raw = mint_daemon_token(ws.workspace, ws.member, daemon_id="daemon-1")
    as_token(raw).post("/api/daemon/heartbeat", json={"runtime_id": str(mine.id)}).want(200)
    as_token(raw).post("/api/daemon/heartbeat", json={"runtime_id": str(other.id)}).want(404)


@pytest.mark.parametrize(
    "path", ["/api/me", "/api/workspaces", "/api/tokens", "/api/runtimes", "/api/issues"]
)
def test_daemon_token_refused_outside_daemon_routes(ws, path):
    raw = mint_daemon_token(ws.workspace, ws.owner)
    resp = as_token(raw).get(path, ws=ws.workspace)
    assert resp.status == 401, resp.body


def test_daemon_token_cannot_mint_pats(ws):
    raw = mint_daemon_token(ws.workspace, ws.owner)
    as_token(raw).post("/api/tokens", json={"name": "x"}).want(401)
    assert not PersonalAccessToken.objects.exists()


def test_revoked_and_expired_daemon_tokens_are_refused(ws):
    revoked = mint_daemon_token(ws.workspace, ws.owner, revoked=True)
    as_token(revoked).get("/api/daemon/workspaces").want(401)
    expired = mint_daemon_token(
        ws.workspace, ws.owner, expires_at=timezone.now() - timedelta(minutes=1)
    )
    as_token(expired).get("/api/daemon/workspaces").want(401)
    as_token("mdt_" + "0" * 40).get("/api/daemon/workspaces").want(401)


def test_task_tokens_are_refused_on_daemon_routes(ws):
    raw = tokens.mint_token(tokens.TASK_TOKEN_PREFIX)
    resp = as_token(raw).post("/api/daemon/register", json=register_body(ws.workspace))
    resp.want(401)
    as_token(raw).get("/api/daemon/workspaces").want(401)
    assert not AgentRuntime.objects.exists()


def test_pat_and_jwt_are_accepted_on_daemon_routes(api, ws):
    raw = tokens.mint_token(tokens.PAT_PREFIX)
    PersonalAccessToken.objects.create(
        user=ws.member, name="cli", token_hash=tokens.hash_token(raw), token_prefix=raw[:12]
    )
    as_token(raw).get("/api/daemon/workspaces").want(200)
    api.as_user(ws.member).get("/api/daemon/workspaces").want(200)


def test_cookie_is_not_a_daemon_credential(ws, settings):
    client = Api()
    client.client.cookies[settings.AUTH_COOKIE_NAME] = tokens.issue_jwt(ws.member)
    client.get("/api/daemon/workspaces").want(401)


# --- management API -------------------------------------------------------------------------


def test_create_shows_the_raw_token_once(api, ws):
    client = api.as_user(ws.member)
    created = (
        client.post(
            "/api/daemon-tokens", json={"daemon_id": "d-1", "name": "laptop"}, ws=ws.workspace
        )
        .want(201)
        .json()
    )
    assert created["token"].startswith("mdt_")
    assert len(created["token"]) == 44
    assert created["token_prefix"] == created["token"][:12]
    row = DaemonToken.objects.get()
    assert row.token_hash == tokens.hash_token(created["token"])
    listed = client.get("/api/daemon-tokens", ws=ws.workspace).want(200).json()
    assert [t["id"] for t in listed] == [created["id"]]
    assert "token" not in listed[0]
    assert "token_hash" not in listed[0]
    # The minted token works on the daemon API.
    as_token(created["token"]).get("/api/daemon/workspaces").want(200)


def test_members_see_their_own_tokens_admins_see_all(api, ws):
    mint_daemon_token(ws.workspace, ws.admin)
    mine = (
        api.as_user(ws.member)
        .post("/api/daemon-tokens", json={"daemon_id": "d-1"}, ws=ws.workspace)
        .want(201)
        .json()
    )
    assert len(api.as_user(ws.member).get("/api/daemon-tokens", ws=ws.workspace).json()) == 1
    assert len(api.as_user(ws.owner).get("/api/daemon-tokens", ws=ws.workspace).json()) == 2
    admin_token = DaemonToken.objects.get(created_by=ws.admin)
    api.as_user(ws.member).delete(f"/api/daemon-tokens/{admin_token.id}", ws=ws.workspace).want(404)
    api.as_user(ws.owner).delete(f"/api/daemon-tokens/{mine['id']}", ws=ws.workspace).want(204)
    as_token(mine["token"]).get("/api/daemon/workspaces").want(401)


def test_create_validation(api, ws):
    client = api.as_user(ws.member)
    client.post("/api/daemon-tokens", json={}, ws=ws.workspace).want(400)
    client.post(
        "/api/daemon-tokens", json={"daemon_id": "d", "expires_in_days": 0}, ws=ws.workspace
    ).want(400)
