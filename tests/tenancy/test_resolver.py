"""The tenancy resolver's decisions, through a real workspace-scoped view."""

from __future__ import annotations

import uuid

import pytest

from multica_site.errors import NotFound, PermissionDenied, ValidationError
from workspaces.authentication import Credential
from workspaces.context import (
    ADMINS,
    WorkspaceIdentifiers,
    identifiers_from,
    resolve_workspace_context,
)

pytestmark = pytest.mark.django_db


def resolve(user, **kw):
    roles = kw.pop("roles", None)
    credential = kw.pop("credential", None)
    extra = {"roles": roles} if roles else {}
    return resolve_workspace_context(
        user=user, credential=credential, identifiers=WorkspaceIdentifiers(**kw), **extra
    )


def test_missing_identifier_is_400(ws):
    with pytest.raises(ValidationError, match="workspace_id or workspace_slug is required"):
        resolve(ws.owner)


def test_bad_uuid_is_400(ws):
    with pytest.raises(ValidationError, match="invalid workspace_id"):
        resolve(ws.owner, workspace_id="not-a-uuid")


def test_unknown_and_foreign_workspaces_look_the_same(ws, other_ws):
    cases = [
        {"slug": "nope"},
        {"workspace_id": str(uuid.uuid4())},
        {"slug": other_ws.workspace.slug},
        {"workspace_id": str(other_ws.workspace.id)},
    ]
    for kw in cases:
        with pytest.raises(NotFound, match="workspace not found"):
            resolve(ws.owner, **kw)


def test_slug_wins_over_id(ws, other_ws):
    ctx = resolve(ws.owner, slug="acme", workspace_id=str(other_ws.workspace.id))
    assert ctx.workspace == ws.workspace


def test_query_before_header():
    ids = identifiers_from(
        {"workspace_slug": "a", "workspace_id": "q"},
        {"X-Workspace-Slug": "b", "X-Workspace-ID": "h"},
    )
    assert ids == WorkspaceIdentifiers(slug="a", workspace_id="q")
    ids = identifiers_from({}, {"X-Workspace-Slug": "b", "X-Workspace-ID": "h"})
    assert ids == WorkspaceIdentifiers(slug="b", workspace_id="h")


def test_role_gate(ws):
    assert resolve(ws.admin, slug="acme", roles=ADMINS).role == "admin"
    with pytest.raises(PermissionDenied, match="insufficient permissions"):
        resolve(ws.member, slug="acme", roles=ADMINS)


def test_member_actor(ws):
    ctx = resolve(ws.member, slug="acme")
    assert (ctx.actor.type, ctx.actor.id) == ("member", str(ws.member.id))


def test_bound_credential_pins_its_workspace(ws, other_ws):
    bound = Credential(kind="task", workspace_id=ws.workspace.id)
    assert resolve(ws.member, credential=bound).workspace == ws.workspace
    assert resolve(ws.member, credential=bound, slug="acme").workspace == ws.workspace
    with pytest.raises(PermissionDenied, match="task token is bound to a different workspace"):
        resolve(ws.member, credential=bound, slug=other_ws.workspace.slug)


def test_http_errors_have_multica_shape(api, ws, other_ws):
    body = api.as_user(ws.owner).get(f"/api/workspaces/{other_ws.workspace.id}").want(404).json()
    assert body == {"error": "workspace not found", "code": "workspace_not_found"}
    body = api.get("/api/me").want(401).json()
    assert body == {"error": "missing authorization", "code": "unauthorized"}
    body = api.with_token("garbage").get("/api/me").want(401).json()
    assert body == {"error": "invalid token", "code": "unauthorized"}
