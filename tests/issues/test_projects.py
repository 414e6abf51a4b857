"""``/api/projects`` (spec §4): shapes, Multica's validation sentences, issue counts in one
query, search ranking, lead checks, events, roles and tenant isolation."""

from __future__ import annotations

import re
import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from issues.models import Issue, IssueStatus, Project
from issues.selectors_catalog import project_list
from issues.services import projects as project_services
from multica_site.events import Event, add_sink, remove_sink
from workspaces.context import Actor, WorkspaceContext
from workspaces.models import Member

pytestmark = pytest.mark.django_db

PROJECT_KEYS = {
    "id", "workspace_id", "title", "description", "icon", "status", "priority", "lead_type",
    "lead_id", "start_date", "due_date", "created_at", "updated_at", "issue_count", "done_count",
    "resource_count",
}  # fmt: skip
TIME_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
STATUS_ERROR = (
    'invalid status "active"; valid values: planned, in_progress, paused, completed, cancelled'
)
PRIORITY_ERROR = 'invalid priority "p1"; valid values: urgent, high, medium, low, none'


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


def ctx_for(ws, user) -> WorkspaceContext:
    member = Member.objects.get(workspace=ws.workspace, user=user)
    return WorkspaceContext(
        workspace=ws.workspace, user=user, member=member, actor=Actor("member", str(user.id))
    )


_numbers = iter(range(1, 1_000_000))


def make_issue(workspace, creator, **extra) -> Issue:
    n = next(_numbers)
    return Issue.objects.create(
        workspace=workspace,
        number=n,
        title=f"Issue {n}",
        creator_type="member",
        creator_id=creator.id,
        **extra,
    )


def create_project(api, ws, **body):
    body.setdefault("title", "Launch")
    return api.post("/api/projects", json=body, ws=ws.workspace)


def err(resp) -> tuple[int, str]:
    return resp.status, resp.json()["error"]


# --- create -----------------------------------------------------------------------------------


def test_create_defaults_and_shape(owner_api, ws, events, commit):
    with commit():
        body = create_project(owner_api, ws, title="Launch").want(201).json()
    assert set(body) == PROJECT_KEYS
    assert body["title"] == "Launch"
    assert body["workspace_id"] == str(ws.workspace.id)
    assert (body["status"], body["priority"]) == ("planned", "none")
    assert body["description"] is None
    assert body["icon"] is None
    assert body["lead_type"] is None
    assert body["lead_id"] is None
    assert body["start_date"] is None
    assert body["due_date"] is None
    assert (body["issue_count"], body["done_count"], body["resource_count"]) == (0, 0, 0)
    assert TIME_RE.match(body["created_at"])
    assert [(e.type, e.payload) for e in events] == [("project:created", {"project": body})]


def test_create_with_every_field(owner_api, ws):
    body = (
        create_project(
            owner_api,
            ws,
            title="Q3",
            description="Ship it",
            icon="🚀",
            status="in_progress",
            priority="high",
            lead_type="member",
            lead_id=str(ws.member.id),
            start_date="2026-07-01",
            due_date="2026-09-30",
        )
        .want(201)
        .json()
    )
    assert body["description"] == "Ship it"
    assert body["icon"] == "🚀"
    assert (body["status"], body["priority"]) == ("in_progress", "high")
    assert (body["lead_type"], body["lead_id"]) == ("member", str(ws.member.id))
    assert (body["start_date"], body["due_date"]) == ("2026-07-01", "2026-09-30")


