"""``/api/labels`` (spec §4): shapes, Multica's validation sentences, case-insensitive
uniqueness, usage counts in one query, events, and tenant isolation."""

from __future__ import annotations

import re
import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from issues.models import Issue, IssueLabel, Label
from issues.selectors_catalog import LABEL_USAGE_COUNTERS, label_list
from multica_site.events import Event, add_sink, remove_sink
from workspaces.context import Actor, WorkspaceContext
from workspaces.models import Member

pytestmark = pytest.mark.django_db

LABEL_KEYS = {
    "id", "workspace_id", "resource_type", "name", "description", "color", "usage_count",
    "created_at", "updated_at",
}  # fmt: skip
TIME_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")


@pytest.fixture
def events():
    captured: list[Event] = []
    add_sink(captured.append)
    yield captured
    remove_sink(captured.append)


@pytest.fixture
def commit(django_capture_on_commit_callbacks):
    return lambda: django_capture_on_commit_callbacks(execute=True)


@pytest.fixture
def owner_api(api, ws):
    return api.as_user(ws.owner)


def make_issue(workspace, creator, number: int, **extra) -> Issue:
    return Issue.objects.create(
        workspace=workspace,
        number=number,
        title=f"Issue {number}",
        creator_type="member",
        creator_id=creator.id,
        **extra,
    )


def create_label(api, ws, **body):
    body.setdefault("color", "#3b82f6")
    return api.post("/api/labels", json=body, ws=ws.workspace)


def err(resp) -> tuple[int, str]:
    return resp.status, resp.json()["error"]


# --- create -----------------------------------------------------------------------------------


def test_create_returns_201_with_multica_shape(owner_api, ws, events, commit):
    with commit():
        resp = create_label(
            owner_api, ws, name="  Bug  ", color="AbCdEf", description=" Broken things "
        )
    body = resp.want(201).json()
    assert set(body) == LABEL_KEYS
    assert body["name"] == "Bug"
    assert body["color"] == "#abcdef"
    assert body["description"] == "Broken things"
    assert body["resource_type"] == "issue"
    assert body["usage_count"] == 0
    assert body["workspace_id"] == str(ws.workspace.id)
    assert TIME_RE.match(body["created_at"])
    assert TIME_RE.match(body["updated_at"])
    assert [e.type for e in events] == ["label:created"]
    assert events[0].payload == {"label": body}
    assert (events[0].actor_type, events[0].actor_id) == ("member", str(ws.owner.id))
    assert events[0].workspace_id == str(ws.workspace.id)


@pytest.mark.parametrize("resource_type", ["issue", "agent", "skill"])
def test_create_each_resource_type(owner_api, ws, resource_type):
    body = create_label(owner_api, ws, name="x", resource_type=resource_type).want(201).json()
    assert body["resource_type"] == resource_type


def test_any_member_may_create(api, ws):
    create_label(api.as_user(ws.member), ws, name="mine").want(201)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"color": "#3b82f6"}, "name is required"),
        ({"name": "   ", "color": "#3b82f6"}, "name is required"),
        (
            {"name": "a\tb", "color": "#3b82f6"},
            "name cannot contain tabs, newlines, or control characters",
        ),
        (
            {"name": "a\nb", "color": "#3b82f6"},
            "name cannot contain tabs, newlines, or control characters",
        ),
        (
            {"name": "a\x00b", "color": "#3b82f6"},
            "name cannot contain tabs, newlines, or control characters",
        ),
        ({"name": "x" * 33, "color": "#3b82f6"}, "name must be 32 characters or fewer"),
        ({"name": "ok"}, "color must be a 6-digit hex value like #3b82f6"),
        ({"name": "ok", "color": "red"}, "color must be a 6-digit hex value like #3b82f6"),
        ({"name": "ok", "color": "#12345"}, "color must be a 6-digit hex value like #3b82f6"),
        ({"name": "ok", "color": "#1234567"}, "color must be a 6-digit hex value like #3b82f6"),
        ({"name": "ok", "color": "url(x)"}, "color must be a 6-digit hex value like #3b82f6"),
        (
            {"name": "ok", "color": "#3b82f6", "resource_type": "bogus"},
            "resource_type must be issue, agent, or skill",
        ),
        ({"name": 123, "color": "#3b82f6"}, "invalid request body"),
        ({"name": "ok", "color": True}, "invalid request body"),
    ],
)
def test_create_validation_errors(owner_api, ws, body, message):
    resp = owner_api.post("/api/labels", json=body, ws=ws.workspace)
    assert err(resp) == (400, message)
    assert resp.json()["code"]
    assert not Label.objects.filter(workspace=ws.workspace).exists()


