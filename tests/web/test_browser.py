"""The web app in a real browser (Debian Chromium, headless, driven by Playwright) against a real
server process on the test database.

The scenario: log in by password, create a workspace, invite a second member who logs in by
e-mail code and accepts, create issues, drag one across two columns and reload (order kept)
while the second member's board follows live, connect a runtime and create an agent, assign the
issue to it, watch the run stream in (text, tool calls collapsed, progress), see the agent's
result comment and status change and the tokens on the usage page. The agent side speaks the
daemon protocol over HTTP as the daemon does (daemon token for claim/start/messages/usage/
complete, the claimed task token for the agent's own comment and status change).

Every page is screenshotted at 1280 px and at phone width into ``.multica/test/screenshots/``.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from workspaces.models import User

pytestmark = [
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
    pytest.mark.filterwarnings("ignore::DeprecationWarning"),
]

PASSWORD = "correct horse battery staple"
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
TIMEOUT = 20_000


def shot(page, screenshots, name: str) -> None:
    page.screenshot(path=str(screenshots / f"{name}.png"), full_page=True)


def login_with_password(page, server, email: str) -> None:
    page.goto(f"{server.url}/login")
    page.fill("#pw-email", email)
    page.fill("#pw-password", PASSWORD)
    page.click("#password-form button[type=submit]")


def login_with_code(page, server, email: str) -> None:
    page.goto(f"{server.url}/login")
    page.fill("#code-email", email)
    page.click("#code-submit")
    page.wait_for_selector("#code-value", state="visible")
    page.fill("#code-value", "888888")
    page.click("#code-submit")


def column(page, status: str):
    return page.locator(f"#board .column-list[data-status='{status}']")


def card(page, identifier: str):
    return page.locator(f"#board .issue-card[data-identifier='{identifier}']")


def order_in(page, status: str) -> list[str]:
    return (
        column(page, status)
        .locator(".issue-card")
        .evaluate_all("cards => cards.map(c => c.dataset.identifier)")
    )


def drag(page, source, target, *, position: str = "bottom") -> None:
    """Drag with the mouse as a person would (SortableJS runs in pointer fallback mode)."""
    page.wait_for_load_state("networkidle")
    page.wait_for_function("() => !window.multica.busy()")  # no refresh replacing the cards
    target.scroll_into_view_if_needed()
    s = source.bounding_box()
    t = target.bounding_box()
    assert s is not None
    assert t is not None
    x, y0 = s["x"] + s["width"] - 12, s["y"] + s["height"] / 2
    page.mouse.move(x, y0)
    page.mouse.down()
    page.mouse.move(x - 8, y0 + 8, steps=4)
    tx = t["x"] + t["width"] / 2
    if position == "top":  # over the target's middle, then its top edge
        page.mouse.move(tx, t["y"] + t["height"] / 2, steps=15)
        page.wait_for_timeout(200)
        page.mouse.move(tx, t["y"] + 4, steps=10)
    else:
        page.mouse.move(tx, t["y"] + t["height"] - 6, steps=25)
    page.wait_for_timeout(250)
    page.mouse.up()


def drag_and_persist(page, source, target, *, position: str = "bottom") -> None:
    """Drag, then wait until the move API has answered (success expected) and the board has
    been re-rendered from the server after the move's event."""
    before = page.evaluate("window.multica.stats.refreshes")
    with page.expect_response(
        lambda r: r.url.endswith("/move") and r.request.method == "POST"
    ) as moved:
        drag(page, source, target, position=position)
    assert moved.value.ok, moved.value.text()
    page.wait_for_function(
        f"() => window.multica.stats.refreshes > {before} && !window.multica.busy()"
    )


def wait_moved(page, identifier: str, status: str) -> None:
    column(page, status).locator(f"[data-identifier='{identifier}']").wait_for(timeout=TIMEOUT)