def test_create_strips_nul_bytes(owner_api, ws):
    body = create_project(owner_api, ws, title="a\x00b", description="c\x00d").want(201).json()
    assert (body["title"], body["description"]) == ("ab", "cd")


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"title": ""}, "title is required"),
        ({"title": "   "}, "title is required"),
        ({"title": None}, "title is required"),
        ({"title": "x" * 256}, "title must be 255 characters or fewer"),
        ({"status": "active"}, STATUS_ERROR),
        ({"priority": "p1"}, PRIORITY_ERROR),
        ({"start_date": "2026/01/01"}, "invalid start_date format, expected YYYY-MM-DD"),
        ({"due_date": "2026-02-30"}, "invalid due_date format, expected YYYY-MM-DD"),
        ({"lead_type": "member", "lead_id": "nope"}, "invalid lead_id"),
        ({"lead_type": "member"}, "lead_type and lead_id must be provided together"),
        ({"lead_id": str(uuid.uuid4())}, "lead_type and lead_id must be provided together"),
        ({"lead_type": "robot", "lead_id": str(uuid.uuid4())}, "invalid lead_type"),
        ({"lead_type": "member", "lead_id": str(uuid.uuid4())}, "member not found"),
        ({"lead_type": "agent", "lead_id": str(uuid.uuid4())}, "agent not found"),
        ({"icon": "x" * 65}, "icon must be 64 characters or fewer"),
        ({"resources": [{"resource_type": "github_repo"}]}, "project resources are not supported"),
        ({"title": 7}, "invalid request body"),
        ({"description": ["x"]}, "invalid request body"),
    ],
)
def test_create_validation_errors(owner_api, ws, body, message):
    resp = create_project(owner_api, ws, **body)
    assert err(resp) == (400, message)
    assert not Project.objects.filter(workspace=ws.workspace).exists()


def test_lead_from_another_workspace_is_refused(owner_api, ws, other_ws):
    resp = create_project(owner_api, ws, lead_type="member", lead_id=str(other_ws.owner.id))
    assert err(resp) == (400, "member not found")
    assert not Project.objects.exists()


def test_registered_agent_lead_validator_is_used(owner_api, ws, monkeypatch):
    seen = []
    monkeypatch.setitem(
        project_services.LEAD_VALIDATORS, "agent", lambda ctx, lead_id: seen.append(lead_id)
    )
    agent_id = uuid.uuid4()
    body = create_project(owner_api, ws, lead_type="agent", lead_id=str(agent_id)).want(201).json()
    assert (body["lead_type"], body["lead_id"]) == ("agent", str(agent_id))
    assert seen == [agent_id]


def test_empty_resources_list_is_accepted(owner_api, ws):
    create_project(owner_api, ws, resources=[]).want(201)


# --- list and counts --------------------------------------------------------------------------


def test_list_newest_first_with_filters(owner_api, ws):
    a = create_project(owner_api, ws, title="A", status="paused", priority="high").json()
    b = create_project(owner_api, ws, title="B").json()
    body = owner_api.get("/api/projects", ws=ws.workspace).want(200).json()
    assert set(body) == {"projects", "total"}
    assert [p["id"] for p in body["projects"]] == [b["id"], a["id"]]
    assert body["total"] == 2
    assert all(set(p) == PROJECT_KEYS for p in body["projects"])
    paused = owner_api.get("/api/projects", ws=ws.workspace, status="paused").json()
    assert [p["id"] for p in paused["projects"]] == [a["id"]]
    high = owner_api.get("/api/projects", ws=ws.workspace, priority="high").json()
    assert [p["id"] for p in high["projects"]] == [a["id"]]
    none = owner_api.get("/api/projects", ws=ws.workspace, status="paused", priority="low").json()
    assert none == {"projects": [], "total": 0}


def test_issue_and_done_counts_use_status_categories(owner_api, ws):
    project = create_project(owner_api, ws).json()
    other = create_project(owner_api, ws, title="Other").json()
    IssueStatus.objects.create(
        workspace=ws.workspace, key="shipped", name="Shipped", category="done", color="#000000"
    )
    IssueStatus.objects.create(
        workspace=ws.workspace, key="qa", name="QA", category="in_review", color="#000000"
    )
    for status in ("todo", "in_progress", "done", "cancelled", "shipped", "qa", "backlog"):
        make_issue(ws.workspace, ws.owner, project_id=project["id"], status=status)
    make_issue(ws.workspace, ws.owner, project_id=other["id"], status="done")
    make_issue(ws.workspace, ws.owner, status="done")  # no project

    body = owner_api.get(f"/api/projects/{project['id']}", ws=ws.workspace).want(200).json()
    assert (body["issue_count"], body["done_count"]) == (7, 3)
    listed = {
        p["id"]: p for p in owner_api.get("/api/projects", ws=ws.workspace).json()["projects"]
    }
    assert (listed[project["id"]]["issue_count"], listed[project["id"]]["done_count"]) == (7, 3)
    assert (listed[other["id"]]["issue_count"], listed[other["id"]]["done_count"]) == (1, 1)


