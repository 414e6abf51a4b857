"""Issue endpoints (spec §3.1, §3.3, §3.6, §3.10): shapes, validation texts, revisions, moves,
deletes, batches, labels and reactions on issues, children, and the events every write sends."""

from __future__ import annotations

import re
import uuid

import pytest

from issues.models import ActivityLog, Issue, IssueLabel, IssueReaction
from issues.services.issues import issue_update
from issues.services.statuses import status_archive, status_create
from multica_site.events import wire_projection
from tests.issues.issue_fixtures import *  # noqa: F403
from workspaces.models import Workspace

pytestmark = pytest.mark.django_db

ISSUE_FIELDS = {
    "id", "workspace_id", "number", "identifier", "title", "description", "status",
    "status_category", "priority", "assignee_type", "assignee_id", "creator_type", "creator_id",
    "parent_issue_id", "project_id", "position", "stage", "start_date", "due_date", "created_at",
    "updated_at", "revision", "last_activity_at", "metadata", "properties",
}  # fmt: skip
LABEL_FIELDS = {
    "id", "workspace_id", "resource_type", "name", "description", "color", "created_at",
    "updated_at",
}  # fmt: skip
SECONDS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
NANO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z$")


@pytest.fixture
def client(api, ws):
    return api.as_user(ws.owner)


def post(client, ws, body, status=201):
    return client.post("/api/issues", json=body, ws=ws.workspace).want(status).json()


def put(client, ws, ref, body, status=200):
    return client.put(f"/api/issues/{ref}", json=body, ws=ws.workspace).want(status).json()


# --- shape ------------------------------------------------------------------------------------


def test_create_response_has_the_issue_shape(client, ws):
    body = post(client, ws, {"title": "First", "description": "Some text"})
    assert set(body) == ISSUE_FIELDS | {"labels"}
    assert body["identifier"] == "ACME-1"
    assert body["number"] == 1
    assert body["workspace_id"] == str(ws.workspace.id)
    assert (body["status"], body["status_category"], body["priority"]) == ("todo", "todo", "none")
    assert (body["creator_type"], body["creator_id"]) == ("member", str(ws.owner.id))
    assert body["assignee_type"] is None
    assert body["assignee_id"] is None
    assert body["revision"] == 1
    assert body["metadata"] == {}
    assert body["properties"] == {}
    assert body["labels"] == []
    assert isinstance(body["position"], float)
    assert SECONDS.match(body["created_at"])
    assert SECONDS.match(body["updated_at"])
    assert NANO.match(body["last_activity_at"])
    assert body["start_date"] is None
    assert body["stage"] is None


def test_get_one_by_uuid_or_identifier(client, ws, ctx, make_issue):
    issue = make_issue(ctx, "Findable")
    by_id = client.get(f"/api/issues/{issue.id}", ws=ws.workspace).want(200).json()
    by_ident = client.get("/api/issues/acme-1", ws=ws.workspace).want(200).json()
    assert by_id == by_ident
    assert set(by_id) == ISSUE_FIELDS | {"labels"}  # reactions/attachments omitted when empty
    client.get("/api/issues/ACME-99", ws=ws.workspace).want(404)
    client.get("/api/issues/OTHER-1", ws=ws.workspace).want(404)
    client.get(f"/api/issues/{uuid.uuid4()}", ws=ws.workspace).want(404)


def test_get_one_includes_labels_and_reactions(client, ws, ctx, make_issue, make_label):
    bug, api_label = make_label(ctx, "bug"), make_label(ctx, "API")
    issue = make_issue(ctx, label_ids=[str(bug.id), str(api_label.id)])
    client.post(f"/api/issues/{issue.id}/reactions", json={"emoji": "🎉"}, ws=ws.workspace).want(
        201
    )
    body = client.get(f"/api/issues/{issue.id}", ws=ws.workspace).want(200).json()
    assert [label["name"] for label in body["labels"]] == ["API", "bug"]  # lower(name) order
    assert set(body["labels"][0]) == LABEL_FIELDS
    assert [r["emoji"] for r in body["reactions"]] == ["🎉"]
    assert set(body["reactions"][0]) == {
        "id", "issue_id", "actor_type", "actor_id", "emoji", "created_at",
    }  # fmt: skip


