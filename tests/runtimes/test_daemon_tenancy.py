"""A daemon of one workspace reaches nothing of another: register, heartbeat, deregister,
result callbacks and the runtimes API. Every table is checksummed before and after."""

from __future__ import annotations

import pytest

from skills.models import LocalSkillRequest
from tests.conftest import Api
from tests.runtimes.helpers import make_runtime, mint_daemon_token, register_body
from tests.tenancy.test_cross_workspace import checksum
from workspaces.tokens import issue_jwt

pytestmark = pytest.mark.django_db

SHARED_DAEMON_ID = "same-daemon-id"


@pytest.fixture
def victim(ws):
    runtime = make_runtime(ws.workspace, ws.owner, daemon_id=SHARED_DAEMON_ID, status="offline")
    listing = LocalSkillRequest.objects.create(
        workspace=ws.workspace, runtime=runtime, kind="list", requested_by=ws.owner
    )
    importing = LocalSkillRequest.objects.create(
        workspace=ws.workspace,
        runtime=runtime,
        kind="import",
        requested_by=ws.owner,
        params={"skill_key": "k"},
    )
    return runtime, listing, importing


@pytest.fixture(params=["jwt", "daemon_token"])
def attacker(request, other_ws):
    """The other workspace's owner, by JWT, or by a daemon token whose daemon id equals the
    victim runtime's (a token bound elsewhere must not match by daemon id alone)."""
    make_runtime(other_ws.workspace, other_ws.owner, daemon_id=SHARED_DAEMON_ID)
    if request.param == "jwt":
        return Api().with_token(issue_jwt(other_ws.owner))
    return Api().with_token(
        mint_daemon_token(other_ws.workspace, other_ws.owner, daemon_id=SHARED_DAEMON_ID)
    )


def test_daemon_routes_do_not_cross_workspaces(ws, other_ws, victim, attacker):
    runtime, listing, importing = victim
    attacker.get("/api/daemon/workspaces").want(200)  # the token's own last_used_at is written
    before = checksum()
    body = register_body(ws.workspace, daemon_id=SHARED_DAEMON_ID)
    assert attacker.post("/api/daemon/register", json=body).status == 404
    workspaces = attacker.get("/api/daemon/workspaces").want(200).json()
    assert str(ws.workspace.id) not in {w["id"] for w in workspaces}
    attacker.post("/api/daemon/heartbeat", json={"runtime_id": str(runtime.id)}).want(404)
    attacker.post("/api/daemon/deregister", json={"runtime_ids": [str(runtime.id)]}).want(200)
    done = {"status": "completed", "skills": []}
    attacker.post(
        f"/api/daemon/runtimes/{runtime.id}/local-skills/{listing.id}/result", json=done
    ).want(404)
    attacker.post(
        f"/api/daemon/runtimes/{runtime.id}/local-skills/import/{importing.id}/result",
        json={"status": "failed", "error": "x"},
    ).want(404)
    assert checksum() == before


def test_own_runtime_with_foreign_request_id_is_404(ws, other_ws, victim):
    _, listing, _ = victim
    own = make_runtime(other_ws.workspace, other_ws.owner, daemon_id="own")
    client = Api().with_token(issue_jwt(other_ws.owner))
    before = checksum()
    client.post(
        f"/api/daemon/runtimes/{own.id}/local-skills/{listing.id}/result",
        json={"status": "completed", "skills": []},
    ).want(404)
    assert checksum() == before


def test_runtimes_api_does_not_cross_workspaces(ws, other_ws, victim):
    runtime, _, _ = victim
    client = Api().with_token(issue_jwt(other_ws.owner))
    before = checksum()
    listed = client.get("/api/runtimes", ws=other_ws.workspace).want(200).json()
    assert str(runtime.id) not in {r["id"] for r in listed}
    client.patch(
        f"/api/runtimes/{runtime.id}", json={"custom_name": "pwned"}, ws=other_ws.workspace
    ).want(404)
    client.delete(f"/api/runtimes/{runtime.id}", ws=other_ws.workspace).want(404)
    client.get("/api/runtimes", ws=ws.workspace).want(404)
    assert checksum() == before