class Daemon:
    """The daemon's side of the protocol, over HTTP with a daemon token."""

    def __init__(self, server, token: str, daemon_id: str) -> None:
        self.http = httpx.Client(
            base_url=server.url, headers={"Authorization": f"Bearer {token}"}, timeout=15
        )
        self.daemon_id = daemon_id

    def post(self, path: str, body: dict) -> dict:
        resp = self.http.post(path, json=body)
        assert resp.status_code < 300, (path, resp.status_code, resp.text)
        return resp.json() if resp.content else {}


def test_board_run_and_usage_end_to_end(web_server, chromium, screenshots):
    server = web_server
    alice = User.objects.create_user("alice@example.com", name="Alice")
    alice.set_password(PASSWORD)
    alice.save()

    ctx_a = chromium.new_context(viewport=DESKTOP)
    ctx_a.set_default_timeout(TIMEOUT)
    page = ctx_a.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))

    # 1. Password login; no workspace yet: onboarding creates one.
    login_with_password(page, server, "alice@example.com")
    page.wait_for_selector("#create-workspace")
    shot(page, screenshots, "onboarding")
    page.fill("#ws-name", "Admin")
    page.click("#create-workspace button[type=submit]")
    error = page.locator("#create-workspace [role=alert]")
    error.wait_for()
    assert "slug" in error.inner_text()  # the API's refusal, shown by the form
    page.fill("#ws-name", "Rocket Lab")
    assert page.input_value("#ws-slug") == "rocket-lab"
    page.click("#create-workspace button[type=submit]")
    page.wait_for_url(re.compile(r"/w/rocket-lab/$"))
    page.wait_for_selector("[data-live-status][data-state=open]")
    base = f"{server.url}/w/rocket-lab"

    # 2. Invite Bob; Bob signs in by e-mail code and accepts.
    page.goto(f"{base}/members")
    page.fill("#inv-email", "bob@example.com")
    page.click("form[data-api$='/members'] button[type=submit]")
    page.locator("#member-list").get_by_text("bob@example.com").wait_for()
    ctx_b = chromium.new_context(viewport=DESKTOP)
    ctx_b.set_default_timeout(TIMEOUT)
    bob_page = ctx_b.new_page()
    login_with_code(bob_page, server, "bob@example.com")
    bob_page.get_by_role("button", name="Accept").click()
    bob_page.wait_for_url(re.compile(r"/w/rocket-lab/$"))
    bob_page.wait_for_selector("[data-live-status][data-state=open]")

    # 3. Quick-create two issues: each appears at the top of Todo, on both boards.
    page.goto(f"{base}/")
    page.wait_for_selector("[data-live-status][data-state=open]")
    for title in ("Alpha", "Beta"):
        page.fill("#quick-title", title)
        page.click(".quick-create button[type=submit]")
        page.locator("#board .issue-card", has_text=title).wait_for()
    assert order_in(page, "todo") == ["ROCK-2", "ROCK-1"]
    bob_page.locator("#board .issue-card", has_text="Beta").wait_for()

    # 4. Drag Alpha across two columns, then Beta below it; reload: the order is kept.
    drag_and_persist(page, card(page, "ROCK-1"), column(page, "in_progress"))
    wait_moved(page, "ROCK-1", "in_progress")
    wait_moved(bob_page, "ROCK-1", "in_progress")  # Bob's board follows without a reload
    drag_and_persist(page, card(page, "ROCK-1"), column(page, "in_review"))
    wait_moved(page, "ROCK-1", "in_review")
    drag_and_persist(page, card(page, "ROCK-2"), column(page, "in_review"), position="bottom")
    wait_moved(page, "ROCK-2", "in_review")
    page.reload()
    assert order_in(page, "in_review") == ["ROCK-1", "ROCK-2"]
    wait_moved(bob_page, "ROCK-2", "in_review")
    bob_page.wait_for_function(
        "() => [...document.querySelectorAll(\"#board [data-status='in_review'] .issue-card\")]"
        ".map(c => c.dataset.identifier).join() === 'ROCK-1,ROCK-2'"
    )
    # ... and Beta dragged above Alpha.
    drag_and_persist(page, card(page, "ROCK-2"), card(page, "ROCK-1"), position="top")
    page.wait_for_function(
        "() => [...document.querySelectorAll(\"#board [data-status='in_review'] .issue-card\")]"
        ".map(c => c.dataset.identifier).join() === 'ROCK-2,ROCK-1'"
    )
    page.reload()
    assert order_in(page, "in_review") == ["ROCK-2", "ROCK-1"]
    shot(page, screenshots, "board")
    shot(bob_page, screenshots, "board-second-member")

    # Bob's socket drops; what happens meanwhile shows up once it reconnects (resync).
    bob_page.evaluate("window.multicaRealtime.stop()")
    page.fill("#quick-title", "Gamma")
    page.click(".quick-create button[type=submit]")
    page.locator("#board .issue-card", has_text="Gamma").wait_for()
    page.wait_for_timeout(500)
    assert bob_page.locator("#board .issue-card", has_text="Gamma").count() == 0
    bob_page.evaluate("window.multicaRealtime.start()")
    bob_page.locator("#board .issue-card", has_text="Gamma").wait_for()

    # 5. A runtime connects (daemon token, register + heartbeat); Alice creates an agent on it.
    api = httpx.Client(base_url=server.url, timeout=15)
    from workspaces.tokens import issue_jwt

    alice_auth = {"Authorization": f"Bearer {issue_jwt(alice)}", "X-Workspace-Slug": "rocket-lab"}
    workspace_id = page.evaluate("document.body.dataset.workspaceId")
    created = api.post(
        "/api/daemon-tokens", json={"daemon_id": "laptop-1", "name": "laptop"}, headers=alice_auth
    )
    assert created.status_code == 201, created.text
    daemon = Daemon(server, created.json()["token"], "laptop-1")
    registered = daemon.post("/api/daemon/register", {
        "workspace_id": workspace_id, "daemon_id": "laptop-1", "device_name": "laptop",
        "cli_version": "0.4.2", "launched_by": "", "legacy_daemon_ids": [],
        "runtimes": [{"name": "Claude (laptop)", "type": "claude", "version": "2.1.0",
                      "status": "online"}],
    })  # fmt: skip
    runtime_id = registered["runtimes"][0]["id"]
    daemon.post("/api/daemon/heartbeat", {"runtime_id": runtime_id})

    page.goto(f"{base}/runtimes")
    page.locator("#runtime-list .health-online").wait_for()
    page.locator("#runtime-list summary", has_text="Edit").click()
    page.fill(f"#rt-name-{runtime_id}", "Alice's laptop")
    page.click(f"form[data-api='PATCH /api/runtimes/{runtime_id}'] button[type=submit]")
    page.locator("#runtime-list h2", has_text="Alice's laptop").wait_for()

    page.goto(f"{base}/agents/new")
    page.fill("#ag-name", "Robo")
    page.select_option("#ag-runtime", runtime_id)
    page.fill("#ag-instr", "Fix what you are given.")
    page.check("input[name=permission_mode][value=public_to]")
    page.check("input[name=invocation_targets][data-target-type=workspace]")
    page.click(".agent-form button[type=submit]")
    page.wait_for_url(re.compile(r"/agents/[0-9a-f-]{36}$"))
    page.get_by_role("heading", name="Robo").wait_for()
    agent_url = page.url

    # A skill, created from the skills page and bound to the agent.
    page.goto(f"{base}/skills")
    page.fill("#sk-name", "deploy")
    page.fill("#sk-desc", "Ship to production")
    page.fill("#sk-content", "# Deploy\nRun `make deploy`.")
    page.click("form[data-api='POST /api/skills'] button[type=submit]")
    page.wait_for_url(re.compile(r"/skills/[0-9a-f-]{36}$"))
    page.locator(".markdown code", has_text="make deploy").wait_for()
    shot(page, screenshots, "skill-detail")
    page.goto(agent_url)
    page.check("#agent-skills input[name=skill_ids]")
    page.click("#agent-skills button[type=submit]")
    page.locator("#agent-status", has_text="1 skill(s)").wait_for()
    shot(page, screenshots, "agent-detail")

    # 6. Assign ROCK-1 to the agent from the issue page: a run is queued.
    page.goto(f"{base}/issues/ROCK-1")
    page.wait_for_selector("[data-live-status][data-state=open]")
    robo = page.locator("#prop-assignee option", has_text="Robo (agent)").get_attribute("value")
    page.select_option("#prop-assignee", robo)
    page.locator("#run-panel [data-run-status]", has_text="queued").wait_for()

    # 7. The daemon claims and runs it; messages stream into the panel as they arrive.
    claimed = daemon.post("/api/daemon/tasks/claim", {
        "daemon_id": "laptop-1", "runtime_ids": [runtime_id], "max_tasks": 1,
    })["tasks"]  # fmt: skip
    assert len(claimed) == 1
    task = claimed[0]
    task_id, agent_token = task["id"], task["auth_token"]
    assert agent_token.startswith("mat_")
    daemon.post(f"/api/daemon/tasks/{task_id}/start", {})
    page.locator("#run-panel [data-run-status]", has_text="running").wait_for()
    daemon.post(f"/api/daemon/tasks/{task_id}/progress",
                {"summary": "Launching claude", "step": 1, "total": 2})  # fmt: skip
    page.locator("[data-run-progress]", has_text="Launching claude (1/2)").wait_for()
    daemon.post(f"/api/daemon/tasks/{task_id}/messages", {"messages": [
        {"seq": 1, "type": "thinking", "content": "Reading the issue first."},
        {"seq": 2, "type": "text", "content": "I will list the files."},
    ]})  # fmt: skip
    page.locator("[data-run-messages] .msg-text", has_text="I will list the files.").wait_for()
    daemon.post(f"/api/daemon/tasks/{task_id}/messages", {"messages": [
        {"seq": 3, "type": "tool_use", "tool": "Bash", "input": {"command": "ls -la"}},
        {"seq": 4, "type": "tool_result", "tool": "Bash", "output": "README.md\nsrc"},
    ]})  # fmt: skip
    tool = page.locator("[data-run-messages] .msg-tool_use details")
    tool.wait_for()
    assert tool.get_attribute("open") is None  # collapsed until opened
    tool.locator("summary").click()
    assert "ls -la" in tool.locator("pre").inner_text()
    assert page.locator("[data-run-messages] .msg").count() == 4
    shot(page, screenshots, "issue-run-live")

    # The agent (task token) comments its result and moves the issue; then usage + complete.
    agent_api = {"Authorization": f"Bearer {agent_token}"}
    resp = api.post(f"/api/issues/{task['issue_id']}/comments", headers=agent_api,
                    json={"content": "Shipped: **all tests pass**."})  # fmt: skip
    assert resp.status_code == 201, resp.text
    resp = api.put(f"/api/issues/{task['issue_id']}", headers=agent_api, json={"status": "done"})
    assert resp.status_code == 200, resp.text
    daemon.post(f"/api/daemon/tasks/{task_id}/usage", {"usage": [
        {"provider": "claude", "model": "claude-sonnet-4", "input_tokens": 1200,
         "output_tokens": 345, "cache_read_tokens": 50, "cache_write_tokens": 5},
    ]})  # fmt: skip
    daemon.post(f"/api/daemon/tasks/{task_id}/progress",
                {"summary": "Finishing task", "step": 2, "total": 2})  # fmt: skip
    daemon.post(f"/api/daemon/tasks/{task_id}/complete", {"output": "All tests pass."})
    page.locator("#timeline .comment-agent", has_text="Shipped: all tests pass.").wait_for()
    page.locator("#timeline .comment-agent strong", has_text="all tests pass").wait_for()
    page.locator("#run-panel [data-run-status]", has_text="completed").wait_for()
    page.wait_for_function("document.querySelector('#prop-status').value === 'done'")
    shot(page, screenshots, "issue-run-completed")

    # Rerun queues a fresh run; cancelling it ends it.
    page.get_by_role("button", name="Rerun").click()
    page.locator("#run-panel [data-run-status]", has_text="queued").wait_for()
    page.get_by_role("button", name="Cancel run").click()
    page.locator("#run-panel [data-run-status]", has_text="cancelled").wait_for()

    # 8. The tokens show on the usage page once the hourly rollup has run (the periodic job,
    # run here as it would be after its 5-minute safety lag).
    from datetime import timedelta

    from django.utils import timezone

    from usage.services.rollup import rollup_tick

    assert rollup_tick(now=timezone.now() + timedelta(minutes=10)) is not None
    page.goto(f"{base}/usage")
    chart = page.locator("figure[data-group=agent]")
    chart.locator("td", has_text="Robo").wait_for()
    assert chart.locator("td[data-tokens]").first.get_attribute("data-tokens") == "1600"
    daily = page.locator("figure[data-group=date] td[data-tokens]")
    assert daily.first.get_attribute("data-tokens") == "1600"
    model = page.locator("figure[data-group=model]")
    model.locator("td", has_text="claude-sonnet-4").wait_for()
    assert page.locator("[data-total=all] strong").inner_text() == "1,600"
    shot(page, screenshots, "usage")

    # 9. The member's inbox badge counts live: Alice @-mentions Bob on the issue.
    page.goto(f"{base}/issues/ROCK-2")
    page.wait_for_selector("[data-live-status][data-state=open]")
    box = page.locator("#comment-body")
    box.click()
    box.type("Please review @bo")
    page.locator("#mention-list [role=option]", has_text="bob").first.wait_for()
    box.press("Enter")
    assert "(mention://member/" in box.input_value()
    page.click(".comment-form button[type=submit]")
    page.locator("#timeline .mention").first.wait_for()
    bob_page.locator("#nav-inbox [data-unread-count]").wait_for()  # live, no reload

    # Labels and projects: made on the settings page, set on an issue, used as board filters.
    page.goto(f"{base}/settings")
    page.fill("#label-name", "bug")
    page.click("form[data-api='POST /api/labels'] button[type=submit]")
    page.locator("#labels .label", has_text="bug").wait_for()
    page.fill("#project-title", "Launch")
    page.click("form[data-api='POST /api/projects'] button[type=submit]")
    page.locator("#projects li", has_text="Launch").wait_for()
    page.goto(f"{base}/issues/ROCK-2")
    page.select_option("#add-label", label="bug")
    page.click("form[data-api$='/labels'] button[type=submit]")
    page.locator("[data-issue-labels] .label", has_text="bug").wait_for()
    page.select_option("#prop-project", label="Launch")
    page.wait_for_function(
        "document.querySelector('#prop-project').selectedOptions[0].text === 'Launch'"
        " && !window.multica.busy()"
    )
    page.goto(f"{base}/")
    page.select_option(".filters select[name=label_id]", label="bug")
    page.click(".filters button[type=submit]")
    page.wait_for_url(re.compile(r"label_id="))
    assert page.locator("#board .issue-card").evaluate_all(
        "cards => cards.map(c => c.dataset.identifier)"
    ) == ["ROCK-2"]
    page.goto(f"{base}/")
    page.select_option(".filters select[name=project_id]", label="Launch")
    page.click(".filters button[type=submit]")
    page.wait_for_url(re.compile(r"project_id="))
    assert page.locator("#board .issue-card").count() == 1

    # A personal access token is shown once, then listed by its prefix.
    page.goto(f"{base}/tokens")
    page.fill("#tok-name", "laptop CLI")
    page.click("form[data-api='POST /api/tokens'] button[type=submit]")
    raw = page.locator("[data-new-token] code")
    raw.wait_for()
    assert raw.inner_text().startswith("mul_")
    page.locator("#token-list td", has_text="laptop CLI").wait_for()

    # 10. Screenshots of every page at desktop and phone width.
    agent_href = page.evaluate(
        "fetch('/api/agents', {headers: {'X-Workspace-Slug': 'rocket-lab'}})"
        ".then(r => r.json()).then(a => a[0].id)"
    )
    pages = {
        "board": "/", "list": "/list", "my-issues": "/my-issues", "issue": "/issues/ROCK-1",
        "inbox": "/inbox", "agents": "/agents", "agent-new": "/agents/new",
        "agent": f"/agents/{agent_href}", "runtimes": "/runtimes", "skills": "/skills",
        "usage": "/usage", "members": "/members", "settings": "/settings", "tokens": "/tokens",
    }  # fmt: skip
    phone = chromium.new_context(viewport=PHONE, storage_state=ctx_a.storage_state())
    phone_page = phone.new_page()
    for name, path in pages.items():
        for label, target in (("desktop", page), ("phone", phone_page)):
            target.goto(f"{base}{path}")
            target.wait_for_load_state("networkidle")
            shot(target, screenshots, f"{name}-{label}")
            width = target.evaluate("document.documentElement.scrollWidth")
            viewport = target.viewport_size["width"]
            assert width <= viewport + 1, f"{name} overflows at {label} width ({width}px)"
    # At phone width the navigation folds behind a menu button.
    phone_page.goto(f"{base}/")
    assert not phone_page.locator("#sidebar").is_visible()
    phone_page.get_by_role("button", name="Menu").click()
    phone_page.locator("#sidebar a", has_text="Inbox").click()
    phone_page.wait_for_url(re.compile(r"/inbox$"))

    # Settings: renaming the workspace shows in the switcher.
    page.goto(f"{base}/settings")
    page.fill("#ws-name", "Rocket Lab HQ")
    page.click("form[data-api^='PATCH'] button[type=submit]")
    page.locator("#workspace-switcher option", has_text="Rocket Lab HQ").wait_for(state="attached")

    # Bob is removed from the workspace: his open page leaves it at once.
    page.goto(f"{base}/members")
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("row", name=re.compile("bob@example.com")).get_by_role(
        "button", name="Remove"
    ).click()
    bob_page.wait_for_url(f"{server.url}/")
    bob_page.locator("#create-workspace").wait_for()

    # The workspace switcher offers a new workspace.
    page.goto(f"{base}/")
    page.select_option("#workspace-switcher", "")
    page.wait_for_url(re.compile(r"/\?new$"))
    page.locator("#create-workspace").wait_for()
    assert page.locator("a", has_text="Rocket Lab HQ").count() == 1
    assert not errors, errors
    for context in (phone, ctx_b, ctx_a):
        context.close()


