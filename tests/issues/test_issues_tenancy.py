"""Tenant isolation of the issue area: another workspace's issue, parent, project, label, status
or anchor — in the path or in a body — is 404 or 400, and nothing is written anywhere."""

from __future__ import annotations

import pytest
from django.db import connection

from issues.models import Issue, IssueStatus
from issues.services.statuses import status_create
from tests.issues.issue_fixtures import *  # noqa: F403

pytestmark = pytest.mark.django_db


def snapshot() -> dict[str, str]:
    sums = {}
    with connection.cursor() as cur:
        for table in ("issue", "issue_to_label", "issue_reaction", "activity_log", "issue_status",
                      "workspace"):  # fmt: skip
            cur.execute(
                f"SELECT md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) "  # noqa: S608
                f'FROM "{table}" t'
            )
            sums[table] = cur.fetchone()[0]
    return sums


@pytest.fixture
def foreign(other_ctx, make_issue, make_label, make_project):
    project = make_project(other_ctx, "Theirs")
    label = make_label(other_ctx, "theirs")
    issue = make_issue(other_ctx, "Their issue", project_id=str(project.id))
    status = status_create(ctx=other_ctx, name="Their QA", category="in_review", color="#111111")
    return {"issue": issue, "project": project, "label": label, "status": status}


@pytest.fixture
def mine(ctx, make_issue):
    return make_issue(ctx, "Mine")


def test_foreign_issue_in_the_path_is_404(api, ws, foreign, mine):
    client = api.as_user(ws.owner)
    theirs = foreign["issue"]
    before = snapshot()
    calls = [
        ("get", f"/api/issues/{theirs.id}", None),
        ("get", f"/api/issues/GLO-{theirs.number}", None),
        ("put", f"/api/issues/{theirs.id}", {"title": "pwned"}),
        ("delete", f"/api/issues/{theirs.id}", None),
        ("post", f"/api/issues/{theirs.id}/move", {"before_id": None, "after_id": None}),
        ("get", f"/api/issues/{theirs.id}/children", None),
        ("get", f"/api/issues/{theirs.id}/labels", None),
        ("post", f"/api/issues/{theirs.id}/labels", {"label_id": str(foreign["label"].id)}),
        ("delete", f"/api/issues/{theirs.id}/labels/{foreign['label'].id}", None),
        ("post", f"/api/issues/{theirs.id}/reactions", {"emoji": "x"}),
        ("delete", f"/api/issues/{theirs.id}/reactions", {"emoji": "x"}),
        ("patch", f"/api/issue-statuses/{foreign['status'].id}", {"name": "pwned"}),
        ("delete", f"/api/issue-statuses/{foreign['status'].id}", None),
    ]
    for method, path, body in calls:
        kwargs = {"json": body} if body is not None else {}
        getattr(client, method)(path, ws=ws.workspace, **kwargs).want(404)
    assert snapshot() == before


def test_foreign_ids_in_bodies_are_refused(api, ws, foreign, mine):
    client = api.as_user(ws.owner)
    theirs = foreign["issue"]
    before = snapshot()
    creates = [
        ({"parent_issue_id": str(theirs.id)}, "parent issue not found in this workspace"),
        ({"project_id": str(foreign["project"].id)}, "project not found in this workspace"),
        ({"label_ids": [str(foreign["label"].id)]},
         "one or more labels not found in this workspace"),
        ({"status": foreign["status"].key}, f'invalid status "{foreign["status"].key}"'),
        ({"assignee_type": "member", "assignee_id": str(foreign["issue"].creator_id)},
         "assignee_id does not refer to a member of this workspace"),
    ]  # fmt: skip
    for extra, message in creates:
        out = client.post("/api/issues", json={"title": "x", **extra}, ws=ws.workspace)
        assert out.want(400).json()["error"].startswith(message)
    updates = [
        {"parent_issue_id": str(theirs.id)},
        {"project_id": str(foreign["project"].id)},
        {"status": foreign["status"].key},
        {"assignee_type": "member", "assignee_id": str(foreign["issue"].creator_id)},
    ]
    for body in updates:
        client.put(f"/api/issues/{mine.id}", json=body, ws=ws.workspace).want(400)
    client.post(
        f"/api/issues/{mine.id}/move",
        json={"before_id": str(theirs.id), "after_id": None},
        ws=ws.workspace,
    ).want(400)
    client.post(
        f"/api/issues/{mine.id}/move",
        json={"before_id": None, "after_id": None, "project_id": str(foreign["project"].id)},
        ws=ws.workspace,
    ).want(400)
    out = client.post(
        f"/api/issues/{mine.id}/labels", json={"label_id": str(foreign["label"].id)},
        ws=ws.workspace,
    )  # fmt: skip
    assert out.want(404).json()["error"] == "label not found"
    client.delete(f"/api/issues/{mine.id}/labels/{foreign['label'].id}", ws=ws.workspace).want(404)
    batch = {"issue_ids": [str(theirs.id)], "updates": {"title": "pwned"}}
    assert client.post("/api/issues/batch-update", json=batch, ws=ws.workspace).want(
        200
    ).json() == {"updated": 0}
    assert client.post(
        "/api/issues/batch-delete", json={"issue_ids": [str(theirs.id)]}, ws=ws.workspace
    ).want(200).json() == {"deleted": 0}
    reorder = {"category": "in_review", "ids": [str(foreign["status"].id)]}
    client.patch("/api/issue-statuses/reorder", json=reorder, ws=ws.workspace).want(404)
    assert snapshot() == before


def test_reads_never_include_another_workspace(api, ws, foreign, mine):
    client = api.as_user(ws.owner)
    theirs = foreign["issue"]
    body = client.get("/api/issues", ws=ws.workspace).want(200).json()
    assert [i["id"] for i in body["issues"]] == [str(mine.id)]
    assert body["total"] == 1
    body = client.get("/api/issues", ws=ws.workspace, ids=str(theirs.id)).want(200).json()
    assert body == {"issues": [], "total": 0}
    body = client.get("/api/issues/search", ws=ws.workspace, q="issue").want(200).json()
    assert [i["id"] for i in body["issues"]] == []
    children = client.get("/api/issues/children", ws=ws.workspace, parent_ids=str(theirs.id))
    assert children.want(200).json() == {"issues": []}
    progress = client.get("/api/issues/child-progress", ws=ws.workspace).want(200).json()
    assert progress == {"progress": []}
    catalog = client.get("/api/issue-statuses", ws=ws.workspace, include_archived="true")
    assert foreign["status"].key not in [s["key"] for s in catalog.want(200).json()["statuses"]]
    assert Issue.objects.filter(workspace=ws.workspace).count() == 1
    assert IssueStatus.objects.filter(workspace=ws.workspace).count() == 7


def test_non_member_gets_workspace_not_found(api, ws, other_ws, mine):
    out = api.as_user(other_ws.owner).get(f"/api/issues/{mine.id}", ws=ws.workspace)
    assert out.want(404).json()["error"] == "workspace not found"
