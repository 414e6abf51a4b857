"""``/api/workspaces`` and ``/api/workspaces/{id}`` (spec §2): shapes, rules, roles, events."""

from __future__ import annotations

import json
import re
import uuid
from pathlib import Path

import pytest
from django.db import connections

from multica_site.events import Event, add_sink, remove_sink
from workspaces.models import Invitation, Member, Role, Workspace
from workspaces.reserved import is_reserved_slug, reserved_slugs
from workspaces.services import workspaces as ws_service

pytestmark = pytest.mark.django_db

WORKSPACE_KEYS = {
    "id", "name", "slug", "description", "context", "settings", "repos", "issue_prefix",
    "avatar_url", "created_at", "updated_at",
}  # fmt: skip
TIME_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
FORBIDDEN = {"error": "insufficient permissions", "code": "forbidden"}
WS_NOT_FOUND = {"error": "workspace not found", "code": "workspace_not_found"}


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


def url(workspace, suffix: str = "") -> str:
    return f"/api/workspaces/{workspace.id}{suffix}"


def error(resp) -> str:
    return resp.json()["error"]


def assert_workspace_shape(body: dict) -> None:
    assert set(body) == WORKSPACE_KEYS
    assert TIME_RE.match(body["created_at"])
    assert TIME_RE.match(body["updated_at"])
    assert isinstance(body["settings"], dict)
    assert isinstance(body["repos"], list)


# --- list -------------------------------------------------------------------------------------


def test_list_returns_the_callers_workspaces_oldest_first(api, ws, other_ws, make_workspace):
    second = make_workspace(owner=ws.owner, slug="second")
    body = api.as_user(ws.owner).get("/api/workspaces").want(200).json()
    assert [w["id"] for w in body] == [str(ws.workspace.id), str(second.id)]
    for item in body:
        assert_workspace_shape(item)
    first = body[0]
    assert first["name"] == "Acme"
    assert first["slug"] == "acme"
    assert first["settings"] == {}
    assert first["repos"] == []
    assert first["issue_prefix"] == "ACME"
    assert first["description"] is None
    assert first["avatar_url"] is None


def test_list_shows_membership_of_every_role(api, ws):
    for user in (ws.admin, ws.member):
        body = api.as_user(user).get("/api/workspaces").want(200).json()
        assert [w["id"] for w in body] == [str(ws.workspace.id)]


def test_list_is_empty_for_a_user_without_workspaces(api, make_user, ws):
    assert api.as_user(make_user()).get("/api/workspaces").want(200).json() == []


def test_list_needs_authentication(api):
    api.as_user(None).get("/api/workspaces").want(401)


def test_list_query_count_does_not_grow(api, make_workspace, ws, django_assert_max_num_queries):
    for i in range(10):
        make_workspace(owner=ws.owner, slug=f"extra-{i}")
    with django_assert_max_num_queries(3):
        body = api.as_user(ws.owner).get("/api/workspaces").want(200).json()
    assert len(body) == 11


# --- create -----------------------------------------------------------------------------------


def test_create_returns_201_and_makes_the_caller_owner(api, make_user):
    user = make_user()
    resp = api.as_user(user).post(
        "/api/workspaces",
        json={"name": "  My Team ", "slug": " My-Team ", "description": "d", "context": "c"},
    )
    body = resp.want(201).json()
    assert_workspace_shape(body)
    assert body["name"] == "My Team"
    assert body["slug"] == "my-team"
    assert body["description"] == "d"
    assert body["context"] == "c"
    assert body["issue_prefix"] == "MYTE"
    member = Member.objects.get(workspace_id=body["id"])
    assert member.user == user
    assert member.role == Role.OWNER
    assert resp.headers["Content-Type"].startswith("application/json")


@pytest.mark.parametrize(
    ("slug", "prefix"), [("acme", "ACME"), ("front-end", "FRON"), ("team-2", "TEAM"), ("a1", "A1")]
)
def test_default_issue_prefix_comes_from_the_slug(api, make_user, slug, prefix):
    body = (
        api.as_user(make_user())
        .post("/api/workspaces", json={"name": "N", "slug": slug})
        .want(201)
        .json()
    )
    assert body["issue_prefix"] == prefix


