"""``multica issue``: list, get, create, update, assign, status, search, comments, labels,
subscribers, runs, usage and the timeline."""

from __future__ import annotations

import argparse
import json
from datetime import datetime
from typing import Any

from multica_cli.client import error_from_response
from multica_cli.commands._common import (
    Actors,
    add_text_flags,
    date_only,
    display_id,
    pick_assignee,
    read_text_flag,
    require_uuid,
    resolve_issue_ref,
    split_ids,
    usage_error,
)
from multica_cli.commands.label import label_columns, resolve_label
from multica_cli.context import Context
from multica_cli.output import emit, info, print_json, print_table

SORT_COLUMNS = ("position", "title", "created_at", "start_date", "due_date", "priority")
DIRECTIONAL_SORTS = SORT_COLUMNS[1:]


def issue_key(issue: dict[str, Any]) -> str:
    return str(issue.get("identifier") or issue.get("id") or "")


def register(subparsers: argparse._SubParsersAction) -> None:
    issue = subparsers.add_parser("issue", help="work with issues")
    sub = issue.add_subparsers(dest="issue_command", metavar="<subcommand>", required=True)

    p = sub.add_parser("list", help="list issues (default output: table)")
    p.add_argument("--status", help="filter by status (comma-separated)")
    p.add_argument("--priority", help="filter by priority")
    p.add_argument("--assignee", help="filter by assignee name (member or agent; fuzzy match)")
    p.add_argument("--assignee-id", help="filter by assignee UUID")
    p.add_argument("--project", help="filter by project ID")
    p.add_argument(
        "--metadata", action="append", default=[], metavar="KEY=VALUE",
        help="filter by metadata (repeatable, AND); the value is parsed as JSON when it can be",
    )  # fmt: skip
    p.add_argument("--limit", type=int, default=50, help="maximum number of issues (default 50)")
    p.add_argument("--offset", type=int, default=0, help="number of issues to skip")
    p.add_argument("--sort", choices=SORT_COLUMNS, help="sort column")
    p.add_argument("--direction", choices=("asc", "desc"), help="sort direction")
    p.add_argument("--full-id", action="store_true", help="show full UUIDs in the table")
    p.set_defaults(func=cmd_list)

    p = sub.add_parser("get", help="show one issue (default output: json)")
    p.add_argument("id", help="issue key (MUL-123) or UUID")
    p.set_defaults(func=cmd_get)

    p = sub.add_parser("create", help="create an issue")
    p.add_argument("--title", required=True, help="issue title")
    add_text_flags(p, "description", "issue description (decodes \\n, \\t, \\\\)")
    p.add_argument("--status", help="issue status")
    p.add_argument("--priority", help="issue priority")
    p.add_argument("--assignee", help="assignee name (member or agent; fuzzy match)")
    p.add_argument("--assignee-id", help="assignee UUID")
    p.add_argument("--parent", help="parent issue (key or UUID)")
    p.add_argument("--stage", type=int, help="stage ordinal (>= 1) under the parent")
    p.add_argument("--project", help="project ID")
    p.add_argument("--start-date", help="start date (YYYY-MM-DD)")
    p.add_argument("--due-date", help="due date (YYYY-MM-DD)")
    p.add_argument("--attachment-id", action="append", default=[], help="attachment UUID")
    p.add_argument("--allow-duplicate", action="store_true", help="allow an active duplicate")
    p.set_defaults(func=cmd_create)

    p = sub.add_parser("update", help="update an issue")
    p.add_argument("id", help="issue key (MUL-123) or UUID")
    p.add_argument("--title", help="new title")
    add_text_flags(p, "description", "new description (decodes \\n, \\t, \\\\)")
    p.add_argument("--status", help="new status")
    p.add_argument("--priority", help="new priority")
    p.add_argument("--assignee", help="new assignee name (member or agent; fuzzy match)")
    p.add_argument("--assignee-id", help="new assignee UUID")
    p.add_argument("--project", help='project ID ("" clears)')
    p.add_argument("--start-date", help='start date (YYYY-MM-DD; "" clears)')
    p.add_argument("--due-date", help='due date (YYYY-MM-DD; "" clears)')
    p.add_argument("--parent", help='parent issue ("" clears)')
    p.add_argument("--stage", type=int, help="stage ordinal (>= 1)")
    p.add_argument("--position", type=float, help="position within the board column")
    p.add_argument("--no-start", action="store_true", help="do not start an agent run")
    p.set_defaults(func=cmd_update)

    p = sub.add_parser("assign", help="assign or unassign an issue")
    p.add_argument("id", help="issue key (MUL-123) or UUID")
    p.add_argument("--to", help="assignee name (member or agent; fuzzy match)")
    p.add_argument("--to-id", help="assignee UUID")
    p.add_argument("--unassign", action="store_true", help="remove the current assignee")
    p.add_argument("--no-start", action="store_true", help="assign without starting an agent run")
    p.set_defaults(func=cmd_assign)

    p = sub.add_parser("status", help="change an issue's status")
    p.add_argument("id", help="issue key (MUL-123) or UUID")
    p.add_argument("status", help="new status key (e.g. todo, in_progress, done)")
    p.add_argument("--no-start", action="store_true", help="do not start an agent run")
    p.set_defaults(func=cmd_status)

    p = sub.add_parser("search", help="search issues by text (default output: table)")
    p.add_argument("query", help="search text")
    p.add_argument("--limit", type=int, default=20, help="maximum number of results")
    p.add_argument("--include-closed", action="store_true", help="include done and cancelled")
    p.set_defaults(func=cmd_search)

    p = sub.add_parser("children", help="sub-issues of an issue (default output: table)")
    p.add_argument("id", help="issue key (MUL-123) or UUID")
    p.set_defaults(func=cmd_children)

    p = sub.add_parser("runs", help="agent runs of an issue (default output: table)")
    p.add_argument("id", help="issue key (MUL-123) or UUID")
    p.set_defaults(func=cmd_runs)

    p = sub.add_parser("run-messages", help="a run's transcript (default output: json)")
    p.add_argument("task_id", help="task UUID")
    p.add_argument("--since", type=int, help="only messages after this sequence number")
    p.set_defaults(func=cmd_run_messages)

    p = sub.add_parser("rerun", help="run the issue's agent again (default output: json)")
    p.add_argument("id", help="issue key (MUL-123) or UUID")
    p.add_argument("--task-id", help="the run to repeat (default: the latest)")
    p.set_defaults(func=cmd_rerun)

    p = sub.add_parser("cancel-task", help="cancel a queued or running agent task")
    p.add_argument("task_id", help="task UUID")
    p.set_defaults(func=cmd_cancel_task)

    comment = sub.add_parser("comment", help="comments on an issue")
    csub = comment.add_subparsers(dest="comment_command", metavar="<subcommand>", required=True)
    p = csub.add_parser("list", help="list comments (default output: table)")
    p.add_argument("issue_id", help="issue key (MUL-123) or UUID")
    p.add_argument("--since", help="only comments created after this RFC 3339 time")
    p.add_argument("--thread", help="the thread containing this comment UUID")
    p.add_argument("--tail", type=int, help="with --thread: the N most recent replies")
    p.add_argument("--recent", type=int, help="the N most recently active threads")
    p.add_argument("--roots-only", action="store_true", help="only top-level comments")
    p.add_argument("--summary", action="store_true", help="clip each comment to a preview")
    p.add_argument("--compact", action="store_true", help="JSON only: drop empty fields")
    p.add_argument("--full", action="store_true", help="do not fold resolved threads")
    p.add_argument("--before", help="cursor timestamp (with --before-id)")
    p.add_argument("--before-id", help="cursor UUID (with --before)")
    p.set_defaults(func=cmd_comment_list)

    p = csub.add_parser("add", help="add a comment (default output: json)")
    p.add_argument("issue_id", help="issue key (MUL-123) or UUID")
    add_text_flags(p, "content", "comment content (decodes \\n, \\t, \\\\)")
    p.add_argument("--parent", help="parent comment UUID to reply under")
    p.add_argument("--attachment-id", action="append", default=[], help="attachment UUID")
    p.set_defaults(func=cmd_comment_add)

    p = csub.add_parser("delete", help="delete a comment")
    p.add_argument("comment_id", help="comment UUID")
    p.set_defaults(func=cmd_comment_delete)

    p = csub.add_parser("resolve", help="resolve a comment thread (default output: json)")
    p.add_argument("comment_id", help="comment UUID")
    p.set_defaults(func=cmd_comment_resolve, resolve=True)

    p = csub.add_parser("unresolve", help="reopen a resolved thread (default output: json)")
    p.add_argument("comment_id", help="comment UUID")
    p.set_defaults(func=cmd_comment_resolve, resolve=False)

    label = sub.add_parser("label", help="labels on an issue")
    lsub = label.add_subparsers(dest="label_command", metavar="<subcommand>", required=True)
    p = lsub.add_parser("list", help="labels on an issue (default output: table)")
    p.add_argument("issue_id", help="issue key (MUL-123) or UUID")
    p.add_argument("--full-id", action="store_true", help="show full UUIDs in the table")
    p.set_defaults(func=cmd_label_list)
    for name, verb in (("add", "attach a label to"), ("remove", "remove a label from")):
        p = lsub.add_parser(name, help=f"{verb} an issue (default output: table)")
        p.add_argument("issue_id", help="issue key (MUL-123) or UUID")
        p.add_argument("label_id", help="label UUID or id prefix")
        p.add_argument("--full-id", action="store_true", help="show full UUIDs in the table")
        p.set_defaults(func=cmd_label_change, label_action=name)

    subscriber = sub.add_parser("subscriber", help="subscribers of an issue")
    ssub = subscriber.add_subparsers(
        dest="subscriber_command", metavar="<subcommand>", required=True
    )
    p = ssub.add_parser("list", help="list subscribers (default output: table)")
    p.add_argument("issue_id", help="issue key (MUL-123) or UUID")
    p.set_defaults(func=cmd_subscriber_list)
    for name, action in (("add", "subscribe"), ("remove", "unsubscribe")):
        p = ssub.add_parser(name, help=f"{action} a member or agent (default: you)")
        p.add_argument("issue_id", help="issue key (MUL-123) or UUID")
        p.add_argument("--user", help="member or agent name (fuzzy match; default: the caller)")
        p.add_argument("--user-id", help="member or agent UUID")
        p.set_defaults(func=cmd_subscriber_change, subscriber_action=action)

    p = sub.add_parser("usage", help="token usage of an issue's runs (default output: table)")
    p.add_argument("id", help="issue key (MUL-123) or UUID")
    p.set_defaults(func=cmd_usage)

    p = sub.add_parser(
        "timeline", aliases=["history"],
        help="an issue's history: activity and comments, oldest first (default output: table)",
    )  # fmt: skip
    p.add_argument("id", help="issue key (MUL-123) or UUID")
    p.add_argument("--activity-only", action="store_true", help="drop comments")
    p.add_argument(
        "--action", action="append", default=[],
        help="only activities with these actions (repeatable or comma-separated; "
        "implies --activity-only), e.g. status_changed, assignee_changed",
    )  # fmt: skip
    p.add_argument("--since", help="only entries created after this RFC 3339 time")
    p.add_argument("--tail", type=int, help="only the N most recent entries (after the filters)")
    p.add_argument("--full-id", action="store_true", help="show full UUIDs in the table")
    p.set_defaults(func=cmd_timeline)