def test_identifier_falls_back_to_the_workspace_name(client, ws, ctx, make_issue):
    Workspace.objects.filter(pk=ws.workspace.pk).update(issue_prefix="")
    issue = make_issue(ctx)
    body = client.get(f"/api/issues/{issue.id}", ws=ws.workspace).want(200).json()
    assert body["identifier"] == f"ACM-{issue.number}"


# --- create -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({}, "title is required"),
        ({"title": ""}, "title is required"),
        ({"title": 5}, "invalid request body"),
        ({"title": "x", "status": "nope"}, 'invalid status "nope"; valid values: backlog, todo, '
         "in_progress, in_review, done, blocked, cancelled"),
        ({"title": "x", "priority": "p0"}, 'invalid priority "p0"; valid values: urgent, high, '
         "medium, low, none"),
        ({"title": "x", "stage": 0}, "stage must be >= 1"),
        ({"title": "x", "assignee_type": "member"},
         "assignee_type and assignee_id must be provided together"),
        ({"title": "x", "assignee_id": str(uuid.uuid4())},
         "assignee_type and assignee_id must be provided together"),
        ({"title": "x", "assignee_type": "member", "assignee_id": "nope"}, "invalid assignee_id"),
        ({"title": "x", "assignee_type": "member", "assignee_id": str(uuid.uuid4())},
         "assignee_id does not refer to a member of this workspace"),
        ({"title": "x", "assignee_type": "agent", "assignee_id": str(uuid.uuid4())},
         "assignee_id does not refer to an agent of this workspace"),
        ({"title": "x", "assignee_type": "robot", "assignee_id": str(uuid.uuid4())},
         "assignee_type must be 'member', 'agent', or 'squad'"),
        ({"title": "x", "parent_issue_id": "nope"}, "invalid parent_issue_id"),
        ({"title": "x", "parent_issue_id": str(uuid.uuid4())},
         "parent issue not found in this workspace"),
        ({"title": "x", "project_id": "nope"}, "invalid project_id"),
        ({"title": "x", "project_id": str(uuid.uuid4())}, "project not found in this workspace"),
        ({"title": "x", "label_ids": ["nope"]}, "invalid label_ids"),
        ({"title": "x", "label_ids": [str(uuid.uuid4())]},
         "one or more labels not found in this workspace"),
        ({"title": "x", "attachment_ids": ["nope"]}, "invalid attachment_ids"),
        ({"title": "x", "start_date": "2026-13-01"},
         "invalid start_date format, expected YYYY-MM-DD"),
        ({"title": "x", "due_date": "2026-03-01T16:00:00Z"},
         "invalid due_date format, expected YYYY-MM-DD"),
    ],
)  # fmt: skip
def test_create_validation_texts(client, ws, body, message):
    out = post(client, ws, body, status=400)
    assert out["error"] == message
    assert not Issue.objects.filter(workspace=ws.workspace).exists()


def test_create_with_every_field(client, ws, ctx, make_issue, make_project, make_label):
    project = make_project(ctx)
    parent = make_issue(ctx, "Parent", project_id=str(project.id))
    label = make_label(ctx, "bug")
    body = post(
        client,
        ws,
        {
            "title": "Child",
            "description": "d",
            "status": "in_progress",
            "priority": "high",
            "assignee_type": "member",
            "assignee_id": str(ws.member.id),
            "parent_issue_id": str(parent.id),
            "stage": 2,
            "start_date": "2026-03-01",
            "due_date": "2026-03-02T00:00:00Z",
            "label_ids": [str(label.id)],
        },
    )
    assert body["project_id"] == str(project.id)  # inherited from the parent
    assert body["parent_issue_id"] == str(parent.id)
    assert (body["assignee_type"], body["assignee_id"]) == ("member", str(ws.member.id))
    assert (body["start_date"], body["due_date"]) == ("2026-03-01", "2026-03-02")
    assert body["stage"] == 2
    assert [label["id"] for label in body["labels"]] == [str(label.id)]


def test_numbers_and_positions(client, ws):
    first = post(client, ws, {"title": "A"})
    second = post(client, ws, {"title": "B"})
    other_status = post(client, ws, {"title": "C", "status": "done"})
    assert [first["number"], second["number"], other_status["number"]] == [1, 2, 3]
    assert second["position"] == first["position"] - 1  # top of the todo column
    assert other_status["position"] == -1.0  # first of its column
    ws.workspace.refresh_from_db()
    assert ws.workspace.issue_counter == 3