def test_name_limit_counts_characters_not_bytes(owner_api, ws):
    body = create_label(owner_api, ws, name="é" * 32).want(201).json()
    assert body["name"] == "é" * 32


def test_non_object_body_is_invalid(owner_api, ws):
    resp = owner_api.post("/api/labels", json=["name"], ws=ws.workspace)
    assert err(resp) == (400, "invalid request body")
    resp = owner_api.client.post(
        "/api/labels",
        data="{not json",
        content_type="application/json",
        HTTP_AUTHORIZATION=owner_api._headers["HTTP_AUTHORIZATION"],
        HTTP_X_WORKSPACE_ID=str(ws.workspace.id),
    )
    assert resp.status_code == 400
    assert resp.json()["error"] == "invalid request body"


# --- uniqueness -------------------------------------------------------------------------------


def test_name_is_unique_per_type_ignoring_case(owner_api, ws, other_ws, api):
    create_label(owner_api, ws, name="Bug").want(201)
    resp = create_label(owner_api, ws, name="  bUG ")
    assert err(resp) == (409, "a label with that name already exists")
    assert resp.json()["code"] == "label_name_conflict"
    # Another resource type, or another workspace, may reuse the name.
    create_label(owner_api, ws, name="bug", resource_type="agent").want(201)
    create_label(api.as_user(other_ws.owner), other_ws, name="bug").want(201)
    assert Label.objects.filter(workspace=ws.workspace).count() == 2


def test_rename_onto_existing_name_conflicts(owner_api, ws):
    create_label(owner_api, ws, name="Bug").want(201)
    other = create_label(owner_api, ws, name="Feature").want(201).json()
    resp = owner_api.put(f"/api/labels/{other['id']}", json={"name": "BUG"}, ws=ws.workspace)
    assert err(resp) == (409, "a label with that name already exists")
    assert Label.objects.get(pk=other["id"]).name == "Feature"
    # Renaming a label to a different case of its own name is fine.
    owner_api.put(f"/api/labels/{other['id']}", json={"name": "FEATURE"}, ws=ws.workspace).want(200)


# --- list -------------------------------------------------------------------------------------


def test_list_filters_by_type_orders_by_name_and_counts_usage(owner_api, ws, other_ws):
    bug = create_label(owner_api, ws, name="bug").want(201).json()
    create_label(owner_api, ws, name="Alpha").want(201)
    create_label(owner_api, ws, name="agent-only", resource_type="agent").want(201)
    for n in range(3):
        issue = make_issue(ws.workspace, ws.owner, n + 1)
        IssueLabel.objects.create(issue=issue, label_id=bug["id"])

    body = owner_api.get("/api/labels", ws=ws.workspace).want(200).json()
    assert set(body) == {"labels", "total"}
    assert [(lb["name"], lb["usage_count"]) for lb in body["labels"]] == [("Alpha", 0), ("bug", 3)]
    assert body["total"] == 2
    assert all(set(lb) == LABEL_KEYS for lb in body["labels"])

    agents = owner_api.get("/api/labels", ws=ws.workspace, resource_type="agent").json()
    assert [lb["name"] for lb in agents["labels"]] == ["agent-only"]

    resp = owner_api.get("/api/labels", ws=ws.workspace, resource_type="nope")
    assert err(resp) == (400, "resource_type must be issue, agent, or skill")