def issue_fields(actors: Actors) -> list[Any]:
    """Key/value lines for one issue in table output (names fetched only when printed)."""
    return [
        ("Key", "identifier"),
        ("ID", "id"),
        ("Title", "title"),
        ("Status", "status"),
        ("Priority", "priority"),
        ("Assignee", lambda i: actors.name(i.get("assignee_type"), i.get("assignee_id"))),
        ("Parent", "parent_issue_id"),
        ("Project", "project_id"),
        ("Start date", lambda i: date_only(i.get("start_date"))),
        ("Due date", lambda i: date_only(i.get("due_date"))),
        ("Created", "created_at"),
        ("Updated", "updated_at"),
        ("Description", "description"),
    ]


def _metadata_filter(values: list[str]) -> str:
    out: dict[str, Any] = {}
    for item in values:
        key, eq, raw = item.partition("=")
        if not eq or not key.strip():
            raise usage_error(f"--metadata expects key=value, got {item!r}")
        try:
            value: Any = json.loads(raw)
        except json.JSONDecodeError:
            value = raw
        out[key.strip()] = value
    return json.dumps(out, separators=(",", ":"))


def cmd_list(ctx: Context, args: argparse.Namespace) -> None:
    client = ctx.client()
    actors = Actors(client)
    params: dict[str, Any] = {"status": args.status, "priority": args.priority}
    if args.limit and args.limit > 0:
        params["limit"] = args.limit
    if args.offset and args.offset > 0:
        params["offset"] = args.offset
    picked = pick_assignee(actors, args.assignee, args.assignee_id, "--assignee", "--assignee-id")
    if picked:
        params["assignee_id"] = picked[1]
    if args.project:
        params["project_id"] = args.project
    if args.metadata:
        params["metadata"] = _metadata_filter(args.metadata)
    if args.sort:
        params["sort"] = args.sort
    if args.direction:
        if args.sort not in DIRECTIONAL_SORTS:
            raise usage_error(
                "--direction requires --sort to be one of " + ", ".join(DIRECTIONAL_SORTS)
            )
        params["direction"] = args.direction
    result = client.get("/api/issues", params=params)
    issues = list(result.get("issues") or [])
    total = int(result.get("total") or 0)
    if (ctx.output or "table") == "json":
        print_json(
            {
                "issues": issues,
                "total": total,
                "limit": args.limit,
                "offset": args.offset,
                "has_more": args.offset + len(issues) < total,
            }
        )
        return
    columns = [
        ("Key", issue_key),
        ("Title", "title"),
        ("Status", "status"),
        ("Priority", "priority"),
        ("Assignee", lambda i: actors.name(i.get("assignee_type"), i.get("assignee_id"))),
        ("Start date", lambda i: date_only(i.get("start_date"))),
        ("Due date", lambda i: date_only(i.get("due_date"))),
    ]
    if args.full_id:
        columns.insert(1, ("ID", "id"))
    print_table(issues, columns)