def test_a_refused_move_rolls_back(web_server, chromium, screenshots):
    """Optimistic drag: the card moves at once; if the server refuses, the board returns to the
    server's order and says why."""
    from workspaces.services.workspaces import workspace_create

    carol = User.objects.create_user("carol@example.com", name="Carol")
    carol.set_password(PASSWORD)
    carol.save()
    workspace_create(user=carol, name="Moon", slug="moon")
    context = chromium.new_context(viewport=DESKTOP)
    context.set_default_timeout(TIMEOUT)
    page = context.new_page()
    login_with_password(page, web_server, "carol@example.com")
    page.wait_for_url(re.compile(r"/w/moon/$"))
    page.fill("#quick-title", "Fragile")
    page.click(".quick-create button[type=submit]")
    page.locator("#board .issue-card", has_text="Fragile").wait_for()
    page.route(
        "**/api/issues/*/move",
        lambda route: route.fulfill(
            status=409, content_type="application/json",
            body='{"error":"move anchors are stale or out of order","code":"conflict"}',
        ),
    )  # fmt: skip
    drag(page, card(page, "MOON-1"), column(page, "done"))
    page.locator("[data-toast]", has_text="move anchors are stale").wait_for()
    wait_moved(page, "MOON-1", "todo")
    shot(page, screenshots, "board-move-refused")

    # The keyboard alternative moves it for real.
    page.unroute("**/api/issues/*/move")
    page.select_option("#board .issue-card[data-identifier='MOON-1'] [data-move-status]", "done")
    page.wait_for_timeout(300)
    page.reload()
    wait_moved(page, "MOON-1", "done")

    # Keyboard only: a second card goes to Done (top) through its menu, then ↓ below the first;
    # focus stays on the button through the live re-render, and the order survives a reload.
    page.fill("#quick-title", "Sturdy")
    page.press("#quick-title", "Enter")
    page.locator("#board .issue-card", has_text="Sturdy").wait_for()
    page.wait_for_function("() => !window.multica.busy()")
    page.select_option("#board .issue-card[data-identifier='MOON-2'] [data-move-status]", "done")
    page.wait_for_function(
        "() => [...document.querySelectorAll(\"#board [data-status='done'] .issue-card\")]"
        ".map(c => c.dataset.identifier).join() === 'MOON-2,MOON-1'"
    )
    page.wait_for_timeout(300)
    page.wait_for_function("() => !window.multica.busy()")
    down = page.locator("#board .issue-card[data-identifier='MOON-2'] [data-move=down]")
    down.focus()
    with page.expect_response(lambda r: r.url.endswith("/move")) as moved:
        page.keyboard.press("Enter")
    assert moved.value.ok
    page.wait_for_timeout(300)
    page.wait_for_function("() => !window.multica.busy()")
    assert order_in(page, "done") == ["MOON-1", "MOON-2"]
    assert page.evaluate("document.activeElement.dataset.move") == "down"
    page.reload()
    assert order_in(page, "done") == ["MOON-1", "MOON-2"]

    # `multica login`: a signed-in browser hands a session token to the CLI's loopback callback.
    handed: list[str] = []

    def callback(route):
        handed.append(route.request.url)
        route.fulfill(status=200, body="ok")

    page.route("http://127.0.0.1:9/callback**", callback)
    page.goto(f"{web_server.url}/login?cli_callback=http://127.0.0.1:9/callback&cli_state=s1")
    page.wait_for_url(re.compile(r"^http://127\.0\.0\.1:9/callback"))
    (url,) = handed
    query = parse_qs(urlsplit(url).query)
    assert query["state"] == ["s1"]
    me = httpx.get(f"{web_server.url}/api/me",
                   headers={"Authorization": f"Bearer {query['token'][0]}"})  # fmt: skip
    assert me.json()["email"] == "carol@example.com"
    page.goto(f"{web_server.url}/login?cli_callback=https://evil.example/cb&cli_state=s2")
    page.locator("#login-error", has_text="loopback").wait_for()
    assert len(handed) == 1
    context.close()