def test_duplicate_guard(client, ws, ctx, make_project):
    first = post(client, ws, {"title": "Fix  the   Login"})
    out = post(client, ws, {"title": "fix the login "}, status=409)
    assert out["code"] == "active_duplicate_issue"
    assert out["error"].startswith("Active duplicate issue exists: ACME-1 Fix  the   Login")
    assert out["issue"]["id"] == first["id"]
    assert set(out["issue"]) == ISSUE_FIELDS
    assert post(client, ws, {"title": "Fix\tthe login"}, status=409)["issue"]["id"] == first["id"]
    post(client, ws, {"title": "fix the login page"})  # a longer title is another issue
    # allowed: explicit override, another project, or the first one closed
    post(client, ws, {"title": "fix the login", "allow_duplicate": True})
    post(client, ws, {"title": "fix the login", "project_id": str(make_project(ctx).id)})
    Issue.objects.filter(workspace=ws.workspace).update(status="done")
    post(client, ws, {"title": "fix the login"})


def test_create_publishes_event_and_activity(client, ws, events, make_label, ctx):
    label = make_label(ctx, "bug")
    with events.commit():
        body = post(client, ws, {"title": "Evented", "label_ids": [str(label.id)]})
    assert events.types()[:2] == ["issue:created", "activity:created"]
    created = events.payloads("issue:created")[0]
    assert created["issue"]["id"] == body["id"]
    assert created["issue"]["labels"][0]["id"] == str(label.id)
    activity = events.payloads("activity:created")[0]
    assert activity["issue_id"] == body["id"]
    entry = activity["entry"]
    assert (entry["type"], entry["action"], entry["details"]) == ("activity", "created", {})
    assert (entry["actor_type"], entry["actor_id"]) == ("member", str(ws.owner.id))
    assert events.of("issue:created")[0].actor_id == str(ws.owner.id)
    assert ActivityLog.objects.filter(issue_id=body["id"], action="created").count() == 1


def test_create_on_a_custom_status(client, ws, ctx):
    status = status_create(ctx=ctx, name="QA Review", category="in_review", color="#112233")
    body = post(client, ws, {"title": "Custom", "status": "QA_REVIEW"})
    assert (body["status"], body["status_category"]) == (status.key, "in_review")
    status_archive(ctx=ctx, status_id=status.id)
    out = post(client, ws, {"title": "Again", "status": "qa_review"}, status=400)
    assert out["error"].startswith('invalid status "qa_review"; valid values: backlog')


# --- update -----------------------------------------------------------------------------------


def test_update_is_partial_and_null_clears(client, ws, ctx, make_issue, make_project):
    project = make_project(ctx)
    parent = make_issue(ctx)
    issue = make_issue(
        ctx,
        description="keep",
        assignee_type="member",
        assignee_id=str(ws.member.id),
        project_id=str(project.id),
        parent_issue_id=str(parent.id),
        start_date="2026-01-01",
        stage=3,
    )
    body = put(client, ws, issue.id, {"priority": "urgent"})
    assert "labels" not in body
    assert set(body) == ISSUE_FIELDS
    assert body["description"] == "keep"
    assert body["assignee_id"] == str(ws.member.id)
    assert body["revision"] == 2
    body = put(
        client,
        ws,
        issue.number and f"ACME-{issue.number}",
        {
            "assignee_type": None,
            "assignee_id": None,
            "project_id": None,
            "parent_issue_id": None,
            "start_date": None,
            "stage": None,
            "title": None,  # a null title is ignored
            "description": None,  # and so is a null description
        },
    )
    assert body["assignee_type"] is None
    assert body["assignee_id"] is None
    assert body["project_id"] is None
    assert body["parent_issue_id"] is None
    assert body["start_date"] is None
    assert body["stage"] is None
    assert body["title"] == issue.title
    assert body["description"] == "keep"
    assert body["revision"] == 3