def cmd_get(ctx: Context, args: argparse.Namespace) -> None:
    issue = ctx.client().get(f"/api/issues/{resolve_issue_ref(args.id)}")
    emit(issue, ctx.output, fields=issue_fields(Actors(ctx.client())))


def _assignee_body(ctx: Context, args: argparse.Namespace, body: dict[str, Any]) -> None:
    picked = pick_assignee(
        Actors(ctx.client()), args.assignee, args.assignee_id, "--assignee", "--assignee-id"
    )
    if picked:
        body["assignee_type"], body["assignee_id"] = picked


def cmd_create(ctx: Context, args: argparse.Namespace) -> None:
    client = ctx.client()
    title = args.title.strip()
    if not title:
        raise usage_error("--title is required")
    body: dict[str, Any] = {"title": title}
    description = read_text_flag(args, "description")
    if description:
        body["description"] = description
    for flag, key in (("status", "status"), ("priority", "priority"), ("project", "project_id"),
                      ("start_date", "start_date"), ("due_date", "due_date")):  # fmt: skip
        value = getattr(args, flag)
        if value:
            body[key] = value
    if args.parent:
        body["parent_issue_id"] = _issue_uuid(ctx, args.parent)
    if args.stage is not None:
        body["stage"] = args.stage
    if args.attachment_id:
        body["attachment_ids"] = args.attachment_id
    if args.allow_duplicate:
        body["allow_duplicate"] = True
    _assignee_body(ctx, args, body)
    issue = client.post("/api/issues", json=body)
    info(f"Issue {issue_key(issue)} created.")
    emit(issue, ctx.output, fields=issue_fields(Actors(ctx.client())))


