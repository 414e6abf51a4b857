"""The status catalog (spec §3.2): reading and self-seeding, owner/admin writes with Multica's
validation texts, archive and reorder rules, and ``issue_status:changed`` events."""

from __future__ import annotations

import uuid

import pytest

from issues.models import IssueStatus
from tests.issues.issue_fixtures import *  # noqa: F403

pytestmark = pytest.mark.django_db

URL = "/api/issue-statuses"
BUILTINS = ["backlog", "todo", "in_progress", "in_review", "done", "blocked", "cancelled"]
STATUS_FIELDS = {
    "id", "workspace_id", "key", "name", "description", "category", "color", "is_system",
    "position", "archived_at", "created_at", "updated_at",
}  # fmt: skip


@pytest.fixture
def admin(api, ws):
    return api.as_user(ws.admin)


def create(client, ws, body, status=201):
    return client.post(URL, json=body, ws=ws.workspace).want(status).json()


def test_catalog_shape(api, ws):
    body = api.as_user(ws.member).get(URL, ws=ws.workspace).want(200).json()
    assert body["categories"] == BUILTINS
    assert body["total"] == 7
    assert [s["key"] for s in body["statuses"]] == BUILTINS
    first = body["statuses"][0]
    assert set(first) == STATUS_FIELDS
    assert (first["name"], first["category"], first["color"], first["is_system"]) == (
        "Backlog",
        "backlog",
        "#6b7280",
        True,
    )
    assert first["archived_at"] is None
    colors = {s["key"]: s["color"] for s in body["statuses"]}
    assert colors == {
        "backlog": "#6b7280", "todo": "#6b7280", "in_progress": "#f59e0b",
        "in_review": "#22c55e", "done": "#3b82f6", "blocked": "#ef4444", "cancelled": "#6b7280",
    }  # fmt: skip


def test_catalog_self_seeds(api, ws):
    IssueStatus.objects.filter(workspace=ws.workspace).delete()
    body = api.as_user(ws.member).get(URL, ws=ws.workspace).want(200).json()
    assert body["total"] == 7
    assert IssueStatus.objects.filter(workspace=ws.workspace).count() == 7


def test_create_custom_status(admin, ws, events):
    with events.commit():
        body = create(
            admin,
            ws,
            {"name": "  Human Review! ", "category": "in_review", "color": "AABBCC",
             "description": "waits"},
        )  # fmt: skip
    assert body["key"] == "human_review"
    assert (body["name"], body["color"], body["is_system"], body["position"]) == (
        "Human Review!",
        "#aabbcc",
        False,
        1.0,
    )
    assert events.payloads("issue_status:changed") == [{"action": "created"}]
    catalog = admin.get(URL, ws=ws.workspace).want(200).json()
    keys = [s["key"] for s in catalog["statuses"]]
    assert keys.index("human_review") == keys.index("in_review") + 1  # within its category
    second = create(admin, ws, {"key": "qa", "name": "QA", "category": "in_review",
                                "color": "#000000"})  # fmt: skip
    assert second["position"] == 2.0


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        ({"name": "", "category": "todo", "color": "#000000"}, 400,
         "name must be 1-64 characters"),
        ({"name": "x" * 65, "category": "todo", "color": "#000000"}, 400,
         "name must be 1-64 characters"),
        ({"name": "x", "category": "todo", "color": "#000000", "description": "d" * 257}, 400,
         "description must be at most 256 characters"),
        ({"name": "x", "category": "started", "color": "#000000"}, 400,
         "category must be one of: backlog, todo, in_progress, in_review, done, blocked, "
         "cancelled"),
        ({"name": "x", "category": "todo", "color": "red"}, 400,
         "color must be a 6-digit hex value like #3b82f6"),
        ({"name": "x", "key": "Bad Key", "category": "todo", "color": "#000000"}, 400,
         "status key must be 1-32 characters of lowercase letters, digits or underscore, "
         "starting with a letter or digit"),
        ({"name": "x", "key": "todo", "category": "todo", "color": "#000000"}, 400,
         '"todo" is a built-in status key and cannot be reused'),
        ({"name": "!!!", "category": "todo", "color": "#000000"}, 400,
         "cannot derive a status key from that name; provide one explicitly"),
        ({"name": "Done", "category": "done", "color": "#000000"}, 400,
         '"done" is a built-in status key and cannot be reused'),
        ({"name": 5, "category": "todo", "color": "#000000"}, 400, "invalid request body"),
    ],
)  # fmt: skip
def test_create_validation_texts(admin, ws, body, status, message):
    assert create(admin, ws, body, status=status)["error"] == message
    assert IssueStatus.objects.filter(workspace=ws.workspace).count() == 7