def test_a_real_daemon_runs_the_assigned_issue(web_server, chromium, screenshots, tmp_path):
    """The real daemon (``python -m multica_cli.daemon``, fake Claude CLI on its PATH) with a
    token made on the tokens page: the runtime shows up, an agent is created on it from the
    form, the issue is assigned from its page, and the run streams in while the agent uses the
    real ``multica`` CLI to comment and move the issue."""
    from datetime import timedelta

    from django.utils import timezone

    from tests.daemon.conftest import DaemonProc
    from usage.services.rollup import rollup_tick
    from workspaces.services.workspaces import workspace_create
    from workspaces.tokens import issue_jwt

    dave = User.objects.create_user("dave@example.com", name="Dave")
    dave.set_password(PASSWORD)
    dave.save()
    workspace_create(user=dave, name="Lab", slug="lab")
    context = chromium.new_context(viewport=DESKTOP)
    context.set_default_timeout(30_000)
    page = context.new_page()
    login_with_password(page, web_server, "dave@example.com")
    page.wait_for_url(re.compile(r"/w/lab/$"))
    base = f"{web_server.url}/w/lab"

    page.goto(f"{base}/tokens")
    page.fill("#tok-name", "daemon")
    page.click("form[data-api='POST /api/tokens'] button[type=submit]")
    page.locator("[data-new-token] code").wait_for()
    token = page.locator("[data-new-token] code").inner_text()
    daemon = DaemonProc(tmp_path, web_server, token, env={"FAKE_SLEEP": "1.5"})
    try:
        daemon.start()
        page.goto(f"{base}/runtimes")
        page.locator("#runtime-list .health-online").first.wait_for()
        shot(page, screenshots, "runtimes-real-daemon")

        page.goto(f"{base}/agents/new")
        page.fill("#ag-name", "Claudia")
        claude = page.locator("#ag-runtime option", has_text="claude").first.get_attribute("value")
        page.select_option("#ag-runtime", claude)
        page.fill("#ag-env", "FAKE_MODE=cli")
        page.check("input[name=permission_mode][value=public_to]")
        page.check("input[name=invocation_targets][data-target-type=workspace]")
        page.click(".agent-form button[type=submit]")
        page.wait_for_url(re.compile(r"/agents/[0-9a-f-]{36}$"))
        page.get_by_text("1 key(s)").wait_for()  # the env is stored, its value not shown
        assert "FAKE_MODE=cli" not in page.content()
        page.get_by_role("button", name="Reveal and edit").click()  # audited read
        page.locator("#env-text").wait_for()
        assert page.input_value("#env-text") == "FAKE_MODE=cli"
        page.fill("#env-text", "FAKE_MODE=cli\nFAKE_CUSTOM=from-the-page")
        page.get_by_role("button", name="Save environment").click()
        page.get_by_text("2 key(s)").wait_for()
        # The edit form saves the agent contract's fields through PUT /api/agents/{id}.
        page.fill("#ag-desc", "Fixes login bugs")
        page.fill("#ag-max", "3")
        page.fill("#ag-args", "--verbose\n--max-turns=5")
        page.fill("#ag-model", "claude-sonnet-4-5")
        page.click(".agent-form button[type=submit]")
        agent_id = page.url.rsplit("/", 1)[1]
        jwt = {"Authorization": f"Bearer {issue_jwt(dave)}", "X-Workspace-Slug": "lab"}
        for _ in range(50):
            saved = httpx.get(f"{web_server.url}/api/agents/{agent_id}", headers=jwt).json()
            if saved["max_concurrent_tasks"] == 3:
                break
            page.wait_for_timeout(100)
        assert saved["description"] == "Fixes login bugs"
        assert saved["custom_args"] == ["--verbose", "--max-turns=5"]
        assert saved["model"] == "claude-sonnet-4-5"
        assert saved["permission_mode"] == "public_to"

        page.goto(f"{base}/")
        page.fill("#quick-title", "Fix the login page")
        page.click(".quick-create button[type=submit]")
        page.locator("#board .issue-card a", has_text="Fix the login page").wait_for()
        page.wait_for_load_state("networkidle")
        page.locator("#board .issue-card a", has_text="Fix the login page").click()
        page.wait_for_url(re.compile(r"/issues/LAB-1$"))
        page.wait_for_selector("[data-live-status][data-state=open]")
        agent = page.locator("#prop-assignee option", has_text="Claudia (agent)")
        page.select_option("#prop-assignee", agent.get_attribute("value"))

        # The run streams in: still running while the first messages are already shown.
        page.locator("[data-run-messages] .msg-tool_use summary", has_text="Bash").wait_for()
        page.locator("#run-panel [data-run-status]", has_text="running").wait_for()
        shot(page, screenshots, "issue-real-daemon-running")
        page.locator("#run-panel [data-run-status]", has_text="completed").wait_for()
        page.locator(
            "#timeline .comment-agent", has_text="agent read: Fix the login page"
        ).wait_for()
        page.wait_for_function("document.querySelector('#prop-status').value === 'in_review'")
        page.locator("[data-run-messages] .msg-text", has_text="Done with").wait_for()
        shot(page, screenshots, "issue-real-daemon-completed")

        assert rollup_tick(now=timezone.now() + timedelta(minutes=10)) is not None
        page.goto(f"{base}/usage")
        chart = page.locator("figure[data-group=agent]")
        chart.locator("td", has_text="Claudia").wait_for()
        from usage.models import TaskUsage

        reported = sum(
            u.input_tokens + u.output_tokens + u.cache_read_tokens + u.cache_write_tokens
            for u in TaskUsage.objects.filter(task__agent__name="Claudia")
        )
        assert reported > 0
        assert chart.locator("td[data-tokens]").first.get_attribute("data-tokens") == str(reported)
        assert daemon.shutdown() == 0
    finally:
        daemon.cleanup()
        context.close()