def _issue_uuid(ctx: Context, ref: str) -> str:
    """A parent reference as a UUID (the server's parent_issue_id is a UUID)."""
    ref = resolve_issue_ref(ref)
    if "-" in ref and len(ref) == 36:
        return ref
    return str(ctx.client().get(f"/api/issues/{ref}")["id"])


def cmd_update(ctx: Context, args: argparse.Namespace) -> None:
    client = ctx.client()
    ref = resolve_issue_ref(args.id)
    body: dict[str, Any] = {}
    if args.title is not None:
        body["title"] = args.title
    description = read_text_flag(args, "description")
    if description is not None:
        body["description"] = description
    for flag in ("status", "priority"):
        value = getattr(args, flag)
        if value is not None:
            if not value:
                raise usage_error(f"--{flag} cannot be empty")
            body[flag] = value
    for flag, key in (("project", "project_id"), ("start_date", "start_date"),
                      ("due_date", "due_date")):  # fmt: skip
        value = getattr(args, flag)
        if value is not None:
            body[key] = value or None
    if args.parent is not None:
        body["parent_issue_id"] = _issue_uuid(ctx, args.parent) if args.parent else None
    if args.stage is not None:
        body["stage"] = args.stage
    if args.position is not None:
        body["position"] = args.position
    _assignee_body(ctx, args, body)
    if not body:
        raise usage_error("nothing to update: pass at least one field flag")
    if args.no_start:
        body["suppress_run"] = True
    issue = client.put(f"/api/issues/{ref}", json=body)
    info(f"Issue {issue_key(issue)} updated.")
    emit(issue, ctx.output, fields=issue_fields(Actors(ctx.client())))