def test_create_conflicts(admin, ws):
    create(admin, ws, {"name": "QA", "category": "in_review", "color": "#000000"})
    out = create(admin, ws, {"name": "qa", "key": "qa2", "category": "todo", "color": "#000000"},
                 status=409)  # fmt: skip
    assert out["error"] == "a status with this key or name already exists"
    out = create(admin, ws, {"name": "Other", "key": "qa", "category": "todo",
                             "color": "#000000"}, status=409)  # fmt: skip
    assert out["error"] == "a status with this key or name already exists"


def test_writes_need_owner_or_admin(api, ws):
    member = api.as_user(ws.member)
    body = {"name": "QA", "category": "in_review", "color": "#000000"}
    out = member.post(URL, json=body, ws=ws.workspace).want(403).json()
    assert out["error"] == "insufficient permissions"
    status = create(api.as_user(ws.owner), ws, body)
    member.patch(f"{URL}/{status['id']}", json={"name": "x"}, ws=ws.workspace).want(403)
    member.delete(f"{URL}/{status['id']}", ws=ws.workspace).want(403)
    member.patch(f"{URL}/reorder", json={"category": "in_review", "ids": [status["id"]]},
                 ws=ws.workspace).want(403)  # fmt: skip


def test_update_custom_status(admin, ws, events):
    status = create(admin, ws, {"name": "QA", "category": "in_review", "color": "#000000"})
    url = f"{URL}/{status['id']}"
    with events.commit():
        body = admin.patch(
            url, json={"name": "Quality", "color": "#FFFFFF", "position": 7.5, "description": None},
            ws=ws.workspace,
        ).want(200).json()  # fmt: skip
    assert (body["name"], body["color"], body["position"], body["key"]) == (
        "Quality",
        "#ffffff",
        7.5,
        "qa",
    )
    assert events.payloads("issue_status:changed")[-1] == {"action": "updated"}
    errors = [
        ({"name": ""}, 400, "name must be 1-64 characters"),
        ({"description": "d" * 300}, 400, "description must be at most 256 characters"),
        ({"color": "#12345"}, 400, "color must be a 6-digit hex value like #3b82f6"),
        ({"name": "todo"}, 409, "a status with this name already exists"),
    ]
    for patch, code, message in errors:
        assert admin.patch(url, json=patch, ws=ws.workspace).want(code).json()["error"] == message


def test_builtins_are_immutable(admin, ws):
    todo = IssueStatus.objects.get(workspace=ws.workspace, key="todo")
    out = admin.patch(f"{URL}/{todo.id}", json={"name": "To do"}, ws=ws.workspace).want(403)
    assert out.json()["error"] == "built-in statuses cannot be modified"
    out = admin.delete(f"{URL}/{todo.id}", ws=ws.workspace).want(403)
    assert out.json()["error"] == "built-in statuses cannot be archived"