def test_list_usage_counts_take_one_query_at_1_and_20_rows(owner_api, ws):
    ctx = WorkspaceContext(
        workspace=ws.workspace,
        user=ws.owner,
        member=Member.objects.get(workspace=ws.workspace, user=ws.owner),
        actor=Actor("member", str(ws.owner.id)),
    )
    counts = {}
    for total in (1, 20):
        Label.objects.filter(workspace=ws.workspace).delete()
        Issue.objects.filter(workspace=ws.workspace).delete()
        issue = make_issue(ws.workspace, ws.owner, 1)
        for i in range(total):
            label = Label.objects.create(workspace=ws.workspace, name=f"l{i}", color="#000000")
            IssueLabel.objects.create(issue=issue, label=label)
        with CaptureQueriesContext(connection) as selector_queries:
            rows = list(label_list(ctx=ctx, resource_type="issue"))
        assert len(selector_queries) == 1
        assert [r.usage_count for r in rows] == [1] * total
        with CaptureQueriesContext(connection) as request_queries:
            body = owner_api.get("/api/labels", ws=ws.workspace).want(200).json()
        assert body["total"] == total
        counts[total] = len(request_queries)
    assert counts[1] == counts[20], counts


def test_unregistered_resource_types_count_zero(owner_api, ws):
    assert set(LABEL_USAGE_COUNTERS) == {"issue"}
    create_label(owner_api, ws, name="a", resource_type="skill").want(201)
    body = owner_api.get("/api/labels", ws=ws.workspace, resource_type="skill").json()
    assert body["labels"][0]["usage_count"] == 0


# --- get / update / delete --------------------------------------------------------------------


def test_get_one_with_usage(owner_api, ws):
    label = create_label(owner_api, ws, name="bug").want(201).json()
    IssueLabel.objects.create(issue=make_issue(ws.workspace, ws.owner, 1), label_id=label["id"])
    body = owner_api.get(f"/api/labels/{label['id']}", ws=ws.workspace).want(200).json()
    assert body == {**label, "usage_count": 1}


def test_get_unknown_is_404(owner_api, ws):
    resp = owner_api.get(f"/api/labels/{uuid.uuid4()}", ws=ws.workspace)
    assert err(resp) == (404, "label not found")
    assert resp.json()["code"] == "label_not_found"


def test_update_changes_only_given_fields(owner_api, ws, events, commit):
    label = create_label(owner_api, ws, name="bug", description="d").want(201).json()
    with commit():
        body = (
            owner_api.put(
                f"/api/labels/{label['id']}",
                json={"color": "FF0000", "name": None, "description": None},
                ws=ws.workspace,
            )
            .want(200)
            .json()
        )
    assert (body["name"], body["description"], body["color"]) == ("bug", "d", "#ff0000")
    assert [e.type for e in events] == ["label:updated"]
    assert events[0].payload == {"label": body}

    body = (
        owner_api.put(
            f"/api/labels/{label['id']}",
            json={"name": " Defect ", "description": ""},
            ws=ws.workspace,
        )
        .want(200)
        .json()
    )
    assert (body["name"], body["description"], body["color"]) == ("Defect", "", "#ff0000")


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"name": ""}, "name is required"),
        ({"name": "x" * 33}, "name must be 32 characters or fewer"),
        ({"color": "blue"}, "color must be a 6-digit hex value like #3b82f6"),
        ({"name": 5}, "invalid request body"),
    ],
)
def test_update_validation(owner_api, ws, body, message):
    label = create_label(owner_api, ws, name="bug").want(201).json()
    resp = owner_api.put(f"/api/labels/{label['id']}", json=body, ws=ws.workspace)
    assert err(resp) == (400, message)
    assert Label.objects.get(pk=label["id"]).name == "bug"


