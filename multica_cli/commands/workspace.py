"""``multica workspace list|get|create|update|use|members|member list|invite``."""

from __future__ import annotations

import argparse
from typing import Any

from multica_cli.client import ApiClient
from multica_cli.commands._common import (
    UUID_RE,
    add_text_flags,
    read_text_flag,
    resolve_by_prefix,
    usage_error,
)
from multica_cli.config import update_config
from multica_cli.context import CliError, Context
from multica_cli.output import emit, info, print_json, print_table


def register(subparsers: argparse._SubParsersAction) -> None:
    ws = subparsers.add_parser("workspace", help="workspaces you belong to")
    sub = ws.add_subparsers(dest="workspace_command", metavar="<subcommand>", required=True)
    p = sub.add_parser("list", help="list workspaces (default output: table)")
    p.add_argument("--full-id", action="store_true", help="show full UUIDs")
    p.set_defaults(func=cmd_list)
    p = sub.add_parser("get", help="show a workspace (default: the current one)")
    p.add_argument("workspace", nargs="?", help="workspace id, slug or id prefix")
    p.set_defaults(func=cmd_get)
    for name in ("use", "switch"):
        p = sub.add_parser(name, help="make a workspace the default for this profile")
        p.add_argument("workspace", help="workspace id, slug or id prefix")
        p.set_defaults(func=cmd_use)
    p = sub.add_parser("create", help="create a workspace you own (default output: json)")
    p.add_argument("--name", required=True, help="workspace name")
    p.add_argument("--slug", required=True, help="permanent slug (lowercase letters, digits, -)")
    add_text_flags(p, "description", "workspace description (decodes \\n, \\t, \\\\)")
    add_text_flags(p, "context", "workspace context for agents (decodes \\n, \\t, \\\\)")
    p.add_argument("--issue-prefix", help="issue key prefix (upper-cased by the server)")
    p.set_defaults(func=cmd_create)
    p = sub.add_parser("update", help="update a workspace (admins; default output: json)")
    p.add_argument("workspace", nargs="?", help="workspace id, slug or id prefix")
    p.add_argument("--name", help="new name")
    add_text_flags(p, "description", "new description (decodes \\n, \\t, \\\\)")
    add_text_flags(p, "context", "new context for agents (decodes \\n, \\t, \\\\)")
    p.add_argument("--issue-prefix", help="new issue key prefix")
    p.set_defaults(func=cmd_update)
    p = sub.add_parser("members", help="list a workspace's members (default output: table)")
    p.add_argument("workspace", nargs="?", help="workspace id, slug or id prefix")
    p.set_defaults(func=cmd_members)
    member = sub.add_parser("member", help="workspace members: list, invite")
    msub = member.add_subparsers(dest="member_command", metavar="<subcommand>", required=True)
    p = msub.add_parser("list", help="list a workspace's members (default output: table)")
    p.add_argument("workspace", nargs="?", help="workspace id, slug or id prefix")
    p.set_defaults(func=cmd_members)
    p = msub.add_parser("invite", help="invite someone by e-mail (admins)")
    p.add_argument("email", help="the invitee's e-mail address")
    p.add_argument("workspace", nargs="?", help="workspace id, slug or id prefix")
    p.add_argument("--role", default="member", help="member (default) or admin")
    p.set_defaults(func=cmd_member_invite)


def _workspaces(client: ApiClient) -> list[dict[str, Any]]:
    data = client.get("/api/workspaces")
    return data if isinstance(data, list) else []


def resolve_workspace(client: ApiClient, ref: str) -> dict[str, Any]:
    """A workspace by UUID, slug or UUID prefix, among the caller's workspaces."""
    workspaces = _workspaces(client)
    ref = ref.strip()
    for ws in workspaces:
        if str(ws.get("id")) == ref.lower() or (ws.get("slug") and ws["slug"] == ref):
            return ws
    compact = ref.replace("-", "").lower()
    if UUID_RE.match(ref) or not compact or any(c not in "0123456789abcdef" for c in compact):
        raise CliError(f"workspace {ref!r} not found", 4)
    ident = resolve_by_prefix("workspace", ref, workspaces)
    return next(ws for ws in workspaces if str(ws.get("id")) == ident)


def cmd_list(ctx: Context, args: argparse.Namespace) -> None:
    client = ctx.client(workspace=False)
    workspaces = _workspaces(client)
    current = ctx.profile.workspace_id
    if (ctx.output or "table") == "json":
        print_json(workspaces)
        return
    id_col = "id" if args.full_id else (lambda w: str(w.get("id") or "")[:8])
    print_table(
        workspaces,
        [
            ("", lambda w: "*" if str(w.get("id")) == current else ""),
            ("ID", id_col),
            ("Name", "name"),
            ("Slug", "slug"),
        ],
    )