def cmd_assign(ctx: Context, args: argparse.Namespace) -> None:
    has_target = args.to is not None or args.to_id is not None
    if not has_target and not args.unassign:
        raise usage_error("provide --to <name>, --to-id <uuid>, or --unassign")
    if has_target and args.unassign:
        raise usage_error("--to/--to-id and --unassign are mutually exclusive")
    if args.no_start and args.unassign:
        raise usage_error("--no-start cannot be used with --unassign")
    client = ctx.client()
    ref = resolve_issue_ref(args.id)
    actors = Actors(client)
    body: dict[str, Any]
    if args.unassign:
        body = {"assignee_type": None, "assignee_id": None}
        target = ""
    else:
        picked = pick_assignee(actors, args.to, args.to_id, "--to", "--to-id")
        assert picked is not None  # noqa: S101 - has_target
        body = {"assignee_type": picked[0], "assignee_id": picked[1]}
        target = args.to or actors.name(*picked)
        if args.no_start:
            body["suppress_run"] = True
    issue = client.put(f"/api/issues/{ref}", json=body)
    if args.unassign:
        info(f"Issue {issue_key(issue)} unassigned.")
    else:
        info(f"Issue {issue_key(issue)} assigned to {target}.")
    if (ctx.output or "json") == "json":
        print_json(issue)


def cmd_status(ctx: Context, args: argparse.Namespace) -> None:
    status = args.status.strip()
    if not status:
        raise usage_error("status is required")
    body: dict[str, Any] = {"status": status}
    if args.no_start:
        body["suppress_run"] = True
    issue = ctx.client().put(f"/api/issues/{resolve_issue_ref(args.id)}", json=body)
    info(f"Issue {issue_key(issue)} status changed to {status}.")
    if ctx.output == "json":
        print_json(issue)


def cmd_search(ctx: Context, args: argparse.Namespace) -> None:
    params: dict[str, Any] = {"q": args.query}
    if args.limit and args.limit > 0:
        params["limit"] = args.limit
    if args.include_closed:
        params["include_closed"] = "true"
    result = ctx.client().get("/api/issues/search", params=params)

    def match(issue: dict[str, Any]) -> str:
        text = str(issue.get("match_source") or "")
        snippet = str(issue.get("matched_snippet") or "")
        if snippet:
            text += ": " + (snippet if len(snippet) <= 50 else snippet[:47] + "...")
        return text

    emit(
        result,
        ctx.output,
        default="table",
        rows=result.get("issues") or [],
        columns=[("Key", issue_key), ("Title", "title"), ("Status", "status"), ("Match", match)],
    )


