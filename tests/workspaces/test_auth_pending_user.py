"""A JWT's user is read with the membership row on workspace routes (one query for
authentication and tenancy), and a user who is gone or deactivated still fails with 401."""

from __future__ import annotations

import pytest

from tests.workspaces.test_auth_me_tokens import cookie_client
from workspaces import tokens
from workspaces.authentication import PendingUser, jwt_principal, pending_user_id
from workspaces.models import User

pytestmark = pytest.mark.django_db


def test_workspace_route_reads_user_and_membership_in_one_query(api, ws, django_assert_num_queries):
    client = api.as_user(ws.member)
    client.get("/api/labels", ws=ws.workspace).want(200)  # warm the connection
    with django_assert_num_queries(2) as ctx:  # principal + labels
        client.get("/api/labels", ws=ws.workspace).want(200)
    principal = " ".join(ctx.captured_queries[0]["sql"].split())
    assert "FROM member m JOIN workspace w" in principal
    assert 'JOIN "user" u' in principal


@pytest.mark.parametrize("route", ["/api/labels", "/api/issues", "/api/me"])
def test_deactivated_user_jwt_is_401_on_every_kind_of_route(api, ws, route):
    client = api.as_user(ws.member)
    User.objects.filter(pk=ws.member.pk).update(is_active=False)
    assert client.get(route, ws=ws.workspace).want(401).json() == {
        "error": "invalid token",
        "code": "unauthorized",
    }


def test_deleted_user_jwt_is_401_not_404(api, ws, make_user):
    gone = make_user("gone@example.com")
    client = api.as_user(gone)
    User.objects.filter(pk=gone.pk).delete()
    client.get("/api/issues", ws=ws.workspace).want(401)


def test_non_member_jwt_is_404(api, ws, other_ws):
    body = api.as_user(other_ws.owner).get("/api/issues", ws=ws.workspace).want(404).json()
    assert body["error"] == "workspace not found"


def test_cookie_jwt_writes_on_a_workspace_route_as_the_user(ws):
    client = cookie_client(ws.member)
    response = client.post(
        "/api/labels",
        {"name": "bug", "color": "#ff0000"},
        format="json",
        HTTP_X_WORKSPACE_ID=str(ws.workspace.id),
        HTTP_X_CSRF_TOKEN=tokens.csrf_token_for(client.jwt),
    )
    assert response.status_code == 201, response.content


def test_pending_user_loads_on_first_use_and_settles_once(make_user):
    user = make_user("lazy@example.com", name="Lazy")
    pending, credential = jwt_principal(tokens.issue_jwt(user))
    assert credential.kind == "jwt"
    assert isinstance(pending, PendingUser)
    assert pending_user_id(pending) == user.pk
    assert pending.is_authenticated
    assert pending.email == "lazy@example.com"  # loads
    assert pending_user_id(pending) is None


def test_settle_refuses_another_user(make_user):
    a, b = make_user(), make_user()
    pending, _ = jwt_principal(tokens.issue_jwt(a))
    with pytest.raises(ValueError, match="another user"):
        pending.settle(b)