def test_revision_and_last_activity(client, ws, ctx, make_issue):
    issue = make_issue(ctx)
    same = put(client, ws, issue.id, {"title": issue.title, "priority": "none"})
    assert same["revision"] == 1  # nothing changed
    moved = put(client, ws, issue.id, {"position": 42.5})
    assert moved["revision"] == 2
    assert moved["position"] == 42.5
    assert moved["last_activity_at"] == same["last_activity_at"]  # a reposition is not activity
    renamed = put(client, ws, issue.id, {"title": "Renamed"})
    assert renamed["revision"] == 3
    assert renamed["last_activity_at"] > moved["last_activity_at"]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"status": "nope"}, 'invalid status "nope"; valid values: backlog, todo, in_progress, '
         "in_review, done, blocked, cancelled"),
        ({"priority": "p1"}, 'invalid priority "p1"; valid values: urgent, high, medium, low, '
         "none"),
        ({"assignee_type": "member"}, "assignee_type and assignee_id must be provided together"),
        ({"assignee_type": "member", "assignee_id": str(uuid.uuid4())},
         "assignee_id does not refer to a member of this workspace"),
        ({"assignee_type": "agent", "assignee_id": str(uuid.uuid4())},
         "assignee_id does not refer to an agent of this workspace"),
        ({"parent_issue_id": "x"}, "invalid parent_issue_id"),
        ({"parent_issue_id": str(uuid.uuid4())}, "parent issue not found in this workspace"),
        ({"project_id": str(uuid.uuid4())}, "project not found in this workspace"),
        ({"stage": 0}, "stage must be >= 1"),
        ({"due_date": "tomorrow"}, "invalid due_date format, expected YYYY-MM-DD"),
        ({"expected_revision": 0}, "expected_revision must be a positive integer"),
        ({"position": "top"}, "invalid request body"),
    ],
)  # fmt: skip
def test_update_validation_texts(client, ws, ctx, make_issue, body, message):
    issue = make_issue(ctx)
    assert put(client, ws, issue.id, body, status=400)["error"] == message
    issue.refresh_from_db()
    assert issue.revision == 1


def test_parent_cycles_are_refused(client, ws, ctx, make_issue):
    a = make_issue(ctx)
    b = make_issue(ctx, parent_issue_id=str(a.id))
    c = make_issue(ctx, parent_issue_id=str(b.id))
    out = put(client, ws, a.id, {"parent_issue_id": str(c.id)}, status=400)
    assert out["error"] == "circular parent relationship detected"
    out = put(client, ws, a.id, {"parent_issue_id": str(a.id)}, status=400)
    assert out["error"] == "an issue cannot be its own parent"


def test_revision_conflict(client, ws, ctx, make_issue):
    issue = make_issue(ctx)
    put(client, ws, issue.id, {"title": "v2", "expected_revision": 1})
    out = put(client, ws, issue.id, {"title": "v3", "expected_revision": 1}, status=409)
    assert out == {
        "error": "resource changed since it was loaded",
        "code": "revision_conflict",
        "resource_type": "issue",
        "resource_id": str(issue.id),
        "expected_revision": 1,
        "actual_revision": 2,
    }
    issue.refresh_from_db()
    assert issue.title == "v2"


def test_field_base_conflict(client, ws, ctx, make_issue):
    issue = make_issue(ctx, "Original", description="base text")
    put(client, ws, issue.id, {"description": "someone else's edit"})
    out = put(
        client, ws, issue.id, {"description": "mine", "description_base": "base text"}, status=409
    )
    assert out["code"] == "revision_conflict"
    assert out["resource_id"] == str(issue.id)
    out = put(client, ws, issue.id, {"title": "Mine", "title_base": "Stale"}, status=409)
    assert out["error"] == "resource field changed since it was loaded"
    put(client, ws, issue.id, {"title": "Mine", "title_base": "Original"})