def test_create_upper_cases_a_given_prefix(api, make_user):
    body = (
        api.as_user(make_user())
        .post("/api/workspaces", json={"name": "N", "slug": "n", "issue_prefix": " ab1 "})
        .want(201)
        .json()
    )
    assert body["issue_prefix"] == "AB1"


@pytest.mark.parametrize("prefix", ["TOOLONGPREFIX", "A-B", "Ä"])
def test_create_rejects_a_bad_prefix(api, make_user, prefix):
    resp = api.as_user(make_user()).post(
        "/api/workspaces", json={"name": "N", "slug": "n", "issue_prefix": prefix}
    )
    assert error(resp.want(400)) == "issue prefix must be 1-10 uppercase letters or digits"
    assert not Workspace.objects.filter(slug="n").exists()


@pytest.mark.parametrize(
    "body",
    [{}, {"name": "x"}, {"slug": "x"}, {"name": "  ", "slug": "x"}, {"name": "x", "slug": " "}],
)
def test_create_needs_name_and_slug(api, make_user, body):
    resp = api.as_user(make_user()).post("/api/workspaces", json=body)
    assert error(resp.want(400)) == "name and slug are required"


@pytest.mark.parametrize("slug", ["a_b", "-ab", "ab-", "a--b", "a b", "ab.c", "über"])
def test_create_rejects_a_malformed_slug(api, make_user, slug):
    resp = api.as_user(make_user()).post("/api/workspaces", json={"name": "N", "slug": slug})
    assert error(resp.want(400)) == "slug must contain only lowercase letters, numbers, and hyphens"


@pytest.mark.parametrize(
    "slug", ["login", "api", "admin", "multica", "issues", "agents", "settings", "ws", "Inbox"]
)
def test_create_rejects_a_reserved_slug(api, make_user, slug):
    resp = api.as_user(make_user()).post("/api/workspaces", json={"name": "N", "slug": slug})
    assert error(resp.want(400)) == "slug is reserved"


def test_reserved_slug_list_is_multicas():
    raw = json.loads((Path(ws_service.__file__).parent.parent / "reserved_slugs.json").read_text())
    assert raw == sorted(raw)
    assert len(raw) == len(set(raw)) == 92
    for word in ("login", "api", "admin", "multica", "issues", "agents", "settings", "ws",
                 "my-issues", "invitations", "squads", "usage", ".well-known"):  # fmt: skip
        assert word in reserved_slugs()
    assert is_reserved_slug("API")
    assert not is_reserved_slug("acme")


def test_create_duplicate_slug_is_409(api, ws, make_user):
    resp = api.as_user(make_user()).post("/api/workspaces", json={"name": "X", "slug": "ACME"})
    assert resp.want(409).json() == {
        "error": "workspace slug already exists",
        "code": "slug_conflict",
    }
    assert Workspace.objects.filter(slug="acme").count() == 1


def test_create_disabled_by_the_operator_is_403(api, make_user, settings):
    settings.DISABLE_WORKSPACE_CREATION = True
    resp = api.as_user(make_user()).post("/api/workspaces", json={"name": "N", "slug": "n"})
    assert error(resp.want(403)) == "workspace creation is disabled for this instance"
    assert not Workspace.objects.exists()


@pytest.mark.parametrize("body", [{"name": 1, "slug": "x"}, {"name": "x", "slug": ["x"]}, ["x"]])
def test_create_with_wrong_json_types_is_400(api, make_user, body):
    resp = api.as_user(make_user()).post("/api/workspaces", json=body)
    assert error(resp.want(400)) == "invalid request body"


def test_create_needs_authentication(api):
    api.as_user(None).post("/api/workspaces", json={"name": "N", "slug": "n"}).want(401)


# --- get --------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["owner", "admin", "member"])
def test_any_member_can_read_the_workspace(api, ws, role):
    body = api.as_user(getattr(ws, role)).get(url(ws.workspace)).want(200).json()
    assert_workspace_shape(body)
    assert body["id"] == str(ws.workspace.id)


