"""Members of a workspace (spec §2): list, change role, remove, leave; owner rules; events."""

from __future__ import annotations

import re
import uuid

import pytest

from multica_site.events import Event, add_sink, remove_sink
from workspaces.models import Member, Role
from workspaces.services import workspaces as ws_service

pytestmark = pytest.mark.django_db

MEMBER_KEYS = {"id", "workspace_id", "user_id", "role", "created_at", "name", "email", "avatar_url"}
TIME_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
FORBIDDEN = {"error": "insufficient permissions", "code": "forbidden"}
LAST_OWNER = {"error": "workspace must have at least one owner", "code": "last_owner"}
MEMBER_NOT_FOUND = {"error": "member not found", "code": "member_not_found"}


@pytest.fixture
def events():
    captured: list[Event] = []
    sink = captured.append
    add_sink(sink)
    yield captured
    remove_sink(sink)


@pytest.fixture
def commit(django_capture_on_commit_callbacks):
    """``with commit(): …`` runs the on-commit callbacks (event delivery) of the block."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


def membership(ws, user) -> Member:
    return Member.objects.get(workspace=ws.workspace, user=user)


def members_url(ws, member: Member | None = None) -> str:
    base = f"/api/workspaces/{ws.workspace.id}/members"
    return f"{base}/{member.id}" if member is not None else base


def role_of(ws, user) -> str | None:
    row = Member.objects.filter(workspace=ws.workspace, user=user).first()
    return row.role if row else None


@pytest.fixture
def second_owner(ws, make_user):
    user = make_user("owner2@example.com", name="Owner Two")
    Member.objects.create(workspace=ws.workspace, user=user, role=Role.OWNER)
    return user


# --- list -------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["owner", "admin", "member"])
def test_any_member_lists_members_with_users_oldest_first(api, ws, role):
    body = api.as_user(getattr(ws, role)).get(members_url(ws)).want(200).json()
    assert [m["email"] for m in body] == [
        "owner@example.com",
        "admin@example.com",
        "member@example.com",
    ]
    for item in body:
        assert set(item) == MEMBER_KEYS
        assert TIME_RE.match(item["created_at"])
        assert item["workspace_id"] == str(ws.workspace.id)
    owner = body[0]
    row = membership(ws, ws.owner)
    assert owner == {
        "id": str(row.id),
        "workspace_id": str(ws.workspace.id),
        "user_id": str(ws.owner.id),
        "role": "owner",
        "created_at": owner["created_at"],
        "name": "Owner",
        "email": "owner@example.com",
        "avatar_url": None,
    }


def test_member_list_excludes_other_workspaces(api, ws, other_ws):
    body = api.as_user(ws.owner).get(members_url(ws)).want(200).json()
    assert str(other_ws.owner.id) not in {m["user_id"] for m in body}


def test_member_list_query_count_does_not_grow(api, ws, make_user, django_assert_max_num_queries):
    for _ in range(20):
        Member.objects.create(workspace=ws.workspace, user=make_user(), role=Role.MEMBER)
    with django_assert_max_num_queries(4):
        body = api.as_user(ws.member).get(members_url(ws)).want(200).json()
    assert len(body) == 23


# --- change role ------------------------------------------------------------------------------

# (requester, target, new role, expected status)
ROLE_MATRIX = [
    ("owner", "member", "admin", 200),
    ("owner", "admin", "member", 200),
    ("owner", "member", "owner", 200),
    ("owner", "admin", "owner", 200),
    ("admin", "member", "admin", 200),
    ("admin", "admin", "member", 200),
    ("admin", "member", "owner", 403),
    ("admin", "owner", "member", 403),
    ("admin", "owner", "admin", 403),
    ("member", "member", "admin", 403),
    ("member", "admin", "member", 403),
    ("member", "owner", "member", 403),
]


@pytest.mark.parametrize(("requester", "target", "new_role", "status"), ROLE_MATRIX)
def test_role_change_matrix(api, ws, second_owner, requester, target, new_role, status):
    target_user = getattr(ws, target)
    resp = api.as_user(getattr(ws, requester)).patch(
        members_url(ws, membership(ws, target_user)), json={"role": new_role}
    )
    resp.want(status)
    if status == 200:
        body = resp.json()
        assert set(body) == MEMBER_KEYS
        assert body["role"] == new_role
        assert body["user_id"] == str(target_user.id)
        assert role_of(ws, target_user) == new_role
    else:
        assert resp.json() == FORBIDDEN
        assert role_of(ws, target_user) == target


def test_role_change_publishes_member_updated(api, ws, events, commit):
    target = membership(ws, ws.member)
    with commit():
        body = (
            api.as_user(ws.owner)
            .patch(members_url(ws, target), json={"role": "admin"})
            .want(200)
            .json()
        )
    assert [e.type for e in events] == ["member:updated"]
    assert events[0].payload == {"member": body}
    assert events[0].workspace_id == str(ws.workspace.id)
    assert (events[0].actor_type, events[0].actor_id) == ("member", str(ws.owner.id))


def test_the_last_owner_cannot_be_demoted(api, ws, events, commit):
    with commit():
        resp = api.as_user(ws.owner).patch(
            members_url(ws, membership(ws, ws.owner)), json={"role": "admin"}
        )
    assert resp.want(400).json() == LAST_OWNER
    assert role_of(ws, ws.owner) == Role.OWNER
    assert events == []


def test_an_owner_can_be_demoted_while_another_remains(api, ws, second_owner):
    api.as_user(ws.owner).patch(
        members_url(ws, membership(ws, second_owner)), json={"role": "member"}
    ).want(200)
    assert role_of(ws, second_owner) == Role.MEMBER
    # now the requester is the only owner again
    resp = api.as_user(ws.owner).patch(
        members_url(ws, membership(ws, ws.owner)), json={"role": "member"}
    )
    assert resp.want(400).json() == LAST_OWNER


def test_owner_setting_owner_on_the_last_owner_is_fine(api, ws):
    api.as_user(ws.owner).patch(
        members_url(ws, membership(ws, ws.owner)), json={"role": "owner"}
    ).want(200)


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ({}, "role is required"),
        ({"role": "  "}, "role is required"),
        ({"role": "boss"}, "invalid member role"),
        ({"role": 1}, "invalid request body"),
    ],
)
def test_role_change_validation(api, ws, payload, message):
    resp = api.as_user(ws.owner).patch(members_url(ws, membership(ws, ws.member)), json=payload)
    assert resp.want(400).json()["error"] == message
    assert role_of(ws, ws.member) == Role.MEMBER


def test_member_of_another_workspace_is_not_found(api, ws, other_ws):
    foreign = membership(other_ws, other_ws.owner)
    resp = api.as_user(ws.owner).patch(
        f"/api/workspaces/{ws.workspace.id}/members/{foreign.id}", json={"role": "member"}
    )
    assert resp.want(404).json() == MEMBER_NOT_FOUND
    assert role_of(other_ws, other_ws.owner) == Role.OWNER
    resp = api.as_user(ws.owner).delete(f"/api/workspaces/{ws.workspace.id}/members/{foreign.id}")
    assert resp.want(404).json() == MEMBER_NOT_FOUND
    assert role_of(other_ws, other_ws.owner) == Role.OWNER


def test_unknown_member_is_not_found(api, ws):
    path = f"/api/workspaces/{ws.workspace.id}/members/{uuid.uuid4()}"
    assert api.as_user(ws.owner).patch(path, json={"role": "member"}).want(404).json() == (
        MEMBER_NOT_FOUND
    )
    assert api.as_user(ws.owner).delete(path).want(404).json() == MEMBER_NOT_FOUND


# --- remove -----------------------------------------------------------------------------------

# (requester, target, expected status)
REMOVE_MATRIX = [
    ("owner", "member", 204),
    ("owner", "admin", 204),
    ("admin", "member", 204),
    ("admin", "admin", 204),
    ("admin", "owner", 403),
    ("member", "member", 403),
    ("member", "admin", 403),
]


@pytest.mark.parametrize(("requester", "target", "status"), REMOVE_MATRIX)
def test_remove_matrix(api, ws, second_owner, requester, target, status):
    target_user = getattr(ws, target)
    resp = api.as_user(getattr(ws, requester)).delete(members_url(ws, membership(ws, target_user)))
    resp.want(status)
    if status == 204:
        assert resp.body == b""
        assert role_of(ws, target_user) is None
    else:
        assert resp.json() == FORBIDDEN
        assert role_of(ws, target_user) == target


def test_owner_removes_another_owner_but_not_the_last(api, ws, second_owner):
    api.as_user(ws.owner).delete(members_url(ws, membership(ws, second_owner))).want(204)
    resp = api.as_user(ws.owner).delete(members_url(ws, membership(ws, ws.owner)))
    assert resp.want(400).json() == LAST_OWNER
    assert role_of(ws, ws.owner) == Role.OWNER


def test_remove_publishes_member_removed_and_runs_hooks(api, ws, events, commit, monkeypatch):
    calls = []
    monkeypatch.setattr(
        ws_service,
        "MEMBER_REMOVED_HOOKS",
        [lambda workspace, member, actor: calls.append((workspace.id, member.user_id, actor))],
    )
    target = membership(ws, ws.member)
    with commit():
        api.as_user(ws.admin).delete(members_url(ws, target)).want(204)
    assert [e.type for e in events] == ["member:removed"]
    assert events[0].payload == {
        "member_id": str(target.id),
        "workspace_id": str(ws.workspace.id),
        "user_id": str(ws.member.id),
    }
    assert events[0].workspace_id == str(ws.workspace.id)
    assert len(calls) == 1
    assert calls[0][:2] == (ws.workspace.id, ws.member.id)
    assert (calls[0][2].type, calls[0][2].id) == ("member", str(ws.admin.id))


def test_removed_member_loses_access(api, ws):
    api.as_user(ws.owner).delete(members_url(ws, membership(ws, ws.member))).want(204)
    resp = api.as_user(ws.member).get(f"/api/workspaces/{ws.workspace.id}")
    assert resp.want(404).json()["error"] == "workspace not found"


# --- leave ------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["admin", "member"])
def test_member_leaves(api, ws, role, events, commit, monkeypatch):
    calls = []
    monkeypatch.setattr(
        ws_service, "MEMBER_REMOVED_HOOKS", [lambda w, m, a: calls.append(m.user_id)]
    )
    user = getattr(ws, role)
    row = membership(ws, user)
    with commit():
        resp = api.as_user(user).post(f"/api/workspaces/{ws.workspace.id}/leave").want(204)
    assert resp.body == b""
    assert role_of(ws, user) is None
    assert calls == [user.id]
    assert [e.type for e in events] == ["member:removed"]
    assert events[0].payload == {
        "member_id": str(row.id),
        "workspace_id": str(ws.workspace.id),
        "user_id": str(user.id),
    }
    assert (events[0].actor_type, events[0].actor_id) == ("member", str(user.id))
    api.as_user(user).get(f"/api/workspaces/{ws.workspace.id}").want(404)


def test_the_last_owner_cannot_leave(api, ws, events, commit):
    with commit():
        resp = api.as_user(ws.owner).post(f"/api/workspaces/{ws.workspace.id}/leave")
    assert resp.want(400).json() == LAST_OWNER
    assert role_of(ws, ws.owner) == Role.OWNER
    assert events == []


def test_an_owner_leaves_when_another_owner_remains(api, ws, second_owner):
    api.as_user(ws.owner).post(f"/api/workspaces/{ws.workspace.id}/leave").want(204)
    assert role_of(ws, ws.owner) is None
    resp = api.as_user(second_owner).post(f"/api/workspaces/{ws.workspace.id}/leave")
    assert resp.want(400).json() == LAST_OWNER