def cmd_comment_list(ctx: Context, args: argparse.Namespace) -> None:
    if args.recent is not None and args.recent <= 0:
        raise usage_error("--recent must be a positive integer")
    if args.tail is not None and args.tail < 0:
        raise usage_error("--tail must be a non-negative integer")
    if args.tail is not None and not args.thread:
        raise usage_error("--tail requires --thread")
    if args.thread and args.recent is not None:
        raise usage_error("--thread and --recent are mutually exclusive")
    if args.roots_only and (args.thread or args.recent is not None or args.tail is not None):
        raise usage_error("--roots-only cannot be combined with --thread, --recent or --tail")
    if bool(args.before) != bool(args.before_id):
        raise usage_error("--before and --before-id must be set together")
    client = ctx.client()
    ref = resolve_issue_ref(args.issue_id)
    params: dict[str, Any] = {
        "since": args.since,
        "thread": args.thread,
        "tail": args.tail,
        "recent": args.recent,
        "before": args.before,
        "before_id": args.before_id,
    }
    if args.roots_only:
        params["roots_only"] = "true"
    if args.summary:
        params["summary"] = "true"
    if not args.roots_only and not args.since and args.tail is None and not args.full:
        params["fold"] = "true"
    response = client.send("GET", f"/api/issues/{ref}/comments", params=params)
    if response.status_code >= 400:
        raise error_from_response(response)
    comments = response.json()
    next_before = response.headers.get("X-Multica-Next-Before")
    next_before_id = response.headers.get("X-Multica-Next-Before-Id")
    if next_before and next_before_id:
        replies = bool(args.thread) and args.tail is not None
        label = "Next reply cursor" if replies else "Next thread cursor"
        info(f"{label}: --before {next_before} --before-id {next_before_id}")
    if (ctx.output or "table") == "json":
        if args.compact:
            comments = [_compact(c) for c in comments]
        print_json(comments)
        return
    actors = Actors(client)

    def content(c: dict[str, Any]) -> str:
        text = " ".join(str(c.get("content") or "").split())
        return text if len(text) <= 80 else text[:77] + "..."

    print_table(
        comments,
        [
            ("ID", "id"),
            ("Parent", lambda c: c.get("parent_id") or "—"),
            ("Author", lambda c: actors.name(c.get("author_type"), c.get("author_id"))),
            ("Type", "type"),
            ("Content", content),
            ("Created", lambda c: str(c.get("created_at") or "")[:16]),
        ],
    )


def _compact(comment: dict[str, Any]) -> dict[str, Any]:
    out = {
        k: v
        for k, v in comment.items()
        if v is not None and v != [] and k not in ("issue_id", "source_task_id")
    }
    if out.get("updated_at") == out.get("created_at"):
        out.pop("updated_at", None)
    return out


def cmd_comment_add(ctx: Context, args: argparse.Namespace) -> None:
    content = read_text_flag(args, "content")
    if content is None:
        raise usage_error("--content, --content-stdin, or --content-file is required")
    if not content.strip():
        raise usage_error("comment content is empty")
    client = ctx.client()
    ref = resolve_issue_ref(args.issue_id)
    body: dict[str, Any] = {"content": content}
    if args.parent:
        body["parent_id"] = args.parent
    if args.attachment_id:
        body["attachment_ids"] = args.attachment_id
    comment = client.post(f"/api/issues/{ref}/comments", json=body)
    info(f"Comment added to issue {ref}.")
    if (ctx.output or "json") == "json":
        print_json(comment)


def cmd_comment_delete(ctx: Context, args: argparse.Namespace) -> None:
    comment_id = require_uuid("comment", args.comment_id)
    ctx.client().delete(f"/api/comments/{comment_id}")
    info(f"Comment {comment_id} deleted.")


def cmd_comment_resolve(ctx: Context, args: argparse.Namespace) -> None:
    comment_id = require_uuid("comment", args.comment_id)
    path = f"/api/comments/{comment_id}/resolve"
    client = ctx.client()
    comment = client.post(path) if args.resolve else client.delete(path)
    info(f"Comment {comment_id} {'resolved' if args.resolve else 'unresolved'}.")
    if (ctx.output or "json") == "json":
        print_json(comment)


def _labels_out(ctx: Context, result: Any, full_id: bool) -> None:
    labels = list((result or {}).get("labels") or [])
    emit(labels, ctx.output, default="table", columns=label_columns(full_id))


def cmd_label_list(ctx: Context, args: argparse.Namespace) -> None:
    result = ctx.client().get(f"/api/issues/{resolve_issue_ref(args.issue_id)}/labels")
    _labels_out(ctx, result, args.full_id)