def test_unknown_workspace_is_404(api, ws):
    resp = api.as_user(ws.owner).get(f"/api/workspaces/{uuid.uuid4()}")
    assert resp.want(404).json() == WS_NOT_FOUND


# --- update -----------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["patch", "put"])
@pytest.mark.parametrize("role", ["owner", "admin"])
def test_owner_and_admin_update_every_field(api, ws, role, method):
    payload = {
        "name": "  Acme Inc ",
        "description": "what we do",
        "context": "how we work",
        "settings": {"theme": "dark"},
        "repos": [
            {"url": " https://github.com/acme/app ", "description": " main "},
            {"url": "git@github.com:acme/lib.git"},
            {"url": "https://github.com/acme/app", "description": "duplicate"},
            {"url": "ssh://git@example.com/acme/tools.git", "description": ""},
        ],
        "issue_prefix": "acm",
        "avatar_url": "https://cdn.example.com/a.png",
    }
    call = getattr(api.as_user(getattr(ws, role)), method)
    body = call(url(ws.workspace), json=payload).want(200).json()
    assert_workspace_shape(body)
    assert body["name"] == "Acme Inc"
    assert body["description"] == "what we do"
    assert body["context"] == "how we work"
    assert body["settings"] == {"theme": "dark"}
    assert body["repos"] == [
        {"url": "https://github.com/acme/app", "description": "main"},
        {"url": "git@github.com:acme/lib.git"},
        {"url": "ssh://git@example.com/acme/tools.git"},
    ]
    assert body["issue_prefix"] == "ACM"
    assert body["avatar_url"] == "https://cdn.example.com/a.png"
    ws.workspace.refresh_from_db()
    assert ws.workspace.name == "Acme Inc"
    assert ws.workspace.repos == body["repos"]


def test_member_cannot_update(api, ws):
    resp = api.as_user(ws.member).patch(url(ws.workspace), json={"name": "Hacked"})
    assert resp.want(403).json() == FORBIDDEN
    ws.workspace.refresh_from_db()
    assert ws.workspace.name == "Acme"


def test_settings_are_replaced_not_merged(api, ws):
    owner = api.as_user(ws.owner)
    owner.patch(url(ws.workspace), json={"settings": {"a": 1, "b": 2}}).want(200)
    body = owner.patch(url(ws.workspace), json={"settings": {"c": 3}}).want(200).json()
    assert body["settings"] == {"c": 3}


def test_absent_and_null_fields_are_left_alone(api, ws):
    owner = api.as_user(ws.owner)
    owner.patch(url(ws.workspace), json={"description": "keep", "settings": {"k": 1}}).want(200)
    body = (
        owner.patch(
            url(ws.workspace),
            json={"name": None, "description": None, "settings": None, "repos": None},
        )
        .want(200)
        .json()
    )
    assert body["name"] == "Acme"
    assert body["description"] == "keep"
    assert body["settings"] == {"k": 1}


def test_blank_issue_prefix_keeps_the_current_one(api, ws):
    body = api.as_user(ws.owner).patch(url(ws.workspace), json={"issue_prefix": "  "})
    assert body.want(200).json()["issue_prefix"] == "ACME"