def test_custom_status_of_another_workspace_does_not_count(owner_api, ws, other_ws):
    IssueStatus.objects.create(
        workspace=other_ws.workspace, key="shipped", name="S", category="done", color="#000000"
    )
    project = create_project(owner_api, ws).json()
    make_issue(ws.workspace, ws.owner, project_id=project["id"], status="shipped")
    body = owner_api.get(f"/api/projects/{project['id']}", ws=ws.workspace).json()
    assert (body["issue_count"], body["done_count"]) == (1, 0)


def test_list_counts_take_one_query_at_1_and_20_rows(owner_api, ws):
    ctx = ctx_for(ws, ws.owner)
    request_counts = {}
    for total in (1, 20):
        Issue.objects.filter(workspace=ws.workspace).delete()
        Project.objects.filter(workspace=ws.workspace).delete()
        for i in range(total):
            project = Project.objects.create(workspace=ws.workspace, title=f"P{i}")
            make_issue(ws.workspace, ws.owner, project=project, status="done")
            make_issue(ws.workspace, ws.owner, project=project, status="todo")
        with CaptureQueriesContext(connection) as selector_queries:
            rows = list(project_list(ctx=ctx))
        assert len(selector_queries) == 1
        assert {(r.issue_count, r.done_count) for r in rows} == {(2, 1)}
        with CaptureQueriesContext(connection) as request_queries:
            body = owner_api.get("/api/projects", ws=ws.workspace).want(200).json()
        assert body["total"] == total
        request_counts[total] = len(request_queries)
    assert request_counts[1] == request_counts[20], request_counts


# --- get / update -----------------------------------------------------------------------------


def test_get_unknown_is_404(owner_api, ws):
    resp = owner_api.get(f"/api/projects/{uuid.uuid4()}", ws=ws.workspace)
    assert err(resp) == (404, "project not found")
    assert resp.json()["code"] == "project_not_found"


def test_update_applies_present_keys_and_clears_nulls(owner_api, ws, events, commit):
    project = create_project(
        owner_api,
        ws,
        description="d",
        icon="i",
        lead_type="member",
        lead_id=str(ws.owner.id),
        start_date="2026-01-01",
        due_date="2026-02-01",
    ).json()
    make_issue(ws.workspace, ws.owner, project_id=project["id"], status="done")
    path = f"/api/projects/{project['id']}"

    with commit():
        body = (
            owner_api.put(path, json={"status": "completed", "title": None}, ws=ws.workspace)
            .want(200)
            .json()
        )
    assert (body["title"], body["status"], body["description"]) == ("Launch", "completed", "d")
    assert (body["issue_count"], body["done_count"]) == (1, 1)
    assert [(e.type, e.payload) for e in events] == [("project:updated", {"project": body})]

    body = (
        owner_api.put(
            path,
            json={
                "description": None,
                "icon": None,
                "lead_type": None,
                "lead_id": None,
                "start_date": None,
                "due_date": "",
                "priority": "urgent",
            },
            ws=ws.workspace,
        )
        .want(200)
        .json()
    )
    assert body["description"] is None
    assert body["icon"] is None
    assert (body["lead_type"], body["lead_id"]) == (None, None)
    assert (body["start_date"], body["due_date"]) == (None, None)
    assert (body["priority"], body["status"]) == ("urgent", "completed")

    body = owner_api.put(path, json={"title": "  Renamed "}, ws=ws.workspace).want(200).json()
    assert body["title"] == "Renamed"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"title": ""}, "title is required"),
        ({"status": "active"}, STATUS_ERROR),
        ({"priority": "p1"}, PRIORITY_ERROR),
        ({"start_date": "tomorrow"}, "invalid start_date format, expected YYYY-MM-DD"),
        ({"lead_type": "member"}, "lead_type and lead_id must be provided together"),
        ({"lead_type": "member", "lead_id": str(uuid.uuid4())}, "member not found"),
        ({"lead_type": "agent", "lead_id": str(uuid.uuid4())}, "agent not found"),
        ({"lead_id": "x"}, "invalid lead_id"),
    ],
)
def test_update_validation(owner_api, ws, body, message):
    project = create_project(owner_api, ws).json()
    resp = owner_api.put(f"/api/projects/{project['id']}", json=body, ws=ws.workspace)
    assert err(resp) == (400, message)
    row = Project.objects.get(pk=project["id"])
    assert (row.title, row.status, row.lead_type) == ("Launch", "planned", None)


