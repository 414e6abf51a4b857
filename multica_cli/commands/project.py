"""``multica project``: list, get, create, update, delete and status."""

from __future__ import annotations

import argparse
from typing import Any

from multica_cli.client import ApiClient
from multica_cli.commands._common import (
    UUID_RE,
    Actors,
    date_only,
    display_id,
    resolve_by_prefix,
    usage_error,
)
from multica_cli.context import Context
from multica_cli.output import emit, info, print_json

PROJECT_STATUSES = ("planned", "in_progress", "paused", "completed", "cancelled")


def register(subparsers: argparse._SubParsersAction) -> None:
    project = subparsers.add_parser("project", help="work with projects")
    sub = project.add_subparsers(dest="project_command", metavar="<subcommand>", required=True)

    p = sub.add_parser("list", help="list projects (default output: table)")
    p.add_argument("--status", help="filter by status")
    p.add_argument("--full-id", action="store_true", help="show full UUIDs in the table")
    p.set_defaults(func=cmd_list)

    p = sub.add_parser("get", help="show one project (default output: json)")
    p.add_argument("id", help="project UUID or id prefix")
    p.set_defaults(func=cmd_get)

    p = sub.add_parser("create", help="create a project (default output: json)")
    p.add_argument("--title", required=True, help="project title")
    p.add_argument("--description", help="project description")
    p.add_argument("--status", help="status: " + ", ".join(PROJECT_STATUSES))
    p.add_argument("--priority", help="priority (urgent, high, medium, low, none)")
    p.add_argument("--icon", help="project icon (emoji)")
    p.add_argument("--lead", help="lead name (member or agent; fuzzy match)")
    p.add_argument("--start-date", help="start date (YYYY-MM-DD)")
    p.add_argument("--due-date", help="due date (YYYY-MM-DD)")
    p.set_defaults(func=cmd_create)

    p = sub.add_parser("update", help="update a project (default output: json)")
    p.add_argument("id", help="project UUID or id prefix")
    p.add_argument("--title", help="new title")
    p.add_argument("--description", help='new description ("" clears)')
    p.add_argument("--status", help="new status: " + ", ".join(PROJECT_STATUSES))
    p.add_argument("--priority", help="new priority")
    p.add_argument("--icon", help='new icon ("" clears)')
    p.add_argument("--lead", help='new lead name (member or agent; "" clears)')
    p.add_argument("--start-date", help='new start date (YYYY-MM-DD; "" clears)')
    p.add_argument("--due-date", help='new due date (YYYY-MM-DD; "" clears)')
    p.set_defaults(func=cmd_update)

    p = sub.add_parser("delete", help="delete a project (its issues stay, unfiled)")
    p.add_argument("id", help="project UUID or id prefix")
    p.set_defaults(func=cmd_delete)

    p = sub.add_parser("status", help="change a project's status")
    p.add_argument("id", help="project UUID or id prefix")
    p.add_argument("status", help="new status: " + ", ".join(PROJECT_STATUSES))
    p.set_defaults(func=cmd_status)


def list_projects(client: ApiClient, status: str | None = None) -> list[dict[str, Any]]:
    result = client.get("/api/projects", params={"status": status}) or {}
    return list(result.get("projects") or []) if isinstance(result, dict) else []


def resolve_project(client: ApiClient, ref: str) -> str:
    """A project by full UUID or a short id prefix (4+ hex digits)."""
    if UUID_RE.match(ref.strip()):
        return ref.strip()
    return resolve_by_prefix("project", ref, list_projects(client))


def validate_status(status: str) -> str:
    if status not in PROJECT_STATUSES:
        raise usage_error(
            f"invalid status {status!r}; valid values: " + ", ".join(PROJECT_STATUSES)
        )
    return status


def _lead(actors: Actors, project: dict[str, Any]) -> str:
    return actors.name(project.get("lead_type"), project.get("lead_id"))