def test_update_events_and_activity(client, ws, ctx, make_issue, events):
    issue = make_issue(ctx, "Before", description="old")
    body = {
        "title": "After",
        "description": "new",
        "status": "in_review",
        "priority": "low",
        "assignee_type": "member",
        "assignee_id": str(ws.admin.id),
        "start_date": "2026-02-01",
        "due_date": "2026-02-03",
    }
    with events.commit():
        put(client, ws, issue.id, body)
    updated = events.of("issue:updated")
    assert len(updated) == 1
    payload = updated[0].payload
    assert payload["prev_title"] == "Before"
    assert payload["prev_description"] == "old"
    wire = wire_projection(payload)
    assert "prev_title" not in wire
    assert "prev_description" not in wire
    assert set(wire) == {
        "issue", "assignee_changed", "status_changed", "priority_changed", "project_changed",
        "start_date_changed", "due_date_changed", "description_changed", "title_changed",
        "prev_assignee_type", "prev_assignee_id", "prev_status", "prev_priority",
        "prev_start_date", "prev_due_date", "creator_type", "creator_id",
    }  # fmt: skip
    assert "labels" not in wire["issue"]
    assert wire["status_changed"]
    assert wire["title_changed"]
    assert wire["assignee_changed"]
    assert not wire["project_changed"]
    assert (wire["prev_status"], wire["prev_priority"]) == ("todo", "none")
    assert wire["prev_assignee_type"] is None
    assert wire["prev_start_date"] is None
    entries = [p["entry"] for p in events.payloads("activity:created")]
    assert [(e["action"], e["details"]) for e in entries] == [
        ("status_changed", {"from": "todo", "to": "in_review"}),
        ("priority_changed", {"from": "none", "to": "low"}),
        ("assignee_changed", {"to_type": "member", "to_id": str(ws.admin.id)}),
        ("start_date_changed", {"from": "", "to": "2026-02-01"}),
        ("due_date_changed", {"from": "", "to": "2026-02-03"}),
        ("title_changed", {"from": "Before", "to": "After"}),
        ("description_updated", {}),
    ]
    assert ActivityLog.objects.filter(issue=issue).count() == 8  # with "created"


def test_update_calls_notifications_with_changes(ctx, make_issue, monkeypatch):
    from issues.services import issues as service

    seen = []
    monkeypatch.setattr(
        service, "issue_updated_notify", lambda **kw: seen.append(kw["changes"].prev)
    )
    issue = make_issue(ctx)
    issue_update(ctx=ctx, issue_ref=issue.id, fields={"priority": "high"})
    issue_update(ctx=ctx, issue_ref=issue.id, fields={"priority": "high"})  # no change
    assert seen == [{"priority": "none"}]


def test_assignee_validators_registry(client, ws, ctx, make_issue, monkeypatch):
    from issues.services import issues as service
    from multica_site.errors import ValidationError

    agent_id = uuid.uuid4()

    def validate(ctx, assignee_id):
        if assignee_id != agent_id:
            raise ValidationError("agent not found")

    monkeypatch.setitem(service.ASSIGNEE_VALIDATORS, "agent", validate)
    body = post(client, ws, {"title": "x", "assignee_type": "agent", "assignee_id": str(agent_id)})
    assert body["assignee_type"] == "agent"


# --- move -------------------------------------------------------------------------------------


def test_move_between_anchors(client, ws, ctx, make_issue):
    a, b, c = make_issue(ctx), make_issue(ctx), make_issue(ctx)
    Issue.objects.filter(pk=a.pk).update(position=1.0)
    Issue.objects.filter(pk=b.pk).update(position=2.0)
    Issue.objects.filter(pk=c.pk).update(position=10.0)
    url = f"/api/issues/{c.id}/move"
    body = client.post(url, json={"before_id": str(a.id), "after_id": str(b.id)}, ws=ws.workspace)
    assert body.want(200).json()["position"] == 1.5
    body = client.post(url, json={"before_id": str(b.id), "after_id": None}, ws=ws.workspace)
    assert body.want(200).json()["position"] == 3.0
    body = client.post(url, json={"before_id": None, "after_id": str(a.id)}, ws=ws.workspace)
    assert body.want(200).json()["position"] == 0.0
    body = client.post(
        url, json={"before_id": None, "after_id": None, "status": "done"}, ws=ws.workspace
    )
    assert body.want(200).json()["position"] == 0.0
    assert body.json()["status"] == "done"


