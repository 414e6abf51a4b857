"""Wire shapes of the board (spec §3.1, §3.2, §3.6): the JSON Multica sends for issues, statuses,
labels embedded in issues, issue reactions and activity entries.

API views and event payloads both render through these functions, so the two never drift.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from issues.wire_catalog import attachment_wire
from multica_site.wire import format_date, format_time, format_time_nano, str_or_none

if TYPE_CHECKING:
    from issues.models import ActivityLog, Attachment, Issue, IssueReaction, IssueStatus, Label
    from workspaces.models import Workspace

# The 7 built-in statuses (spec §3.2): key = category, in display order, with Multica's names,
# descriptions and colours.
BUILTIN_STATUSES: tuple[tuple[str, str, str, str], ...] = (
    ("backlog", "Backlog", "Parked. Assigning an issue here never starts an agent run.", "#6b7280"),
    ("todo", "Todo", "Queued for work. Moving an issue here starts the assigned agent.", "#6b7280"),
    ("in_progress", "In Progress", "Actively being worked on.", "#f59e0b"),
    ("in_review", "In Review",
     "Work delivered, waiting on human review. Finalizes the autopilot run.", "#22c55e"),
    ("done", "Done", "Completed.", "#3b82f6"),
    ("blocked", "Blocked", "Stalled on an external dependency.", "#ef4444"),
    ("cancelled", "Cancelled", "Decided not to do.", "#6b7280"),
)  # fmt: skip
CATEGORIES: tuple[str, ...] = tuple(key for key, _, _, _ in BUILTIN_STATUSES)
CATEGORY_RANK: dict[str, int] = {key: i for i, key in enumerate(CATEGORIES)}
BUILTIN_KEYS = frozenset(CATEGORIES)
CLOSED_CATEGORIES = frozenset({"done", "cancelled"})
PRIORITIES: tuple[str, ...] = ("urgent", "high", "medium", "low", "none")


def issue_prefix(workspace: Workspace) -> str:
    """``<issue_prefix>``; empty ⇒ first 3 letters of the workspace name upper-cased, else WS."""
    prefix = (workspace.issue_prefix or "").strip()
    if prefix:
        return prefix
    letters = [c for c in (workspace.name or "") if c.isascii() and c.isalpha()][:3]
    return "".join(letters).upper() or "WS"


def issue_identifier(prefix: str, number: int) -> str:
    return f"{prefix}-{number}"


def label_wire(label: Label) -> dict[str, Any]:
    """A label as embedded in issues (``labels`` of list/get/create, ``issue_labels:changed``)."""
    return {
        "id": str(label.id),
        "workspace_id": str(label.workspace_id),
        "resource_type": label.resource_type,
        "name": label.name,
        "description": label.description,
        "color": label.color,
        "created_at": format_time(label.created_at),
        "updated_at": format_time(label.updated_at),
    }


def reaction_wire(reaction: IssueReaction, issue_revision: int | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": str(reaction.id),
        "issue_id": str(reaction.issue_id),
        "actor_type": reaction.actor_type,
        "actor_id": str(reaction.actor_id),
        "emoji": reaction.emoji,
        "created_at": format_time(reaction.created_at),
    }
    if issue_revision:
        out["issue_revision"] = issue_revision
    return out


# The columns an ``Issue`` object is rendered from (attnames): a model's ``__dict__`` or a
# ``values(*ISSUE_ROW_FIELDS)`` row.
ISSUE_ROW_FIELDS: tuple[str, ...] = (
    "id", "workspace_id", "number", "title", "description", "status", "priority",
    "assignee_type", "assignee_id", "creator_type", "creator_id", "parent_issue_id",
    "project_id", "position", "stage", "start_date", "due_date", "created_at", "updated_at",
    "revision", "last_activity_at", "metadata", "properties",
)  # fmt: skip


def issue_row_wire(
    row: Mapping[str, Any], *, prefix: str, status_category: str | None = None
) -> dict[str, Any]:
    """The ``Issue`` object (without labels, reactions, attachments) from its column values."""
    status = row["status"]
    metadata = row["metadata"]
    properties = row["properties"]
    return {
        "id": str(row["id"]),
        "workspace_id": str(row["workspace_id"]),
        "number": row["number"],
        "identifier": f"{prefix}-{row['number']}",
        "title": row["title"],
        "description": row["description"],
        "status": status,
        # A built-in key is its own category; a custom key's category comes from the catalog.
        "status_category": status_category or status,
        "priority": row["priority"],
        "assignee_type": row["assignee_type"],
        "assignee_id": str_or_none(row["assignee_id"]),
        "creator_type": row["creator_type"],
        "creator_id": str(row["creator_id"]),
        "parent_issue_id": str_or_none(row["parent_issue_id"]),
        "project_id": str_or_none(row["project_id"]),
        "position": float(row["position"]),
        "stage": row["stage"],
        "start_date": format_date(row["start_date"]),
        "due_date": format_date(row["due_date"]),
        "created_at": format_time(row["created_at"]),
        "updated_at": format_time(row["updated_at"]),
        "revision": row["revision"],
        "last_activity_at": format_time_nano(row["last_activity_at"]),
        "metadata": metadata if isinstance(metadata, dict) else {},
        "properties": properties if isinstance(properties, dict) else {},
    }


def issue_wire(
    issue: Issue,
    *,
    prefix: str,
    status_category: str | None = None,
    labels: Iterable[Label] | None = None,
    reactions: Iterable[IssueReaction] | None = None,
    attachments: Iterable[Attachment] | None = None,
) -> dict[str, Any]:
    """The ``Issue`` object. ``labels=None`` leaves the key out (update responses, issue:updated);
    reactions/attachments are included only when non-empty (GET-one, create)."""
    out = issue_row_wire(issue.__dict__, prefix=prefix, status_category=status_category)
    if reactions is not None:
        rendered = [reaction_wire(r) for r in reactions]
        if rendered:
            out["reactions"] = rendered
    if attachments is not None:
        rendered = [attachment_wire(a) for a in attachments]
        if rendered:
            out["attachments"] = rendered
    if labels is not None:
        out["labels"] = [label_wire(label) for label in labels]
    return out


def status_wire(status: IssueStatus) -> dict[str, Any]:
    return {
        "id": str(status.id),
        "workspace_id": str(status.workspace_id),
        "key": status.key,
        "name": status.name,
        "description": status.description,
        "category": status.category,
        "color": status.color,
        "is_system": status.is_system,
        "position": float(status.position),
        "archived_at": format_time(status.archived_at),
        "created_at": format_time(status.created_at),
        "updated_at": format_time(status.updated_at),
    }


def activity_entry_wire(entry: ActivityLog) -> dict[str, Any]:
    """A ``TimelineEntry`` of type ``activity`` (the ``entry`` of ``activity:created``)."""
    return {
        "type": "activity",
        "id": str(entry.id),
        "actor_type": entry.actor_type or "",
        "actor_id": str(entry.actor_id) if entry.actor_id else "",
        "action": entry.action,
        "details": entry.details if entry.details is not None else {},
        "created_at": format_time(entry.created_at),
    }