def project_fields(actors: Actors) -> list[Any]:
    return [
        ("ID", "id"),
        ("Title", "title"),
        ("Status", "status"),
        ("Priority", "priority"),
        ("Lead", lambda p: _lead(actors, p)),
        ("Icon", "icon"),
        ("Issues", lambda p: f"{p.get('done_count', 0)}/{p.get('issue_count', 0)} done"),
        ("Start date", lambda p: date_only(p.get("start_date"))),
        ("Due date", lambda p: date_only(p.get("due_date"))),
        ("Created", "created_at"),
        ("Description", "description"),
    ]


def cmd_list(ctx: Context, args: argparse.Namespace) -> None:
    client = ctx.client()
    projects = list_projects(client, args.status or None)
    actors = Actors(client)
    emit(projects, ctx.output, default="table",
         columns=[("ID", lambda p: display_id(p.get("id"), args.full_id)),
                  ("Title", "title"), ("Status", "status"),
                  ("Lead", lambda p: _lead(actors, p)),
                  ("Created", lambda p: date_only(p.get("created_at")))])  # fmt: skip


def cmd_get(ctx: Context, args: argparse.Namespace) -> None:
    client = ctx.client()
    project = client.get(f"/api/projects/{resolve_project(client, args.id)}")
    emit(project, ctx.output, fields=project_fields(Actors(client)))


def _lead_body(client: ApiClient, name: str, body: dict[str, Any]) -> None:
    if not name.strip():
        body["lead_type"] = body["lead_id"] = None
        return
    body["lead_type"], body["lead_id"] = Actors(client).resolve(name)


def cmd_create(ctx: Context, args: argparse.Namespace) -> None:
    title = args.title.strip()
    if not title:
        raise usage_error("--title is required")
    body: dict[str, Any] = {"title": title}
    if args.status:
        body["status"] = validate_status(args.status)
    for flag in ("description", "priority", "icon", "start_date", "due_date"):
        value = getattr(args, flag)
        if value:
            body[flag] = value
    client = ctx.client()
    if args.lead:
        _lead_body(client, args.lead, body)
    project = client.post("/api/projects", json=body)
    info(f"Project {project.get('title', title)} created.")
    emit(project, ctx.output, fields=project_fields(Actors(client)))


def cmd_update(ctx: Context, args: argparse.Namespace) -> None:
    body: dict[str, Any] = {}
    for flag in ("title", "status", "priority"):
        value = getattr(args, flag)
        if value is not None:
            if not value.strip():
                raise usage_error(f"--{flag} cannot be empty")
            body[flag] = value
    if "status" in body:
        validate_status(body["status"])
    for flag in ("description", "icon", "start_date", "due_date"):
        value = getattr(args, flag)
        if value is not None:
            body[flag] = value or None
    client = ctx.client()
    if args.lead is not None:
        _lead_body(client, args.lead, body)
    if not body:
        raise usage_error(
            "nothing to update: pass --title, --description, --status, --priority, --icon, "
            "--lead, --start-date or --due-date"
        )
    project = client.put(f"/api/projects/{resolve_project(client, args.id)}", json=body)
    info(f"Project {project.get('title', '')} updated.")
    emit(project, ctx.output, fields=project_fields(Actors(client)))


def cmd_delete(ctx: Context, args: argparse.Namespace) -> None:
    client = ctx.client()
    project_id = resolve_project(client, args.id)
    client.delete(f"/api/projects/{project_id}")
    info(f"Project {project_id} deleted.")
    if ctx.output == "json":
        print_json({"id": project_id, "deleted": True})


def cmd_status(ctx: Context, args: argparse.Namespace) -> None:
    status = validate_status(args.status.strip())
    client = ctx.client()
    project = client.put(
        f"/api/projects/{resolve_project(client, args.id)}", json={"status": status}
    )
    info(f"Project {project.get('title', '')} status changed to {status}.")
    if ctx.output == "json":
        print_json(project)