@pytest.mark.parametrize(
    ("make_body", "status", "message"),
    [
        (lambda a, b, c: {"before_id": str(b.id), "after_id": str(a.id)}, 409,
         "move anchors are stale or out of order"),
        (lambda a, b, c: {"after_id": None}, 400, "before_id is required"),
        (lambda a, b, c: {"before_id": None}, 400, "after_id is required"),
        (lambda a, b, c: {"before_id": None, "after_id": None, "title": "x"}, 400,
         "unsupported move field: title"),
        (lambda a, b, c: {"before_id": 5, "after_id": None}, 400,
         "before_id must be a UUID or null"),
        (lambda a, b, c: {"before_id": "zz", "after_id": None}, 400, "invalid before_id"),
        (lambda a, b, c: {"before_id": str(c.id), "after_id": None}, 400,
         "before_id cannot be the moved issue"),
        (lambda a, b, c: {"before_id": str(a.id), "after_id": str(a.id)}, 400,
         "move anchors must be distinct"),
        (lambda a, b, c: {"before_id": str(uuid.uuid4()), "after_id": None}, 400,
         "move anchor not found in this workspace"),
        (lambda a, b, c: {"before_id": None, "after_id": None, "expected_revision": 9}, 409,
         "resource changed since it was loaded"),
    ],
)  # fmt: skip
def test_move_errors(client, ws, ctx, make_issue, make_body, status, message):
    a, b, c = make_issue(ctx), make_issue(ctx), make_issue(ctx)
    Issue.objects.filter(pk=a.pk).update(position=1.0)
    Issue.objects.filter(pk=b.pk).update(position=2.0)
    out = client.post(f"/api/issues/{c.id}/move", json=make_body(a, b, c), ws=ws.workspace)
    assert out.want(status).json()["error"] == message
    c.refresh_from_db()
    assert c.revision == 1


# --- delete and batches -------------------------------------------------------------------------


def test_delete(client, ws, ctx, make_issue, events, monkeypatch):
    from issues.services import issues as service

    hooked = []
    monkeypatch.setattr(service, "ISSUE_DELETED_HOOKS", [lambda **kw: hooked.append(kw)])
    parent = make_issue(ctx)
    child = make_issue(ctx, parent_issue_id=str(parent.id))
    with events.commit():
        client.delete(f"/api/issues/ACME-{parent.number}", ws=ws.workspace).want(204)
    assert not Issue.objects.filter(pk=parent.pk).exists()
    child.refresh_from_db()
    assert child.parent_issue_id is None
    assert events.payloads("issue:deleted") == [{"issue_id": str(parent.id)}]
    assert hooked[0]["issue"].pk == parent.pk
    client.delete(f"/api/issues/{parent.id}", ws=ws.workspace).want(404)


def test_batch_update(client, ws, ctx, make_issue, make_project):
    a, b = make_issue(ctx), make_issue(ctx)
    child = make_issue(ctx, parent_issue_id=str(a.id))
    url = "/api/issues/batch-update"
    out = client.post(url, json={"updates": {"status": "done"}}, ws=ws.workspace).want(400).json()
    assert out["error"] == "issue_ids is required"
    ids = [str(a.id), str(b.id), "garbage", str(uuid.uuid4())]
    body = {"issue_ids": ids, "updates": {"status": "done", "priority": "high"}}
    assert client.post(url, json=body, ws=ws.workspace).want(200).json() == {"updated": 2}
    assert set(Issue.objects.filter(pk__in=[a.pk, b.pk]).values_list("status", flat=True)) == {
        "done"
    }
    body = {"issue_ids": [str(a.id)], "updates": {"status": None}}
    assert client.post(url, json=body, ws=ws.workspace).want(200).json() == {"updated": 0}
    body = {"issue_ids": [str(a.id)], "updates": {"status": "nope"}}
    assert (
        client.post(url, json=body, ws=ws.workspace)
        .want(400)
        .json()["error"]
        .startswith('invalid status "nope"')
    )
    body = {"issue_ids": [str(a.id)], "updates": {"project_id": str(uuid.uuid4())}}
    out = client.post(url, json=body, ws=ws.workspace).want(400).json()
    assert out["error"] == "project not found in this workspace"
    # a per-issue failure (a cycle) skips that issue only
    body = {"issue_ids": [str(a.id), str(b.id)], "updates": {"parent_issue_id": str(child.id)}}
    assert client.post(url, json=body, ws=ws.workspace).want(200).json() == {"updated": 1}
    body = {"issue_ids": [str(b.id)], "updates": {"parent_issue_id": None}}
    assert client.post(url, json=body, ws=ws.workspace).want(200).json() == {"updated": 1}


def test_batch_delete(client, ws, ctx, make_issue, events):
    a, b = make_issue(ctx), make_issue(ctx)
    url = "/api/issues/batch-delete"
    assert client.post(url, json={}, ws=ws.workspace).want(400).json() == {
        "error": "issue_ids is required",
        "code": "invalid_request",
    }
    body = {"issue_ids": [str(a.id), str(b.id), str(uuid.uuid4()), "x"]}
    with events.commit():
        assert client.post(url, json=body, ws=ws.workspace).want(200).json() == {"deleted": 2}
    assert sorted(p["issue_id"] for p in events.payloads("issue:deleted")) == sorted(
        [str(a.id), str(b.id)]
    )