def cmd_label_change(ctx: Context, args: argparse.Namespace) -> None:
    client = ctx.client()
    ref = resolve_issue_ref(args.issue_id)
    label_id = resolve_label(client, args.label_id)
    if args.label_action == "add":
        result = client.post(f"/api/issues/{ref}/labels", json={"label_id": label_id})
        info(f"Label {label_id} attached to issue {ref}.")
    else:
        result = client.delete(f"/api/issues/{ref}/labels/{label_id}")
        info(f"Label {label_id} removed from issue {ref}.")
    _labels_out(ctx, result, args.full_id)


def cmd_subscriber_list(ctx: Context, args: argparse.Namespace) -> None:
    client = ctx.client()
    subscribers = client.get(f"/api/issues/{resolve_issue_ref(args.issue_id)}/subscribers") or []
    actors = Actors(client)
    emit(subscribers, ctx.output, default="table",
         columns=[("User", lambda s: actors.name(s.get("user_type"), s.get("user_id"))),
                  ("Type", "user_type"), ("Reason", "reason"),
                  ("Created", lambda s: str(s.get("created_at") or "")[:16])])  # fmt: skip


def cmd_subscriber_change(ctx: Context, args: argparse.Namespace) -> None:
    client = ctx.client()
    ref = resolve_issue_ref(args.issue_id)
    actors = Actors(client)
    picked = pick_assignee(actors, args.user, args.user_id, "--user", "--user-id")
    body: dict[str, Any] = {}
    target = "you"
    if picked:
        body = {"user_type": picked[0], "user_id": picked[1]}
        target = args.user or actors.name(*picked)
    action = args.subscriber_action
    result = client.post(f"/api/issues/{ref}/{action}", json=body)
    if action == "subscribe":
        info(f"Subscribed {target} to issue {ref}.")
    else:
        info(f"Unsubscribed {target} from issue {ref}.")
    if (ctx.output or "json") == "json":
        print_json(result)


def cmd_usage(ctx: Context, args: argparse.Namespace) -> None:
    usage = ctx.client().get(f"/api/issues/{resolve_issue_ref(args.id)}/usage") or {}
    emit(usage, ctx.output, default="table", rows=[usage],
         columns=[("Input tokens", "total_input_tokens"),
                  ("Output tokens", "total_output_tokens"),
                  ("Cache read", "total_cache_read_tokens"),
                  ("Cache write", "total_cache_write_tokens"),
                  ("Runs", "task_count")])  # fmt: skip