def test_update_lead_to_member_of_another_workspace_is_refused(owner_api, ws, other_ws):
    project = create_project(owner_api, ws).json()
    resp = owner_api.put(
        f"/api/projects/{project['id']}",
        json={"lead_type": "member", "lead_id": str(other_ws.owner.id)},
        ws=ws.workspace,
    )
    assert err(resp) == (400, "member not found")
    assert Project.objects.get(pk=project["id"]).lead_id is None


# --- delete -----------------------------------------------------------------------------------


def test_delete_requires_owner_or_admin(api, ws):
    project = create_project(api.as_user(ws.owner), ws).json()
    resp = api.as_user(ws.member).delete(f"/api/projects/{project['id']}", ws=ws.workspace)
    assert err(resp) == (403, "insufficient permissions")
    assert Project.objects.filter(pk=project["id"]).exists()
    api.as_user(ws.admin).delete(f"/api/projects/{project['id']}", ws=ws.workspace).want(204)


def test_delete_unfiles_issues_and_publishes(owner_api, ws, events, commit):
    project = create_project(owner_api, ws).json()
    issue = make_issue(ws.workspace, ws.owner, project_id=project["id"])
    with commit():
        resp = owner_api.delete(f"/api/projects/{project['id']}", ws=ws.workspace).want(204)
    assert resp.body == b""
    assert not Project.objects.filter(pk=project["id"]).exists()
    issue.refresh_from_db()
    assert issue.project_id is None
    assert [(e.type, e.payload) for e in events] == [
        ("project:deleted", {"project_id": project["id"]})
    ]
    resp = owner_api.delete(f"/api/projects/{project['id']}", ws=ws.workspace)
    assert err(resp) == (404, "project not found")


# --- search -----------------------------------------------------------------------------------


def search(api, ws, **params):
    return api.get("/api/projects/search", ws=ws.workspace, **params)


def test_search_requires_q(owner_api, ws):
    assert err(search(owner_api, ws)) == (400, "q parameter is required")
    assert err(search(owner_api, ws, q="  ")) == (400, "q parameter is required")


def test_search_ranks_title_hits_before_description_hits(owner_api, ws):
    titles = {}
    for title, description in [
        ("About the roadmap", None),
        ("Roadmap", None),
        ("Misc", "see the roadmap doc for details"),
        ("Roadmap 2027", None),
        ("Unrelated", "nothing here"),
    ]:
        titles[title] = create_project(owner_api, ws, title=title, description=description).json()
    resp = search(owner_api, ws, q="roadmap").want(200)
    body = resp.json()
    assert [p["title"] for p in body["projects"]] == [
        "Roadmap",
        "Roadmap 2027",
        "About the roadmap",
        "Misc",
    ]
    assert body["total"] == 4
    assert resp.headers["X-Total-Count"] == "4"
    first, last = body["projects"][0], body["projects"][-1]
    assert set(first) == PROJECT_KEYS | {"match_source"}
    assert first["match_source"] == "title"
    assert last["match_source"] == "description"
    assert last["matched_snippet"] == "see the roadmap doc for details"


def test_search_multi_word_and_closed_projects(owner_api, ws):
    create_project(owner_api, ws, title="Billing revamp", status="in_progress")
    create_project(owner_api, ws, title="Revamp of billing emails", status="completed")
    create_project(owner_api, ws, title="Billing", description="a revamp", status="cancelled")
    open_only = search(owner_api, ws, q="revamp billing").json()
    assert [p["title"] for p in open_only["projects"]] == ["Billing revamp"]
    everything = search(owner_api, ws, q="revamp billing", include_closed="true").json()
    # Both titles hold every word (same rank: the newer first); the cancelled project sinks.
    assert [p["title"] for p in everything["projects"]] == [
        "Revamp of billing emails",
        "Billing revamp",
        "Billing",
    ]
    assert everything["projects"][2]["match_source"] == "description"


