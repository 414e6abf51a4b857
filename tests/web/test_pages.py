"""The web app's pages through Django's test client: each renders for a member with the data
the selectors return, sends a stranger to the same 404 the API gives, sends a browser without a
session to the login page, and stays within a pinned number of queries whatever the data size."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest
from django.test import Client
from django.utils import timezone

from agents.models import Agent, AgentTask, TaskMessage
from runtimes.models import AgentRuntime
from workspaces.tokens import issue_jwt

pytestmark = pytest.mark.django_db

HTML = {"HTTP_ACCEPT": "text/html"}


def browser(user) -> Client:
    client = Client()
    client.cookies["multica_auth"] = issue_jwt(user)
    return client


@pytest.fixture
def world(ws, api):
    """A workspace with issues (one with a sub-issue, a comment mentioning the agent and a run
    with messages), a runtime, an agent, a skill with a file and an inbox item."""
    owner = api.as_user(ws.owner)
    runtime = AgentRuntime.objects.create(
        workspace=ws.workspace, owner=ws.owner, daemon_id="d1", name="claude (box)",
        provider="claude", status=AgentRuntime.Status.ONLINE, last_seen_at=timezone.now(),
        metadata={"version": "2.1.0", "cli_version": "0.4.2"},
    )  # fmt: skip
    agent = (
        owner.post(
            "/api/agents",
            json={"name": "Builder", "runtime_id": str(runtime.id), "visibility": "workspace"},
            ws=ws.workspace,
        )
        .want(201)
        .json()
    )
    skill = owner.post(
        "/api/skills",
        json={"name": "deploy", "description": "Ship it", "content": "# Deploy\nRun **it**.",
              "files": [{"path": "scripts/run.sh", "content": "echo hi"}]},
        ws=ws.workspace,
    ).want(201).json()  # fmt: skip
    issues = []
    for n in range(3):
        issues.append(
            owner.post(
                "/api/issues", json={"title": f"Issue {n}", "description": "Some *markdown*"},
                ws=ws.workspace,
            ).want(201).json()
        )  # fmt: skip
    parent = issues[0]
    owner.post(
        "/api/issues", json={"title": "Child", "parent_issue_id": parent["id"]}, ws=ws.workspace
    ).want(201)
    owner.post(
        f"/api/issues/{parent['id']}/comments",
        json={"content": f"hello [@Builder](mention://agent/{agent['id']}) <b>x</b>"},
        ws=ws.workspace,
    ).want(201)
    # The mention queued a task; give it messages as a daemon would have.
    task = AgentTask.objects.filter(issue_id=parent["id"]).first() or AgentTask.objects.create(
        workspace=ws.workspace, agent_id=agent["id"], runtime=runtime, issue_id=parent["id"],
        status="queued",
    )  # fmt: skip
    for seq, (kind, extra) in enumerate(
        [("text", {"content": "Working on it"}),
         ("tool_use", {"tool": "bash", "input": {"command": "ls"}}),
         ("tool_result", {"tool": "bash", "output": "README.md"})],
        start=1,
    ):  # fmt: skip
        TaskMessage.objects.create(workspace=ws.workspace, task=task, seq=seq, type=kind, **extra)
    # An inbox item for the member: the owner assigns them an issue.
    owner.put(
        f"/api/issues/{issues[1]['id']}",
        json={"assignee_type": "member", "assignee_id": str(ws.member.id)},
        ws=ws.workspace,
    ).want(200)
    return {"runtime": runtime, "agent": agent, "skill": skill, "issues": issues,
            "parent": parent, "task": task}  # fmt: skip


def pages(ws, world) -> dict[str, str]:
    base = f"/w/{ws.workspace.slug}"
    return {
        "board": f"{base}/",
        "list": f"{base}/list",
        "my-issues": f"{base}/my-issues",
        "issue": f"{base}/issues/{world['parent']['identifier']}",
        "issue-by-id": f"{base}/issues/{world['parent']['id']}",
        "inbox": f"{base}/inbox",
        "agents": f"{base}/agents",
        "agent-new": f"{base}/agents/new",
        "agent": f"{base}/agents/{world['agent']['id']}",
        "runtimes": f"{base}/runtimes",
        "skills": f"{base}/skills",
        "skill": f"{base}/skills/{world['skill']['id']}",
        "usage": f"{base}/usage",
        "members": f"{base}/members",
        "settings": f"{base}/settings",
        "tokens": f"{base}/tokens",
    }


def test_every_page_renders_for_a_member(ws, world):
    client = browser(ws.member)
    for name, path in pages(ws, world).items():
        resp = client.get(path, **HTML)
        assert resp.status_code == 200, (name, resp.status_code, resp.content[:500])
        html = resp.content.decode()
        assert f'data-workspace-id="{ws.workspace.id}"' in html, name
        assert "Skip to content" in html


def test_board_shows_columns_cards_and_filters(ws, world):
    html = browser(ws.owner).get(f"/w/{ws.workspace.slug}/", **HTML).content.decode()
    for status in ("backlog", "todo", "in_progress", "in_review", "done", "blocked", "cancelled"):
        assert f'data-status="{status}"' in html
    for issue in world["issues"]:
        assert f'data-id="{issue["id"]}"' in html
    assert 'name="assignee"' in html
    assert 'name="priority"' in html
    assert 'data-move="up"' in html  # the keyboard alternative to dragging


def test_board_filters_by_priority(ws, world, api):
    api.as_user(ws.owner).put(
        f"/api/issues/{world['issues'][2]['id']}", json={"priority": "urgent"}, ws=ws.workspace
    ).want(200)
    html = browser(ws.owner).get(f"/w/{ws.workspace.slug}/?priority=urgent", **HTML)
    html = html.content.decode()
    assert f'data-id="{world["issues"][2]["id"]}"' in html
    assert f'data-id="{world["issues"][1]["id"]}"' not in html


def test_issue_detail_renders_markdown_safely_with_mentions_and_run(ws, world):
    html = browser(ws.owner).get(pages(ws, world)["issue"], **HTML).content.decode()
    assert "<em>markdown</em>" in html
    assert '<span class="mention" data-mention-type="agent"' in html
    assert "<b>x</b>" not in html
    assert "&lt;b&gt;x&lt;/b&gt;" in html
    assert "Child" in html  # sub-issue
    assert f'data-task-id="{world["task"].id}"' in html
    assert "Working on it" in html
    assert "Tool: bash" in html
    assert "README.md" in html
    assert "Builder" in html
    assert "(agent)" in html


def test_my_issues_lists_only_mine(ws, world):
    html = browser(ws.member).get(f"/w/{ws.workspace.slug}/my-issues", **HTML).content.decode()
    assert "Issue 1" in html
    assert "Issue 0" not in html


def test_inbox_shows_the_assignment_and_the_badge(ws, world):
    html = browser(ws.member).get(f"/w/{ws.workspace.slug}/inbox", **HTML).content.decode()
    assert "issue_assigned" in html
    assert 'data-unread-count aria-label="1 unread"' in html


def test_agent_env_editing_offered_only_to_those_allowed(ws, world):
    path = pages(ws, world)["agent"]
    for user in (ws.owner, ws.admin):
        assert "data-env-reveal" in browser(user).get(path, **HTML).content.decode()
    member_html = browser(ws.member).get(path, **HTML).content.decode()
    assert "Builder" in member_html
    assert "data-env-reveal" not in member_html
    assert "<fieldset disabled>" in member_html  # the form is read-only for non-managers


def test_runtime_page_shows_health_provider_version(ws, world):
    html = browser(ws.member).get(f"/w/{ws.workspace.slug}/runtimes", **HTML).content.decode()
    assert "health-online" in html
    assert "claude" in html
    assert "0.4.2" in html
    assert "<dd>2.1.0</dd>" in html
    assert f'data-api="PATCH /api/runtimes/{world["runtime"].id}"' not in html  # not the owner
    owner_html = browser(ws.owner).get(f"/w/{ws.workspace.slug}/runtimes", **HTML)
    assert f'data-api="PATCH /api/runtimes/{world["runtime"].id}"' in owner_html.content.decode()
    assert f"/api/runtimes/{world['runtime'].id}/usage" in html


def test_skill_detail_lists_files(ws, world):
    html = browser(ws.member).get(pages(ws, world)["skill"], **HTML).content.decode()
    assert "scripts/run.sh" in html
    assert "<strong>it</strong>" in html
    assert f'data-api="PUT /api/skills/{world["skill"]["id"]}"' in html


def test_non_member_gets_404_like_the_api(ws, other_ws, world):
    client = browser(other_ws.owner)
    for name, path in pages(ws, world).items():
        resp = client.get(path, **HTML)
        assert resp.status_code == 404, name
        assert str(world["parent"]["id"]) not in resp.content.decode()
        json_resp = client.get(path)
        assert json_resp.status_code == 404
        assert json_resp.json() == {"error": "workspace not found", "code": "workspace_not_found"}


def test_own_workspace_cannot_name_foreign_objects(ws, other_ws, world):
    client = browser(other_ws.owner)
    base = f"/w/{other_ws.workspace.slug}"
    for path in (
        f"{base}/issues/{world['parent']['id']}",
        f"{base}/agents/{world['agent']['id']}",
        f"{base}/skills/{world['skill']['id']}",
    ):
        assert client.get(path, **HTML).status_code == 404, path


def test_no_session_redirects_to_login():
    resp = Client().get("/w/acme/inbox", **HTML)
    assert resp.status_code == 302
    assert resp["Location"] == "/login?next=%2Fw%2Facme%2Finbox"


def test_home_onboarding_and_redirect(make_user, ws):
    newcomer = make_user("new@example.com", name="New")
    html = browser(newcomer).get("/", **HTML).content.decode()
    assert 'data-api="POST /api/workspaces"' in html
    resp = browser(ws.member).get("/", **HTML)
    assert resp.status_code == 302
    assert resp["Location"] == f"/w/{ws.workspace.slug}/"


# Queries per page, pinned: the same at two data sizes (no per-row queries).
QUERY_BUDGET = {
    "board": 15, "list": 12, "my-issues": 11, "issue": 27, "issue-by-id": 27, "inbox": 4,
    "agents": 7, "agent-new": 6, "agent": 12, "runtimes": 8, "skills": 4, "skill": 5,
    "usage": 7, "members": 5, "settings": 5, "tokens": 4,
}  # fmt: skip


def grow(ws, world, api) -> None:
    owner = api.as_user(ws.owner)
    for n in range(6):
        issue = (
            owner.post(
                "/api/issues", json={"title": f"More {n}", "priority": "high"}, ws=ws.workspace
            )
            .want(201)
            .json()
        )
        owner.post(
            f"/api/issues/{world['parent']['id']}/comments", json={"content": f"c{n}"},
            ws=ws.workspace,
        ).want(201)  # fmt: skip
        owner.post("/api/issues", json={"title": f"Sub {n}", "parent_issue_id": issue["id"]},
                   ws=ws.workspace).want(201)  # fmt: skip
        owner.post("/api/skills", json={"name": f"skill-{n}"}, ws=ws.workspace).want(201)
        Agent.objects.create(workspace=ws.workspace, runtime=world["runtime"], owner=ws.owner,
                             name=f"agent-{n}")  # fmt: skip
        AgentRuntime.objects.create(workspace=ws.workspace, owner=ws.owner, daemon_id=f"x{n}",
                                    name=f"codex ({n})", provider="codex")  # fmt: skip


@pytest.mark.parametrize("size", ["small", "large"])
def test_query_budget_per_page(ws, world, api, size, django_assert_num_queries):
    if size == "large":
        grow(ws, world, api)
    client = browser(ws.owner)
    for name, path in pages(ws, world).items():
        with django_assert_num_queries(QUERY_BUDGET[name], info=name):
            assert client.get(path, **HTML).status_code == 200, name


class _Controls(HTMLParser):
    """Form controls of a page and what labels them (for=, a wrapping label, aria-label)."""

    def __init__(self) -> None:
        super().__init__()
        self.controls: list[dict[str, str]] = []
        self.label_for: set[str] = set()
        self.open_labels = 0
        self.ids: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if "id" in a:
            self.ids.append(a["id"])
        if tag == "label":
            self.open_labels += 1
            if a.get("for"):
                self.label_for.add(a["for"])
        elif tag in ("input", "select", "textarea") and a.get("type") != "hidden":
            self.controls.append({**a, "_wrapped": "1" if self.open_labels else ""})

    def handle_endtag(self, tag: str) -> None:
        if tag == "label":
            self.open_labels -= 1


def test_every_form_control_is_labelled_and_ids_are_unique(ws, world):
    from collections import Counter

    for name, path in pages(ws, world).items():
        parser = _Controls()
        parser.feed(browser(ws.owner).get(path, **HTML).content.decode())
        assert parser.controls, f"{name}: no controls found (the workspace switcher at least)"
        for control in parser.controls:
            labelled = (
                control["_wrapped"]
                or control.get("aria-label")
                or control.get("id", "") in parser.label_for
            )
            assert labelled, f"{name}: unlabelled control {control}"
        duplicates = [i for i, n in Counter(parser.ids).items() if n > 1]
        assert not duplicates, f"{name}: duplicate ids {duplicates}"


def test_list_pages_through_issues_keeping_filters(ws, api):
    owner = api.as_user(ws.owner)
    for n in range(55):
        owner.post(
            "/api/issues", json={"title": f"Bulk {n}", "priority": "low"}, ws=ws.workspace
        ).want(201)
    owner.post("/api/issues", json={"title": "Odd one", "priority": "high"}, ws=ws.workspace)
    client = browser(ws.owner)
    html = client.get(f"/w/{ws.workspace.slug}/list?priority=low", **HTML).content.decode()
    assert "1–50 of 55" in html
    assert 'href="?priority=low&amp;offset=50" rel="next"' in html
    assert "Odd one" not in html
    html = client.get(f"/w/{ws.workspace.slug}/list?priority=low&offset=50", **HTML)
    html = html.content.decode()
    assert "51–55 of 55" in html
    assert 'rel="prev"' in html
    assert 'rel="next"' not in html