def test_delete_detaches_and_publishes(owner_api, ws, events, commit):
    label = create_label(owner_api, ws, name="bug").want(201).json()
    keep = create_label(owner_api, ws, name="keep").want(201).json()
    issue = make_issue(ws.workspace, ws.owner, 1)
    IssueLabel.objects.create(issue=issue, label_id=label["id"])
    IssueLabel.objects.create(issue=issue, label_id=keep["id"])
    with commit():
        resp = owner_api.delete(f"/api/labels/{label['id']}", ws=ws.workspace).want(204)
    assert resp.body == b""
    assert not Label.objects.filter(pk=label["id"]).exists()
    assert list(IssueLabel.objects.values_list("label_id", flat=True)) == [uuid.UUID(keep["id"])]
    assert Issue.objects.filter(pk=issue.pk).exists()
    assert [(e.type, e.payload) for e in events] == [("label:deleted", {"label_id": label["id"]})]
    resp = owner_api.delete(f"/api/labels/{label['id']}", ws=ws.workspace)
    assert err(resp) == (404, "label not found")


# --- tenant isolation -------------------------------------------------------------------------


def test_foreign_label_is_not_found_and_untouched(api, ws, other_ws, events, commit):
    victim = create_label(api.as_user(ws.owner), ws, name="secret").want(201).json()
    events.clear()
    intruder = api.as_user(other_ws.owner)
    path = f"/api/labels/{victim['id']}"
    with commit():
        for resp in (
            intruder.get(path, ws=other_ws.workspace),
            intruder.put(path, json={"name": "pwned"}, ws=other_ws.workspace),
            intruder.delete(path, ws=other_ws.workspace),
        ):
            assert err(resp) == (404, "label not found")
    assert Label.objects.get(pk=victim["id"]).name == "secret"
    assert events == []
    listed = intruder.get("/api/labels", ws=other_ws.workspace).json()
    assert listed == {"labels": [], "total": 0}
    # Naming the victim's workspace is refused before anything else.
    resp = intruder.get(path, ws=ws.workspace)
    assert err(resp) == (404, "workspace not found")


def test_usage_count_ignores_links_from_other_workspaces(owner_api, ws, other_ws):
    """A label's count is of its own link rows; links can only come from its workspace's issues,
    but the count must not depend on that invariant holding for another workspace's rows."""
    label = create_label(owner_api, ws, name="bug").want(201).json()
    other_label = Label.objects.create(workspace=other_ws.workspace, name="bug", color="#000000")
    IssueLabel.objects.create(
        issue=make_issue(other_ws.workspace, other_ws.owner, 1), label=other_label
    )
    body = owner_api.get(f"/api/labels/{label['id']}", ws=ws.workspace).json()
    assert body["usage_count"] == 0


# --- admin ------------------------------------------------------------------------------------


@pytest.fixture
def staff_client(make_user):
    """A logged-in superuser, with the catalog admins registered and routed (until
    ``issues/admin.py`` imports ``issues.admin_catalog``, nothing else registers them)."""
    import importlib

    from django.test import Client
    from django.urls import clear_url_caches

    import issues.admin_catalog  # noqa: F401 - registers the catalog admins
    import multica_site.urls

    importlib.reload(multica_site.urls)
    clear_url_caches()
    client = Client()
    client.force_login(make_user("root@example.com", is_staff=True, is_superuser=True))
    return client


def test_admin_lists_labels_with_usage_and_applies_the_api_rules(staff_client, owner_api, ws):
    label = create_label(owner_api, ws, name="bug").want(201).json()
    create_label(owner_api, ws, name="other").want(201)
    IssueLabel.objects.create(issue=make_issue(ws.workspace, ws.owner, 1), label_id=label["id"])
    resp = staff_client.get("/admin/issues/label/")
    assert resp.status_code == 200
    assert b"bug" in resp.content

    change = f"/admin/issues/label/{label['id']}/change/"
    form = {"name": "OTHER", "description": "", "color": "#000000"}
    resp = staff_client.post(change, form)
    assert resp.status_code == 200  # form redisplayed with the error
    assert b"a label with that name already exists" in resp.content
    resp = staff_client.post(change, {**form, "name": "renamed", "color": "zzz"})
    assert b"color must be a 6-digit hex value like #3b82f6" in resp.content
    resp = staff_client.post(change, {**form, "name": " Renamed ", "color": "ABCDEF"})
    assert resp.status_code == 302
    row = Label.objects.get(pk=label["id"])
    assert (row.name, row.color, row.workspace_id) == ("Renamed", "#abcdef", ws.workspace.id)