def test_search_exact_title_of_cancelled_project_is_not_demoted(owner_api, ws):
    create_project(owner_api, ws, title="Infra", status="cancelled")
    create_project(owner_api, ws, title="Infra work")
    body = search(owner_api, ws, q="infra", include_closed="true").json()
    assert [p["title"] for p in body["projects"]] == ["Infra", "Infra work"]


def test_search_paging(owner_api, ws):
    for i in range(5):
        create_project(owner_api, ws, title=f"Alpha {i}")
    page = search(owner_api, ws, q="alpha", limit="2", offset="2").json()
    assert len(page["projects"]) == 2
    assert page["total"] == 5
    assert len(search(owner_api, ws, q="alpha", limit="junk").json()["projects"]) == 5
    assert search(owner_api, ws, q="alpha", offset="99").json() == {"projects": [], "total": 0}


def test_search_treats_like_wildcards_literally(owner_api, ws):
    create_project(owner_api, ws, title="100% done")
    create_project(owner_api, ws, title="1000 done")
    body = search(owner_api, ws, q="100%").json()
    assert [p["title"] for p in body["projects"]] == ["100% done"]


def test_search_snippet_is_windowed(owner_api, ws):
    description = "x" * 100 + " needle " + "y" * 200
    create_project(owner_api, ws, title="Hay", description=description)
    body = search(owner_api, ws, q="needle").json()
    snippet = body["projects"][0]["matched_snippet"]
    assert snippet.startswith("...")
    assert snippet.endswith("...")
    assert "needle" in snippet
    assert len(snippet) == 3 + 40 + len("needle") + 80 + 3


# --- tenant isolation -------------------------------------------------------------------------


def test_foreign_project_is_not_found_and_untouched(api, ws, other_ws, events, commit):
    victim = create_project(api.as_user(ws.owner), ws, title="Secret plan").json()
    events.clear()
    intruder = api.as_user(other_ws.owner)
    path = f"/api/projects/{victim['id']}"
    with commit():
        for resp in (
            intruder.get(path, ws=other_ws.workspace),
            intruder.put(path, json={"title": "pwned"}, ws=other_ws.workspace),
            intruder.delete(path, ws=other_ws.workspace),
        ):
            assert err(resp) == (404, "project not found")
    assert Project.objects.get(pk=victim["id"]).title == "Secret plan"
    assert events == []
    assert intruder.get("/api/projects", ws=other_ws.workspace).json() == {
        "projects": [],
        "total": 0,
    }
    assert search(intruder, other_ws, q="secret").json() == {"projects": [], "total": 0}


def test_counts_ignore_issues_of_other_workspaces(owner_api, ws, other_ws):
    project = create_project(owner_api, ws).json()
    # A row that breaks the same-workspace invariant must still not be counted.
    make_issue(other_ws.workspace, other_ws.owner, project_id=project["id"], status="done")
    body = owner_api.get(f"/api/projects/{project['id']}", ws=ws.workspace).json()
    assert (body["issue_count"], body["done_count"]) == (0, 0)


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


def test_admin_lists_projects_with_counts_and_checks_the_lead(
    staff_client, owner_api, ws, other_ws
):
    project = create_project(owner_api, ws, title="Roadmap").json()
    make_issue(ws.workspace, ws.owner, project_id=project["id"], status="done")
    resp = staff_client.get("/admin/issues/project/")
    assert resp.status_code == 200
    assert b"Roadmap" in resp.content

    change = f"/admin/issues/project/{project['id']}/change/"
    form = {
        "title": "Roadmap", "description": "", "icon": "", "status": "planned",
        "priority": "none", "lead_type": "member", "lead_id": str(other_ws.owner.id),
        "start_date": "", "due_date": "",
    }  # fmt: skip
    resp = staff_client.post(change, form)
    assert b"member not found" in resp.content
    assert Project.objects.get(pk=project["id"]).lead_id is None
    resp = staff_client.post(change, {**form, "lead_id": str(ws.member.id)})
    assert resp.status_code == 302
    assert Project.objects.get(pk=project["id"]).lead_id == ws.member.id