def _target(ctx: Context, ref: str | None) -> str:
    client = ctx.client(workspace=False)
    if ref:
        return str(resolve_workspace(client, ref)["id"])
    if not ctx.profile.workspace_id:
        raise CliError("no workspace selected: pass one or run `multica workspace use <id>`")
    return ctx.profile.workspace_id


WORKSPACE_FIELDS = [
    ("ID", "id"),
    ("Name", "name"),
    ("Slug", "slug"),
    ("Issue prefix", "issue_prefix"),
    ("Description", "description"),
    ("Context", "context"),
]


def cmd_get(ctx: Context, args: argparse.Namespace) -> None:
    ws_id = _target(ctx, args.workspace)
    ws = ctx.client(workspace=False).get(f"/api/workspaces/{ws_id}")
    emit(ws, ctx.output, fields=WORKSPACE_FIELDS)


def _text_fields(args: argparse.Namespace, body: dict[str, Any]) -> None:
    """``description`` and ``context`` (one stdin cannot feed both) and ``issue_prefix``."""
    if args.description_stdin and args.context_stdin:
        raise usage_error(
            "--description-stdin and --context-stdin cannot be combined: pass one inline"
        )
    for name in ("description", "context"):
        value = read_text_flag(args, name)
        if value is not None:
            body[name] = value
    if args.issue_prefix is not None:
        if not args.issue_prefix.strip():
            raise usage_error("--issue-prefix cannot be empty")
        body["issue_prefix"] = args.issue_prefix.strip()


def cmd_create(ctx: Context, args: argparse.Namespace) -> None:
    name, slug = args.name.strip(), args.slug.strip()
    if not name:
        raise usage_error("--name is required")
    if not slug:
        raise usage_error("--slug is required")
    body: dict[str, Any] = {"name": name, "slug": slug}
    _text_fields(args, body)
    ws = ctx.client(workspace=False).post("/api/workspaces", json=body)
    info(
        f"Workspace {ws.get('name', name)} created ({ws.get('id')}); "
        f"run `multica workspace use {ws.get('slug', slug)}` to make it the default."
    )
    emit(ws, ctx.output, fields=WORKSPACE_FIELDS)


def cmd_update(ctx: Context, args: argparse.Namespace) -> None:
    body: dict[str, Any] = {}
    if args.name is not None:
        if not args.name.strip():
            raise usage_error("--name cannot be empty")
        body["name"] = args.name
    _text_fields(args, body)
    if not body:
        raise usage_error(
            "nothing to update: pass --name, --description, --context or --issue-prefix"
        )
    ws_id = _target(ctx, args.workspace)
    ws = ctx.client(workspace=False).patch(f"/api/workspaces/{ws_id}", json=body)
    info(f"Workspace {ws.get('name', '')} updated.")
    emit(ws, ctx.output, fields=WORKSPACE_FIELDS)


def cmd_use(ctx: Context, args: argparse.Namespace) -> None:
    ws = resolve_workspace(ctx.client(workspace=False), args.workspace)
    update_config(ctx.profile_name, workspace_id=str(ws["id"]))
    info(f"Default workspace set to {ws.get('name', '')} ({ws['id']}).")
    if ctx.output == "json":
        print_json(ws)


def cmd_members(ctx: Context, args: argparse.Namespace) -> None:
    ws_id = _target(ctx, args.workspace)
    members = ctx.client(workspace=False).get(f"/api/workspaces/{ws_id}/members") or []
    emit(members, ctx.output, default="table",
         columns=[("User ID", "user_id"), ("Name", "name"), ("Email", "email"),
                  ("Role", "role")])  # fmt: skip


INVITE_ROLES = ("member", "admin")


def cmd_member_invite(ctx: Context, args: argparse.Namespace) -> None:
    email = args.email.strip().lower()
    if not email:
        raise usage_error("email is required")
    role = (args.role or "member").strip().lower()
    if role == "owner":
        raise usage_error("cannot invite as owner; use --role member or --role admin")
    if role not in INVITE_ROLES:
        raise usage_error(f"invalid --role {role!r}; expected member or admin")
    ws_id = _target(ctx, args.workspace)
    invitation = ctx.client(workspace=False).post(
        f"/api/workspaces/{ws_id}/members", json={"email": email, "role": role}
    )
    info(
        f"Invitation sent to {invitation.get('invitee_email', email)} "
        f"(role: {invitation.get('role', role)}, status: {invitation.get('status', '')})."
    )
    if ctx.output == "json":
        print_json(invitation)
