"""``multica workspace list|get|use|members``."""

from __future__ import annotations

import argparse
from typing import Any

from multica_cli.client import ApiClient
from multica_cli.commands._common import UUID_RE, resolve_by_prefix
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
    p = sub.add_parser("members", aliases=["member"], help="list a workspace's members")
    p.add_argument("workspace", nargs="?", help="workspace id, slug or id prefix")
    p.set_defaults(func=cmd_members)


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


def cmd_get(ctx: Context, args: argparse.Namespace) -> None:
    ws_id = _target(ctx, args.workspace)
    ws = ctx.client(workspace=False).get(f"/api/workspaces/{ws_id}")
    emit(ws, ctx.output, fields=[("ID", "id"), ("Name", "name"), ("Slug", "slug"),
                                  ("Issue prefix", "issue_prefix"),
                                  ("Description", "description")])  # fmt: skip


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
