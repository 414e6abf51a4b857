"""The web app's pages. Each view reads through the apps' selectors (the same functions the API
views call), shapes the result with the apps' wire functions and renders a template. Nothing is
written here: forms and buttons call the JSON API from the browser (``static/multica/app.js``).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlencode

from rest_framework.request import Request

from agents import access as agent_access
from agents.selectors import agent_get_for_view, agent_list, agent_tasks
from agents.selectors_tasks import issue_task_runs, task_messages
from agents.task_wire import task_message_wire, tasks_wire
from agents.wire import agent_wire
from issues import selectors as issue_selectors
from issues.selectors_catalog import label_list, project_list
from issues.selectors_conversation import inbox_list, subscriber_list, timeline_get
from issues.wire import activity_entry_wire, issue_prefix, issue_row_wire, issue_wire
from multica_site.web.base import WorkspacePageView
from multica_site.web.markdown import render_markdown
from runtimes.services.runtimes import runtime_list
from runtimes.wire import runtime_list_wire
from skills.selectors import skill_file_list, skill_get, skill_list
from skills.wire import skill_summary_wire
from workspaces.context import WorkspaceContext
from workspaces.selectors import invitation_list_pending, member_list
from workspaces.services.auth import token_list
from workspaces.services.workspaces import invitation_wire, member_wire

PRIORITIES = ("urgent", "high", "medium", "low", "none")
BOARD_FILTERS = ("assignee", "label_id", "priority", "project_id")


# --- shared lookups -----------------------------------------------------------------------------


class Directory:
    """Names of the workspace's members and agents, for assignees, authors and mentions
    (two selector calls per page, whatever the number of rows)."""

    def __init__(self, ctx: WorkspaceContext) -> None:
        self.members = [member_wire(m) for m in member_list(ctx=ctx)]
        # Archived agents keep their names on old comments; only live ones are offered.
        self.agents = [
            {"id": str(a.id), "name": a.name, "archived": a.archived_at is not None}
            for a in agent_list(ctx, include_archived=True)
        ]
        self.names: dict[tuple[str, str], str] = {
            ("member", m["user_id"]): m["name"] or m["email"] for m in self.members
        }
        self.names.update({("agent", a["id"]): a["name"] for a in self.agents})

    def name(self, kind: str | None, ident: Any) -> str:
        if not kind or not ident:
            return ""
        if kind == "system":
            return "System"
        return self.names.get((kind, str(ident)), "Unknown")

    def candidates(self) -> list[dict[str, str]]:
        """Mention / assignee candidates: members then live agents."""
        out = [{"type": "member", "id": m["user_id"], "name": m["name"] or m["email"]}
               for m in self.members]  # fmt: skip
        out += [{"type": "agent", "id": a["id"], "name": a["name"]}
                for a in self.agents if not a["archived"]]  # fmt: skip
        return out


def issue_page(ctx: WorkspaceContext, params: dict[str, str]) -> tuple[list[dict[str, Any]], int]:
    """One page of the §3.4 issue list as wire dicts with their labels, and the total."""
    query = issue_selectors.issue_list_query(ctx=ctx, params=params)
    page = issue_selectors.issue_list(ctx=ctx, query=query)
    prefix = issue_prefix(ctx.workspace)
    out = []
    for row in page.rows:
        item = issue_row_wire(row, prefix=prefix, status_category=page.categories(row["status"]))
        item["labels"] = page.labels.get(row["id"], [])
        out.append(item)
    return out, page.total


def issue_rows(ctx: WorkspaceContext, params: dict[str, str]) -> list[dict[str, Any]]:
    return issue_page(ctx, params)[0]


def decorate(issues: Iterable[dict[str, Any]], directory: Directory) -> list[dict[str, Any]]:
    out = []
    for issue in issues:
        issue["assignee_name"] = directory.name(issue["assignee_type"], issue["assignee_id"])
        out.append(issue)
    return out


def filter_params(request: Request) -> tuple[dict[str, str], dict[str, str]]:
    """The board/list filters from the query string, as §3.4 list parameters."""
    chosen = {k: request.query_params.get(k, "") for k in BOARD_FILTERS}
    params: dict[str, str] = {}
    if chosen["assignee"]:
        params["assignee_filters"] = chosen["assignee"]
    if chosen["label_id"]:
        params["label_ids"] = chosen["label_id"]
    if chosen["priority"] in PRIORITIES:
        params["priority"] = chosen["priority"]
    if chosen["project_id"]:
        params["project_id"] = chosen["project_id"]
    return params, chosen


def filter_choices(ctx: WorkspaceContext) -> dict[str, Any]:
    return {
        "labels": list(label_list(ctx=ctx, resource_type="issue")),
        "projects": list(project_list(ctx=ctx, status=None, priority=None)),
        "priorities": PRIORITIES,
    }


def json_script(value: Any) -> str:
    """JSON for a ``<script type="application/json">`` block (``</`` cannot close it)."""
    return json.dumps(value).replace("</", "<\\/")


# --- issues -------------------------------------------------------------------------------------


class BoardPage(WorkspacePageView):
    template_name = "web/board.html"
    nav = "board"
    title = "Board"

    def page_context(self, request: Request, **kwargs: Any) -> dict[str, Any]:
        ctx = self.ctx
        params, chosen = filter_params(request)
        statuses = issue_selectors.status_list(ctx=ctx)
        directory = Directory(ctx)
        # Open issues in full (the board's working set), then the newest closed page.
        open_rows = issue_rows(ctx, {**params, "open_only": "true", "sort": "position"})
        closed_keys = ",".join(issue_selectors.closed_status_keys(ctx=ctx))
        closed_rows = issue_rows(ctx, {**params, "statuses": closed_keys, "sort": "position"})
        by_status: dict[str, list[dict[str, Any]]] = {s.key: [] for s in statuses}
        for issue in decorate([*open_rows, *closed_rows], directory):
            by_status.setdefault(issue["status"], []).append(issue)
        columns = [{"status": s, "issues": by_status.get(s.key, [])} for s in statuses]
        return {
            "columns": columns,
            "statuses": statuses,
            "chosen": chosen,
            "directory": directory,
            "candidates_json": json_script(directory.candidates()),
            **filter_choices(ctx),
        }


class ListPage(WorkspacePageView):
    template_name = "web/list.html"
    nav = "list"
    title = "All issues"

    page_size = 50

    def page_context(self, request: Request, **kwargs: Any) -> dict[str, Any]:
        ctx = self.ctx
        params, chosen = filter_params(request)
        params.update(self.extra_params())
        offset = max(0, issue_selectors.int_param(request.query_params.get("offset")) or 0)
        directory = Directory(ctx)
        rows, total = issue_page(
            ctx,
            {**params, "sort": "updated_at", "limit": str(self.page_size),
             "offset": str(offset)},
        )  # fmt: skip
        filters = urlencode({k: v for k, v in chosen.items() if v})
        link = f"?{filters}&offset=" if filters else "?offset="
        return {
            "issues": decorate(rows, directory),
            "total": total,
            "first": offset + 1 if rows else 0,
            "last": offset + len(rows),
            "prev_url": f"{link}{max(0, offset - self.page_size)}" if offset else "",
            "next_url": f"{link}{offset + self.page_size}" if offset + len(rows) < total else "",
            "chosen": chosen,
            "statuses": issue_selectors.status_list(ctx=ctx),
            "directory": directory,
            **filter_choices(ctx),
        }

    def extra_params(self) -> dict[str, str]:
        return {}


class MyIssuesPage(ListPage):
    nav = "mine"
    title = "My issues"

    def extra_params(self) -> dict[str, str]:
        return {"assignee_filters": f"member:{self.ctx.user.pk}"}  # type: ignore[union-attr]


class IssueDetailPage(WorkspacePageView):
    template_name = "web/issue_detail.html"
    nav = "board"

    def page_context(self, request: Request, **kwargs: Any) -> dict[str, Any]:
        ctx = self.ctx
        issue = issue_selectors.issue_get(ctx=ctx, issue_ref=kwargs["issue_id"])
        categories = issue_selectors.StatusCategories(ctx)
        prefix = issue_prefix(ctx.workspace)
        data = issue_wire(
            issue,
            prefix=prefix,
            status_category=categories(issue.status),
            labels=issue_selectors.labels_of_issue(ctx=ctx, issue=issue),
        )
        directory = Directory(ctx)
        data["assignee_name"] = directory.name(issue.assignee_type, issue.assignee_id)
        data["creator_name"] = directory.name(issue.creator_type, issue.creator_id)
        children = issue_selectors.issue_children(ctx=ctx, issue=issue)
        child_rows = [
            issue_row_wire(r, prefix=prefix, status_category=children.categories(r["status"]))
            for r in children.rows
        ]
        timeline = timeline_get(ctx=ctx, issue_ref=issue.pk)
        entries: list[dict[str, Any]] = []
        for comment in timeline.comments:
            entries.append({
                "kind": "comment", "id": str(comment.id), "at": comment.created_at,
                "actor": directory.name(comment.author_type, comment.author_id),
                "actor_type": comment.author_type, "comment_type": comment.type,
                "html": render_markdown(comment.content), "parent_id": comment.parent_id,
            })  # fmt: skip
        for activity in timeline.activities:
            wire = activity_entry_wire(activity)
            entries.append({
                "kind": "activity", "id": wire["id"], "at": activity.created_at,
                "actor": directory.name(activity.actor_type, activity.actor_id),
                "action": wire.get("action", ""), "details": wire.get("details") or {},
            })  # fmt: skip
        entries.sort(key=lambda e: (e["at"], e["id"]))
        subscribers = [
            {"name": directory.name(s.user_type, s.user_id), "reason": s.reason,
             "user_id": str(s.user_id), "user_type": s.user_type}
            for s in subscriber_list(ctx=ctx, issue_ref=issue.pk)
        ]  # fmt: skip
        me_id = str(ctx.user.pk) if ctx.user else ""
        runs = tasks_wire(issue_task_runs(ctx=ctx, issue_ref=issue.pk))
        for run in runs:
            run["agent_name"] = directory.name("agent", run["agent_id"])
            run["active"] = run["status"] in ("queued", "dispatched", "running",
                                              "waiting_local_directory")  # fmt: skip
        latest = runs[0] if runs else None
        messages: list[dict[str, Any]] = []
        if latest is not None:
            _, rows = task_messages(ctx=ctx, task_id=latest["id"])
            messages = [task_message_wire(m, issue_id=issue.pk) for m in rows]
            for m in messages:
                m.setdefault("content", "")
                m.setdefault("tool", "")
                for key in ("input", "output"):
                    value = m.get(key)
                    m[key + "_text"] = (
                        ""
                        if value in (None, "", {})
                        else value
                        if isinstance(value, str)
                        else json.dumps(value, indent=2)
                    )
                m["output_text"] = m["output_text"] or m["content"]
        return {
            "issue": data,
            "title": f"{data['identifier']} {data['title']}",
            "description_html": render_markdown(issue.description),
            "children": decorate(child_rows, directory),
            "entries": entries,
            "subscribers": subscribers,
            "subscribed": any(
                s["user_type"] == "member" and s["user_id"] == me_id for s in subscribers
            ),
            "runs": runs,
            "latest_run": latest,
            "messages": messages,
            "statuses": issue_selectors.status_list(ctx=ctx),
            "priorities": PRIORITIES,
            "directory": directory,
            "candidates_json": json_script(directory.candidates()),
            "issue_label_ids": {label["id"] for label in data["labels"]},
            **filter_choices(ctx),
        }


class InboxPage(WorkspacePageView):
    template_name = "web/inbox.html"
    nav = "inbox"
    title = "Inbox"

    def page_context(self, request: Request, **kwargs: Any) -> dict[str, Any]:
        ctx = self.ctx
        items = inbox_list(ctx=ctx)
        prefix = issue_prefix(ctx.workspace)
        rows = [
            {"item": item, "identifier": f"{prefix}-{item.issue.number}" if item.issue else ""}
            for item in items
        ]
        return {"items": rows}


# --- agents, runtimes, skills -------------------------------------------------------------------


def runtime_rows(ctx: WorkspaceContext) -> list[dict[str, Any]]:
    return [runtime_list_wire(r) for r in runtime_list(ctx=ctx)]


class AgentListPage(WorkspacePageView):
    template_name = "web/agents.html"
    nav = "agents"
    title = "Agents"

    def page_context(self, request: Request, **kwargs: Any) -> dict[str, Any]:
        ctx = self.ctx
        runtimes = {r["id"]: r for r in runtime_rows(ctx)}
        agents = []
        for agent in agent_list(ctx, include_archived=True):
            wire = agent_wire(agent, redact_mcp=True)
            wire["runtime"] = runtimes.get(wire["runtime_id"])
            agents.append(wire)
        return {"agents": agents}


class AgentFormMixin:
    def form_context(self, ctx: WorkspaceContext) -> dict[str, Any]:
        runtimes = runtime_rows(ctx)
        return {
            "runtimes": runtimes,
            "skills": [skill_summary_wire(s) for s in skill_list(ctx=ctx)],
            "members": [member_wire(m) for m in member_list(ctx=ctx)],
        }


class AgentNewPage(AgentFormMixin, WorkspacePageView):
    template_name = "web/agent_form.html"
    nav = "agents"
    title = "New agent"

    def page_context(self, request: Request, **kwargs: Any) -> dict[str, Any]:
        return {"agent": None, "can_manage": True, "can_env": True,
                **self.form_context(self.ctx)}  # fmt: skip


class AgentDetailPage(AgentFormMixin, WorkspacePageView):
    template_name = "web/agent_form.html"
    nav = "agents"

    def page_context(self, request: Request, **kwargs: Any) -> dict[str, Any]:
        ctx = self.ctx
        agent = agent_get_for_view(ctx, kwargs["agent_id"])
        can_manage = agent_access.can_manage_agent(ctx, agent)
        can_env = agent_access.can_view_agent_secrets(ctx, agent)
        wire = agent_wire(agent, redact_mcp=not can_env)
        tasks = tasks_wire(agent_tasks(ctx, agent)[:50])
        bound = {s["id"] for s in wire["skills"]}
        return {
            "agent": wire,
            "title": wire["name"],
            "mcp_config_text": (
                json.dumps(wire["mcp_config"], indent=2) if wire["mcp_config"] else ""
            ),
            "runtime_config_text": json.dumps(wire["runtime_config"] or {}, indent=2),
            "target_ids": {t["target_id"] for t in wire["invocation_targets"]},
            "bound_skill_ids": bound,
            "can_manage": can_manage,
            "can_env": can_env,
            "tasks": tasks,
            **self.form_context(ctx),
        }


class RuntimeListPage(WorkspacePageView):
    template_name = "web/runtimes.html"
    nav = "runtimes"
    title = "Runtimes"

    def page_context(self, request: Request, **kwargs: Any) -> dict[str, Any]:
        directory = Directory(self.ctx)
        runtimes = runtime_rows(self.ctx)
        for r in runtimes:
            r["owner_name"] = directory.name("member", r["owner_id"])
            r["version"] = r["metadata"].get("version", "")
            r["cli_version"] = r["metadata"].get("cli_version", "")
        return {"runtimes": runtimes}


class SkillListPage(WorkspacePageView):
    template_name = "web/skills.html"
    nav = "skills"
    title = "Skills"

    def page_context(self, request: Request, **kwargs: Any) -> dict[str, Any]:
        return {"skills": [skill_summary_wire(s) for s in skill_list(ctx=self.ctx)]}


class SkillDetailPage(WorkspacePageView):
    template_name = "web/skill_detail.html"
    nav = "skills"

    def page_context(self, request: Request, **kwargs: Any) -> dict[str, Any]:
        skill = skill_get(ctx=self.ctx, skill_id=kwargs["skill_id"])
        return {
            "skill": skill,
            "title": skill.name,
            "content_html": render_markdown(skill.content),
            "files": skill_file_list(skill=skill),
        }


class UsagePage(WorkspacePageView):
    """Charts are drawn in the browser from the usage API (§6.2–6.3), the same JSON the CLI
    reads; the page itself only carries the workspace shell."""

    template_name = "web/usage.html"
    nav = "usage"
    title = "Usage"

    def page_context(self, request: Request, **kwargs: Any) -> dict[str, Any]:
        directory = Directory(self.ctx)
        return {"agent_names_json": json_script({a["id"]: a["name"] for a in directory.agents})}


# --- people and settings ------------------------------------------------------------------------


class MembersPage(WorkspacePageView):
    template_name = "web/members.html"
    nav = "members"
    title = "Members"

    def page_context(self, request: Request, **kwargs: Any) -> dict[str, Any]:
        ctx = self.ctx
        return {
            "members": [member_wire(m) for m in member_list(ctx=ctx)],
            "invitations": [
                invitation_wire(i, with_inviter=True) for i in invitation_list_pending(ctx=ctx)
            ],
        }


class SettingsPage(WorkspacePageView):
    template_name = "web/settings.html"
    nav = "settings"
    title = "Workspace settings"

    def page_context(self, request: Request, **kwargs: Any) -> dict[str, Any]:
        return filter_choices(self.ctx)


class TokensPage(WorkspacePageView):
    template_name = "web/tokens.html"
    nav = "tokens"
    title = "Personal access tokens"

    def page_context(self, request: Request, **kwargs: Any) -> dict[str, Any]:
        return {"tokens": token_list(user=self.ctx.user)}  # type: ignore[arg-type]