def _parse_time(value: str, flag: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        parsed = None
    if parsed is None or parsed.tzinfo is None:
        raise usage_error(f"invalid {flag} {value!r}: expected RFC 3339, e.g. 2026-08-19T00:00:00Z")
    return parsed


def timeline_filter(
    entries: list[dict[str, Any]],
    *,
    activity_only: bool = False,
    actions: set[str] | None = None,
    since: datetime | None = None,
    tail: int | None = None,
) -> list[dict[str, Any]]:
    """Narrow the (oldest-first) timeline client-side: the endpoint takes no filters."""
    out = []
    for entry in entries:
        if (activity_only or actions) and entry.get("type") != "activity":
            continue
        if actions and entry.get("action") not in actions:
            continue
        if since is not None:
            try:
                created = datetime.fromisoformat(str(entry.get("created_at") or ""))
            except ValueError:
                continue
            if created.tzinfo is None or created <= since:
                continue
        out.append(entry)
    if tail:
        out = out[-tail:]
    return out


def _timeline_actor(actors: Actors, kind: Any, ident: Any, full_id: bool) -> str:
    if not kind and not ident:
        return ""
    if not ident:
        return str(kind)  # a system actor has a type and no id
    if not kind:
        return display_id(ident, full_id)
    name = actors.name(str(kind), str(ident))
    if full_id and name == f"{kind}:{display_id(ident, False)}":
        return f"{kind}:{ident}"
    return name


def _transition(before: Any, after: Any) -> str:
    return f"{before or '(none)'} → {after or '(none)'}"


def _timeline_detail(entry: dict[str, Any], actors: Actors, full_id: bool) -> str:
    if entry.get("type") == "comment":
        return str(entry.get("content") or "")
    details = entry.get("details")
    if not isinstance(details, dict) or not details:
        return ""
    if "from" in details or "to" in details:
        return _transition(details.get("from"), details.get("to"))
    if {"from_type", "from_id", "to_type", "to_id"} & details.keys():
        return _transition(
            _timeline_actor(actors, details.get("from_type"), details.get("from_id"), full_id),
            _timeline_actor(actors, details.get("to_type"), details.get("to_id"), full_id),
        )
    return " ".join(f"{key}={details[key]}" for key in sorted(details))


def cmd_timeline(ctx: Context, args: argparse.Namespace) -> None:
    if args.tail is not None and args.tail < 0:
        raise usage_error("--tail must be >= 0")
    actions = set(split_ids(args.action))
    since = _parse_time(args.since, "--since") if args.since else None
    client = ctx.client()
    # Without paging parameters the endpoint answers with the whole timeline, oldest first.
    response = client.send("GET", f"/api/issues/{resolve_issue_ref(args.id)}/timeline")
    if response.status_code >= 400:
        raise error_from_response(response)
    kinds = response.headers.get("X-Timeline-Truncated")
    if kinds:
        info(
            f"warning: timeline truncated by the server cap ({kinds}): older entries are "
            'missing. Durations and "first entered <status>" cannot be concluded from this read.'
        )
    entries = timeline_filter(
        list(response.json() or []), activity_only=args.activity_only, actions=actions,
        since=since, tail=args.tail,
    )  # fmt: skip
    actors = Actors(client)
    emit(entries, ctx.output, default="table",
         columns=[("Time", lambda e: str(e.get("created_at") or "")[:16]),
                  ("Type", lambda e: e.get("action") or e.get("type")),
                  ("Actor", lambda e: _timeline_actor(actors, e.get("actor_type"),
                                                      e.get("actor_id"), args.full_id)),
                  ("Detail", lambda e: _timeline_detail(e, actors, args.full_id))])  # fmt: skip


TASK_COLUMNS = [
    ("ID", "id"),
    ("Agent", "agent_id"),
    ("Kind", "kind"),
    ("Status", "status"),
    ("Attempt", "attempt"),
    ("Created", "created_at"),
    ("Error", "error"),
]


def cmd_children(ctx: Context, args: argparse.Namespace) -> None:
    client = ctx.client()
    result = client.get(f"/api/issues/{resolve_issue_ref(args.id)}/children")
    issues = result.get("issues") or []
    emit(result, ctx.output, default="table", rows=issues,
         columns=[("Key", issue_key), ("Title", "title"), ("Status", "status"),
                  ("Stage", "stage")])  # fmt: skip


def cmd_runs(ctx: Context, args: argparse.Namespace) -> None:
    client = ctx.client()
    runs = client.get(f"/api/issues/{resolve_issue_ref(args.id)}/task-runs") or []
    actors = Actors(client)
    columns = [(t, g) if t != "Agent" else (t, lambda r: actors.name("agent", r.get("agent_id")))
               for t, g in TASK_COLUMNS]  # fmt: skip
    emit(runs, ctx.output, default="table", columns=columns)


def cmd_run_messages(ctx: Context, args: argparse.Namespace) -> None:
    params = {"since": args.since} if args.since is not None else None
    messages = ctx.client().get(f"/api/tasks/{args.task_id}/messages", params=params) or []
    emit(messages, ctx.output,
         columns=[("Seq", "seq"), ("Type", "type"), ("Tool", "tool"),
                  ("Content", lambda m: m.get("content") or m.get("output") or "")])  # fmt: skip


def cmd_rerun(ctx: Context, args: argparse.Namespace) -> None:
    body = {"task_id": args.task_id} if args.task_id else {}
    task = ctx.client().post(f"/api/issues/{resolve_issue_ref(args.id)}/rerun", json=body)
    info(f"Rerun queued: task {task.get('id')}.")
    emit(task, ctx.output, fields=TASK_COLUMNS)


def cmd_cancel_task(ctx: Context, args: argparse.Namespace) -> None:
    task = ctx.client().post(f"/api/tasks/{args.task_id}/cancel")
    info(f"Task {args.task_id} is {task.get('status')}.")
    emit(task, ctx.output, fields=TASK_COLUMNS)