def test_archive(admin, ws, events):
    status = create(admin, ws, {"name": "QA", "category": "in_review", "color": "#000000"})
    url = f"{URL}/{status['id']}"
    with events.commit():
        body = admin.delete(url, ws=ws.workspace).want(200).json()
    assert body["archived_at"] is not None
    assert events.payloads("issue_status:changed")[-1] == {"action": "archived"}
    assert (
        admin.delete(url, ws=ws.workspace).want(200).json()["archived_at"] == (body["archived_at"])
    )  # idempotent
    out = admin.patch(url, json={"name": "x"}, ws=ws.workspace).want(409).json()
    assert out["error"] == "archived statuses cannot be modified"
    active = admin.get(URL, ws=ws.workspace).want(200).json()
    assert "qa" not in [s["key"] for s in active["statuses"]]
    every = admin.get(URL, ws=ws.workspace, include_archived="true").want(200).json()
    assert "qa" in [s["key"] for s in every["statuses"]]
    assert every["total"] == 8


def test_unknown_status_ids(admin, ws, other_ws, api):
    admin.patch(f"{URL}/nope", json={}, ws=ws.workspace).want(400)
    out = admin.patch(f"{URL}/{uuid.uuid4()}", json={}, ws=ws.workspace).want(404).json()
    assert out["error"] == "issue status not found"
    foreign = IssueStatus.objects.filter(workspace=other_ws.workspace).first()
    admin.patch(f"{URL}/{foreign.id}", json={"name": "x"}, ws=ws.workspace).want(404)
    admin.delete(f"{URL}/{foreign.id}", ws=ws.workspace).want(404)
    foreign.refresh_from_db()
    assert foreign.name != "x"
    assert foreign.archived_at is None


def test_reorder(admin, ws, events):
    a = create(admin, ws, {"name": "A", "category": "todo", "color": "#000000"})
    b = create(admin, ws, {"name": "B", "category": "todo", "color": "#000000"})
    c = create(admin, ws, {"name": "C", "category": "todo", "color": "#000000"})
    other = create(admin, ws, {"name": "O", "category": "done", "color": "#000000"})
    url = f"{URL}/reorder"
    with events.commit():
        body = admin.patch(url, json={"category": "todo", "ids": [c["id"], a["id"], b["id"]]},
                           ws=ws.workspace).want(200).json()  # fmt: skip
    keys = [s["key"] for s in body["statuses"]]
    assert keys[keys.index("todo") : keys.index("todo") + 4] == ["todo", "c", "a", "b"]
    assert body["total"] == 11
    assert body["categories"][0] == "backlog"
    assert events.payloads("issue_status:changed")[-1] == {"action": "reordered"}
    todo = IssueStatus.objects.get(workspace=ws.workspace, key="todo")
    errors = [
        ({"category": "x", "ids": [a["id"]]}, 400,
         "category must be one of: backlog, todo, in_progress, in_review, done, blocked, "
         "cancelled"),
        ({"category": "todo", "ids": []}, 400, "ids must not be empty"),
        ({"category": "todo", "ids": [a["id"], a["id"]]}, 400, "duplicate ids"),
        ({"category": "todo", "ids": ["nope"]}, 400, "invalid issue status id"),
        ({"category": "todo", "ids": [str(uuid.uuid4())]}, 404, "issue status not found"),
        ({"category": "todo", "ids": [str(todo.id)]}, 403,
         "built-in statuses cannot be reordered"),
        ({"category": "todo", "ids": [other["id"], a["id"], b["id"], c["id"]]}, 400,
         "ids must all belong to the requested category"),
        ({"category": "todo", "ids": [a["id"], b["id"]]}, 409,
         "ids must name every active custom status in the category"),
    ]  # fmt: skip
    for patch, code, message in errors:
        assert admin.patch(url, json=patch, ws=ws.workspace).want(code).json()["error"] == message
    admin.delete(f"{URL}/{b['id']}", ws=ws.workspace).want(200)
    out = admin.patch(url, json={"category": "todo", "ids": [a["id"], b["id"], c["id"]]},
                      ws=ws.workspace).want(409).json()  # fmt: skip
    assert out["error"] == "archived statuses cannot be reordered"
    admin.patch(url, json={"category": "todo", "ids": [a["id"], c["id"]]}, ws=ws.workspace).want(
        200
    )