def test_nul_bytes_are_stripped(api, ws):
    body = (
        api.as_user(ws.owner)
        .patch(url(ws.workspace), json={"name": "Ac\x00me", "description": "x\x00y"})
        .want(200)
        .json()
    )
    assert body["name"] == "Acme"
    assert body["description"] == "xy"


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ({"name": "   "}, "name is required"),
        ({"issue_prefix": "WAY-TOO-LONG"}, "issue prefix must be 1-10 uppercase letters or digits"),
        ({"settings": ["a"]}, "settings must be an object"),
        ({"settings": "x"}, "settings must be an object"),
        ({"repos": "https://github.com/a/b"}, "repos must be an array of repository objects"),
        ({"repos": ["https://github.com/a/b"]}, "repos must be an array of repository objects"),
        ({"repos": [{"url": 5}]}, "repos must be an array of repository objects"),
        ({"repos": [{"description": "x"}]}, "repos[0]: url is required"),
        (
            {"repos": [{"url": "https://github.com/a/b"}, {"url": "not-a-url"}]},
            "repos[1]: url must be a valid http(s) or ssh git URL",
        ),
        (
            {"repos": [{"url": "ftp://example.com/x"}]},
            "repos[0]: url must be a valid http(s) or ssh git URL",
        ),
        ({"name": 5}, "invalid request body"),
    ],
)
def test_update_validation(api, ws, payload, message):
    before = Workspace.objects.values().get(pk=ws.workspace.pk)
    resp = api.as_user(ws.owner).patch(url(ws.workspace), json=payload)
    assert error(resp.want(400)) == message
    assert Workspace.objects.values().get(pk=ws.workspace.pk) == before


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("https://github.com/acme/app", True),
        ("http://git.example.com/acme/app.git", True),
        ("ssh://git@github.com/acme/app.git", True),
        ("git://example.com/app", True),
        ("git@github.com:acme/app.git", True),
        ("github.com:acme/app", True),
        ("not-a-url", False),
        ("https://", False),
        ("ftp://example.com/app", False),
        ("git@github.com:", False),
        (":acme/app", False),
        ("git@ github.com:acme/app", False),
        ("host:path@x", False),
        ("a:b@c:d", False),
        ("user:pw@host", False),
        ("@host:path", True),
    ],
)
def test_git_url_rule(value, ok):
    assert ws_service.is_valid_git_repo_url(value) is ok


def test_update_publishes_workspace_updated(api, ws, events, commit):
    with commit():
        body = api.as_user(ws.admin).patch(url(ws.workspace), json={"name": "New"}).want(200).json()
    assert [e.type for e in events] == ["workspace:updated"]
    event = events[0]
    assert event.payload == {"workspace": body}
    assert event.workspace_id == str(ws.workspace.id)
    assert (event.actor_type, event.actor_id) == ("member", str(ws.admin.id))


def test_failed_update_publishes_nothing(api, ws, events, commit):
    with commit():
        api.as_user(ws.owner).patch(url(ws.workspace), json={"name": ""}).want(400)
        api.as_user(ws.member).patch(url(ws.workspace), json={"name": "x"}).want(403)
    assert events == []


# --- delete -----------------------------------------------------------------------------------


def test_owner_deletes_the_workspace(api, ws, other_ws, events, commit):
    Invitation.objects.create(
        workspace=ws.workspace,
        inviter=ws.owner,
        invitee_email="x@example.com",
        expires_at="2999-01-01T00:00:00Z",
    )
    with commit():
        resp = api.as_user(ws.owner).delete(url(ws.workspace)).want(204)
    assert resp.body == b""
    assert not Workspace.objects.filter(pk=ws.workspace.pk).exists()
    assert not Member.objects.filter(workspace_id=ws.workspace.pk).exists()
    assert not Invitation.objects.filter(workspace_id=ws.workspace.pk).exists()
    assert Workspace.objects.filter(pk=other_ws.workspace.pk).exists()
    assert [e.type for e in events] == ["workspace:deleted"]
    assert events[0].payload == {"workspace_id": str(ws.workspace.id)}
    assert events[0].workspace_id == str(ws.workspace.id)
    api.as_user(ws.owner).get(url(ws.workspace)).want(404)


@pytest.mark.parametrize("role", ["admin", "member"])
def test_only_an_owner_deletes(api, ws, role, events, commit):
    with commit():
        resp = api.as_user(getattr(ws, role)).delete(url(ws.workspace))
    assert resp.want(403).json() == FORBIDDEN
    assert Workspace.objects.filter(pk=ws.workspace.pk).exists()
    assert events == []


def test_deleting_hooks_run_before_the_row_goes(api, ws, monkeypatch):
    seen = []
    monkeypatch.setattr(
        ws_service,
        "WORKSPACE_DELETING_HOOKS",
        [lambda w: seen.append(Workspace.objects.filter(pk=w.pk).exists())],
    )
    api.as_user(ws.owner).delete(url(ws.workspace)).want(204)
    assert seen == [True]