# --- labels on issues ---------------------------------------------------------------------------


def test_issue_labels(client, ws, ctx, make_issue, make_label, events):
    issue = make_issue(ctx)
    bug = make_label(ctx, "bug")
    agent_label = make_label(ctx, "agents", resource_type="agent")
    url = f"/api/issues/{issue.id}/labels"
    assert client.get(url, ws=ws.workspace).want(200).json() == {
        "labels": [],
        "issue_revision": 1,
    }
    with events.commit():
        out = client.post(url, json={"label_id": str(bug.id)}, ws=ws.workspace).want(200).json()
    assert [label["id"] for label in out["labels"]] == [str(bug.id)]
    assert out["issue_revision"] == 2
    changed = events.payloads("issue_labels:changed")
    assert changed == [{"issue_id": str(issue.id), "labels": out["labels"], "issue_revision": 2}]
    again = client.post(url, json={"label_id": str(bug.id)}, ws=ws.workspace).want(200).json()
    assert again == {"labels": out["labels"]}  # no change, no revision
    errors = [
        ({}, 400, "label_id is required"),
        ({"label_id": "x"}, 400, "invalid label_id"),
        ({"label_id": str(uuid.uuid4())}, 404, "label not found"),
        ({"label_id": str(agent_label.id)}, 404, "issue label not found"),
    ]
    for body, status, message in errors:
        assert client.post(url, json=body, ws=ws.workspace).want(status).json()["error"] == message
    out = client.delete(f"{url}/{bug.id}", ws=ws.workspace).want(200).json()
    assert out == {"labels": [], "issue_revision": 3}
    assert client.delete(f"{url}/nope", ws=ws.workspace).want(400).json()["error"] == (
        "invalid label id"
    )
    assert not IssueLabel.objects.filter(issue=issue).exists()


# --- reactions --------------------------------------------------------------------------------


def test_issue_reactions(client, api, ws, ctx, make_issue, events):
    issue = make_issue(ctx)
    url = f"/api/issues/{issue.id}/reactions"
    with events.commit():
        out = client.post(url, json={"emoji": "👍"}, ws=ws.workspace).want(201).json()
    assert set(out) == {
        "id", "issue_id", "actor_type", "actor_id", "emoji", "created_at", "issue_revision",
    }  # fmt: skip
    assert (out["actor_type"], out["actor_id"], out["issue_revision"]) == (
        "member",
        str(ws.owner.id),
        2,
    )
    added = events.payloads("issue_reaction:added")[0]
    assert added["reaction"]["id"] == out["id"]
    assert added["issue_revision"] == 2
    again = client.post(url, json={"emoji": "👍"}, ws=ws.workspace).want(201).json()
    assert again["id"] == out["id"]
    assert "issue_revision" not in again
    api.as_user(ws.member).post(url, json={"emoji": "👍"}, ws=ws.workspace).want(201)
    assert IssueReaction.objects.filter(issue=issue).count() == 2
    assert client.post(url, json={}, ws=ws.workspace).want(400).json()["error"] == (
        "emoji is required"
    )
    with events.commit():
        client.delete(url, json={"emoji": "👍"}, ws=ws.workspace).want(204)
    assert events.payloads("issue_reaction:removed") == [
        {
            "issue_id": str(issue.id),
            "emoji": "👍",
            "actor_type": "member",
            "actor_id": str(ws.owner.id),
            "issue_revision": 4,
        }
    ]
    client.delete(url, json={"emoji": "👍"}, ws=ws.workspace).want(204)  # idempotent
    assert IssueReaction.objects.filter(issue=issue).count() == 1


# --- children and progress ----------------------------------------------------------------------


