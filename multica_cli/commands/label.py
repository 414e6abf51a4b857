"""``multica label``: the workspace's issue labels (list, get, create, update, delete)."""

from __future__ import annotations

import argparse
from typing import Any

from multica_cli.client import ApiClient
from multica_cli.commands._common import (
    UUID_RE,
    date_only,
    display_id,
    resolve_by_prefix,
    usage_error,
)
from multica_cli.context import Context
from multica_cli.output import emit, info, print_json

LABEL_FIELDS = [
    ("ID", "id"),
    ("Name", "name"),
    ("Color", "color"),
    ("Description", "description"),
    ("Usage count", "usage_count"),
    ("Created", "created_at"),
]


def register(subparsers: argparse._SubParsersAction) -> None:
    label = subparsers.add_parser("label", help="work with issue labels")
    sub = label.add_subparsers(dest="label_command", metavar="<subcommand>", required=True)

    p = sub.add_parser("list", help="list the workspace's labels (default output: table)")
    p.add_argument("--full-id", action="store_true", help="show full UUIDs in the table")
    p.set_defaults(func=cmd_list)

    p = sub.add_parser("get", help="show one label (default output: json)")
    p.add_argument("id", help="label UUID or id prefix")
    p.set_defaults(func=cmd_get)

    p = sub.add_parser("create", help="create a label (default output: json)")
    p.add_argument("--name", required=True, help="label name")
    p.add_argument("--color", required=True, help="hex color like #3b82f6")
    p.add_argument("--description", help="label description")
    p.set_defaults(func=cmd_create)

    p = sub.add_parser("update", help="update a label (default output: json)")
    p.add_argument("id", help="label UUID or id prefix")
    p.add_argument("--name", help="new name")
    p.add_argument("--color", help="new hex color")
    p.add_argument("--description", help='new description ("" clears)')
    p.set_defaults(func=cmd_update)

    p = sub.add_parser("delete", help="delete a label (default output: json)")
    p.add_argument("id", help="label UUID or id prefix")
    p.set_defaults(func=cmd_delete)


def list_labels(client: ApiClient) -> list[dict[str, Any]]:
    result = client.get("/api/labels") or {}
    return list(result.get("labels") or []) if isinstance(result, dict) else []


def resolve_label(client: ApiClient, ref: str) -> str:
    """A label by full UUID or a short id prefix (4+ hex digits) among the workspace's labels."""
    if UUID_RE.match(ref.strip()):
        return ref.strip()
    return resolve_by_prefix("label", ref, list_labels(client))


def label_columns(full_id: bool, *, created: bool = False) -> list[Any]:
    columns: list[Any] = [
        ("ID", lambda label: display_id(label.get("id"), full_id)),
        ("Name", "name"),
        ("Color", "color"),
    ]
    if created:
        columns.append(("Created", lambda label: date_only(label.get("created_at"))))
    return columns


def cmd_list(ctx: Context, args: argparse.Namespace) -> None:
    labels = list_labels(ctx.client())
    emit(labels, ctx.output, default="table", columns=label_columns(args.full_id, created=True))


def cmd_get(ctx: Context, args: argparse.Namespace) -> None:
    client = ctx.client()
    label = client.get(f"/api/labels/{resolve_label(client, args.id)}")
    emit(label, ctx.output, fields=LABEL_FIELDS)


def cmd_create(ctx: Context, args: argparse.Namespace) -> None:
    name = args.name.strip()
    if not name:
        raise usage_error("--name is required")
    if not args.color.strip():
        raise usage_error("--color is required (e.g. #3b82f6)")
    body: dict[str, Any] = {"name": name, "color": args.color.strip()}
    if args.description:
        body["description"] = args.description
    label = ctx.client().post("/api/labels", json=body)
    info(f"Label {label.get('name', name)} created.")
    emit(label, ctx.output, fields=LABEL_FIELDS)


def cmd_update(ctx: Context, args: argparse.Namespace) -> None:
    body: dict[str, Any] = {}
    for flag in ("name", "color", "description"):
        value = getattr(args, flag)
        if value is None:
            continue
        if flag != "description" and not value.strip():
            raise usage_error(f"--{flag} cannot be empty")
        body[flag] = value
    if not body:
        raise usage_error("nothing to update: pass --name, --color or --description")
    client = ctx.client()
    label = client.put(f"/api/labels/{resolve_label(client, args.id)}", json=body)
    info(f"Label {label.get('name', '')} updated.")
    emit(label, ctx.output, fields=LABEL_FIELDS)


def cmd_delete(ctx: Context, args: argparse.Namespace) -> None:
    client = ctx.client()
    label_id = resolve_label(client, args.id)
    client.delete(f"/api/labels/{label_id}")
    info(f"Label {label_id} deleted.")
    if (ctx.output or "json") == "json":
        print_json({"id": label_id, "deleted": True})
