"""``multica runtime``: list, update (rename / visibility), rename, delete, usage, activity."""

from __future__ import annotations

import argparse
from typing import Any

from multica_cli.client import ApiClient
from multica_cli.commands._common import UUID_RE, resolve_by_prefix, usage_error
from multica_cli.context import Context
from multica_cli.output import emit, info, print_json

RUNTIME_FIELDS = [
    ("ID", "id"),
    ("Name", "name"),
    ("Custom name", "custom_name"),
    ("Provider", "provider"),
    ("Mode", "runtime_mode"),
    ("Status", "status"),
    ("Visibility", "visibility"),
    ("Daemon", "daemon_id"),
    ("Last seen", "last_seen_at"),
]


def register(subparsers: argparse._SubParsersAction) -> None:
    runtime = subparsers.add_parser("runtime", help="agent runtimes (machines running a daemon)")
    sub = runtime.add_subparsers(dest="runtime_command", metavar="<subcommand>", required=True)

    p = sub.add_parser("list", help="list runtimes (default output: table)")
    p.add_argument("--mine", action="store_true", help="only runtimes you own")
    p.set_defaults(func=cmd_list)

    p = sub.add_parser("update", help="rename a runtime or change its visibility")
    p.add_argument("id", help="runtime UUID or id prefix")
    p.add_argument("--name", help='display name ("" restores the reported name)')
    p.add_argument("--visibility", choices=("private", "public"), help="who may use it")
    p.add_argument("--machine", action="store_true", help="rename every runtime of the machine")
    p.set_defaults(func=cmd_update)

    p = sub.add_parser("rename", help="rename a runtime")
    p.add_argument("id", help="runtime UUID or id prefix")
    p.add_argument("name", help='new display name ("" restores the reported name)')
    p.add_argument("--machine", action="store_true", help="rename every runtime of the machine")
    p.set_defaults(func=cmd_rename)

    p = sub.add_parser("delete", help="delete an offline runtime without active agents")
    p.add_argument("id", help="runtime UUID or id prefix")
    p.set_defaults(func=cmd_delete)

    p = sub.add_parser("usage", help="token usage of a runtime per day (default output: table)")
    p.add_argument("id", help="runtime UUID or id prefix")
    p.add_argument("--days", type=int, default=90, help="days of usage (1-365, default 90)")
    p.set_defaults(func=cmd_usage)

    p = sub.add_parser("activity", help="task starts per hour of day (default output: table)")
    p.add_argument("id", help="runtime UUID or id prefix")
    p.add_argument("--tz", help="IANA time zone for the hours (default: yours, else UTC)")
    p.set_defaults(func=cmd_activity)


def resolve_runtime(client: ApiClient, ref: str) -> str:
    if UUID_RE.match(ref.strip()):
        return ref.strip()
    return resolve_by_prefix("runtime", ref, client.get("/api/runtimes") or [])


def cmd_list(ctx: Context, args: argparse.Namespace) -> None:
    params = {"owner": "me"} if args.mine else None
    runtimes = ctx.client().get("/api/runtimes", params=params) or []
    emit(runtimes, ctx.output, default="table",
         columns=[("ID", "id"), ("Name", "name"), ("Mode", "runtime_mode"),
                  ("Provider", "provider"), ("Status", "status"),
                  ("Last seen", "last_seen_at")])  # fmt: skip


def _patch(ctx: Context, ref: str, body: dict[str, Any]) -> None:
    client = ctx.client()
    runtime = client.patch(f"/api/runtimes/{resolve_runtime(client, ref)}", json=body)
    info(f"Runtime {runtime.get('name', '')} updated.")
    emit(runtime, ctx.output, fields=RUNTIME_FIELDS)


def cmd_update(ctx: Context, args: argparse.Namespace) -> None:
    body: dict[str, Any] = {}
    if args.name is not None:
        body["custom_name"] = args.name
    if args.visibility is not None:
        body["visibility"] = args.visibility
    if args.machine:
        if args.name is None:
            raise usage_error("--machine needs --name")
        body["apply_to_machine"] = True
    if not body:
        raise usage_error("nothing to update: pass --name or --visibility")
    _patch(ctx, args.id, body)


def cmd_rename(ctx: Context, args: argparse.Namespace) -> None:
    body: dict[str, Any] = {"custom_name": args.name}
    if args.machine:
        body["apply_to_machine"] = True
    _patch(ctx, args.id, body)


def cmd_delete(ctx: Context, args: argparse.Namespace) -> None:
    client = ctx.client()
    runtime_id = resolve_runtime(client, args.id)
    result = client.delete(f"/api/runtimes/{runtime_id}")
    info(f"Runtime {runtime_id} deleted.")
    if ctx.output == "json":
        print_json(result if result is not None else {"id": runtime_id, "deleted": True})


def cmd_usage(ctx: Context, args: argparse.Namespace) -> None:
    if not 1 <= args.days <= 365:
        raise usage_error("--days must be between 1 and 365")
    client = ctx.client()
    runtime_id = resolve_runtime(client, args.id)
    usage = client.get(f"/api/runtimes/{runtime_id}/usage", params={"days": args.days}) or []
    emit(usage, ctx.output, default="table",
         columns=[("Date", "date"), ("Provider", "provider"), ("Model", "model"),
                  ("Input tokens", "input_tokens"), ("Output tokens", "output_tokens"),
                  ("Cache read", "cache_read_tokens"),
                  ("Cache write", "cache_write_tokens")])  # fmt: skip


def cmd_activity(ctx: Context, args: argparse.Namespace) -> None:
    client = ctx.client()
    runtime_id = resolve_runtime(client, args.id)
    activity = client.get(f"/api/runtimes/{runtime_id}/activity", params={"tz": args.tz}) or []
    emit(activity, ctx.output, default="table", columns=[("Hour", "hour"), ("Count", "count")])