@pytest.mark.django_db(transaction=True)
def test_delete_blocked_by_a_lock_is_503(api, ws, monkeypatch):
    monkeypatch.setattr(ws_service, "WORKSPACE_DELETE_LOCK_TIMEOUT_MS", 50)
    other = connections.create_connection("default")
    try:
        with other.cursor() as cur:
            cur.execute("BEGIN")
            cur.execute("SELECT id FROM workspace WHERE id = %s FOR UPDATE", [ws.workspace.id])
            resp = api.as_user(ws.owner).delete(url(ws.workspace))
            cur.execute("ROLLBACK")
    finally:
        other.close()
    assert resp.want(503).json() == {
        "error": "workspace deletion is temporarily blocked by another operation, please try again",
        "code": "workspace_delete_locked",
    }
    assert Workspace.objects.filter(pk=ws.workspace.pk).exists()


# --- every /api/workspaces/{id}/… route hides the workspace from non-members ------------------

ROUTES = [
    ("get", "", None),
    ("put", "", {"name": "Hacked"}),
    ("patch", "", {"name": "Hacked", "settings": {"x": 1}}),
    ("delete", "", None),
    ("get", "/members", None),
    ("post", "/members", {"email": "spy@example.com", "role": "admin"}),
    ("patch", "/members/{member}", {"role": "owner"}),
    ("delete", "/members/{member}", None),
    ("post", "/leave", None),
    ("get", "/invitations", None),
    ("delete", "/invitations/{invitation}", None),
]


def snapshot() -> list:
    return [
        list(Workspace.objects.order_by("id").values()),
        list(Member.objects.order_by("id").values()),
        list(Invitation.objects.order_by("id").values()),
    ]


@pytest.mark.parametrize(("method", "suffix", "payload"), ROUTES)
@pytest.mark.parametrize("who", ["stranger", "other_owner", "unknown_workspace"])
def test_non_member_gets_404_and_nothing_changes(
    api, ws, other_ws, make_user, events, commit, method, suffix, payload, who
):
    member = Member.objects.get(workspace=ws.workspace, user=ws.member)
    invitation = Invitation.objects.create(
        workspace=ws.workspace,
        inviter=ws.owner,
        invitee_email="pending@example.com",
        expires_at="2999-01-01T00:00:00Z",
    )
    user = other_ws.owner if who == "other_owner" else make_user()
    workspace_id = uuid.uuid4() if who == "unknown_workspace" else ws.workspace.id
    path = f"/api/workspaces/{workspace_id}" + suffix.format(
        member=member.id, invitation=invitation.id
    )
    before = snapshot()
    with commit():
        resp = getattr(api.as_user(user), method)(path, json=payload)
    assert resp.want(404).json() == WS_NOT_FOUND
    assert snapshot() == before
    assert events == []


@pytest.mark.parametrize(("method", "suffix", "payload"), ROUTES)
def test_unauthenticated_is_401_everywhere(api, ws, method, suffix, payload):
    path = url(ws.workspace) + suffix.format(member=uuid.uuid4(), invitation=uuid.uuid4())
    getattr(api.as_user(None), method)(path, json=payload).want(401)


def test_delete_takes_runtimes_with_bound_agents_and_their_tasks(api, ws, commit):
    """A workspace whose agents are bound to its runtimes (and have tasks) deletes whole:
    the runtime binding restricts deleting a runtime alone, not the workspace around both."""
    from agents.models import Agent, AgentTask
    from runtimes.models import AgentRuntime

    runtime = AgentRuntime.objects.create(
        workspace=ws.workspace, owner=ws.owner, daemon_id="d1", name="rt", provider="claude"
    )
    agent = Agent.objects.create(
        workspace=ws.workspace, runtime=runtime, name="bound", owner=ws.owner
    )
    AgentTask.objects.create(workspace=ws.workspace, agent=agent, runtime=runtime)
    with commit():
        api.as_user(ws.owner).delete(url(ws.workspace)).want(204)
    assert not AgentRuntime.objects.filter(pk=runtime.pk).exists()
    assert not Agent.objects.filter(pk=agent.pk).exists()