def test_children_and_progress(client, ws, ctx, make_issue, make_label):
    parent, other_parent = make_issue(ctx), make_issue(ctx)
    label = make_label(ctx, "bug")
    c1 = make_issue(ctx, parent_issue_id=str(parent.id), status="done")
    c2 = make_issue(ctx, parent_issue_id=str(parent.id), label_ids=[str(label.id)])
    c3 = make_issue(ctx, parent_issue_id=str(other_parent.id), status="cancelled")
    out = client.get(f"/api/issues/{parent.id}/children", ws=ws.workspace).want(200).json()
    assert [i["id"] for i in out["issues"]] == [str(c1.id), str(c2.id)]  # by number
    assert out["issues"][1]["labels"][0]["id"] == str(label.id)
    out = client.get(
        "/api/issues/children",
        ws=ws.workspace,
        parent_ids=f"{other_parent.id},{parent.id},{uuid.uuid4()}",
    )
    assert {i["id"] for i in out.want(200).json()["issues"]} == {
        str(c1.id), str(c2.id), str(c3.id)
    }  # fmt: skip
    assert client.get("/api/issues/children", ws=ws.workspace).want(200).json() == {"issues": []}
    bad = client.get("/api/issues/children", ws=ws.workspace, parent_ids="x").want(400).json()
    assert bad["error"] == "invalid parent_ids"
    many = ",".join(str(uuid.uuid4()) for _ in range(201))
    bad = client.get("/api/issues/children", ws=ws.workspace, parent_ids=many).want(400).json()
    assert bad["error"] == "too many parent_ids"
    progress = client.get("/api/issues/child-progress", ws=ws.workspace).want(200).json()
    by_parent = {p["parent_issue_id"]: p for p in progress["progress"]}
    assert by_parent[str(parent.id)] == {
        "parent_issue_id": str(parent.id), "total": 2, "done": 1, "visible_total": 2,
        "visible_done": 1, "hidden_total": 0,
    }  # fmt: skip
    assert (by_parent[str(other_parent.id)]["total"], by_parent[str(other_parent.id)]["done"]) == (
        1,
        1,
    )


# --- attachments on issues --------------------------------------------------------------------


def _upload(ctx, name: str = "notes.txt"):
    from django.core.files.base import ContentFile

    from issues.services.attachments import attachment_upload

    return attachment_upload(ctx=ctx, file=ContentFile(b"hello", name=name), filename=name)


def test_create_and_update_link_attachments(client, ws, ctx, other_ctx, events):
    first, second = _upload(ctx), _upload(ctx, "b.txt")
    body = post(client, ws, {"title": "With files", "attachment_ids": [str(first.id)]})
    assert [a["id"] for a in body["attachments"]] == [str(first.id)]
    one = client.get(f"/api/issues/{body['id']}", ws=ws.workspace).want(200).json()
    assert [a["id"] for a in one["attachments"]] == [str(first.id)]
    with events.commit():
        updated = put(client, ws, body["id"], {"attachment_ids": [str(second.id)]})
    assert updated["revision"] == 2  # linking counts as a change of the issue
    assert events.payloads("issue_attachments:changed") == [
        {"issue_id": body["id"], "issue_revision": 2}
    ]
    theirs = _upload(other_ctx)
    out = put(client, ws, body["id"], {"title": "x", "attachment_ids": [str(theirs.id)]}, 400)
    assert out["error"] == "invalid attachment_ids"
    assert Issue.objects.get(pk=body["id"]).title == "With files"  # nothing written
    theirs.refresh_from_db()
    assert theirs.issue_id is None


def test_counter_never_falls_behind_the_numbers_in_use(client, ws, ctx, make_issue):
    make_issue(ctx)
    make_issue(ctx)
    Workspace.objects.filter(pk=ws.workspace.pk).update(issue_counter=0)  # e.g. a stale save
    assert post(client, ws, {"title": "Third"})["number"] == 3


def test_active_duplicate_guard_is_an_index_probe(ws):
    """The guard runs on every create: (workspace, normalized title) must be served by
    ``issue_ws_norm_title`` (the query's expression matches the index's), never a scan of the
    workspace's issues."""
    from django.db import connection

    from issues.models import Issue, normalized_title

    Issue.objects.bulk_create(
        Issue(
            workspace=ws.workspace,
            number=n + 1,
            title=f"Issue number {n}",
            creator_type="member",
            creator_id=ws.owner.id,
            position=float(n),
        )
        for n in range(3000)
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE issue")
    qs = (
        Issue.objects.alias(normalized=normalized_title())
        .filter(workspace_id=ws.workspace.id, normalized="issue number 7")
        .exclude(status__in=["done", "cancelled"])
        .order_by("created_at", "id")[:1]
    )
    assert "issue_ws_norm_title" in qs.explain()
