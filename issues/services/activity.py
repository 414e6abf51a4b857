"""The issue activity log (spec §3.6): one row per semantic change, each announced as
``activity:created {issue_id, entry}`` after commit.

Actions written here: ``created`` (``{}``), ``status_changed``, ``priority_changed``,
``title_changed``, ``start_date_changed``, ``due_date_changed`` (``{from, to}``),
``assignee_changed`` (``{from_type, from_id, to_type, to_id}``, keys present only when set) and
``description_updated`` (``{}``). Other domains (tasks, agents) record their own actions through
:func:`activity_record`.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from issues.models import ActivityLog
from issues.wire import activity_entry_wire
from multica_site.events import publish

if TYPE_CHECKING:
    from issues.models import Issue
    from workspaces.context import Actor, WorkspaceContext

ACTIVITY_CREATED = "activity:created"


def _actor_fields(actor: Actor) -> tuple[str | None, uuid.UUID | None]:
    actor_id: uuid.UUID | None = None
    if actor.id:
        try:
            actor_id = uuid.UUID(str(actor.id))
        except ValueError:
            actor_id = None
    return actor.type or None, actor_id


def activity_record_many(
    *,
    ctx: WorkspaceContext,
    issue: Issue | None,
    entries: Iterable[tuple[str, dict[str, Any]]],
    actor: Actor | None = None,
) -> list[ActivityLog]:
    """Insert ``(action, details)`` rows in one statement and publish one event per row."""
    actor = actor or ctx.actor
    actor_type, actor_id = _actor_fields(actor)
    rows = [
        ActivityLog(
            workspace_id=ctx.workspace_id,
            issue=issue,
            actor_type=actor_type,
            actor_id=actor_id,
            action=action,
            details=details,
        )
        for action, details in entries
    ]
    if not rows:
        return []
    ActivityLog.objects.bulk_create(rows)
    for row in rows:
        publish(
            ACTIVITY_CREATED,
            {"issue_id": str(issue.id) if issue else "", "entry": activity_entry_wire(row)},
            workspace_id=ctx.workspace_id,
            actor=actor,
        )
    return rows


def activity_record(
    *,
    ctx: WorkspaceContext,
    issue: Issue | None,
    action: str,
    details: dict[str, Any] | None = None,
    actor: Actor | None = None,
) -> ActivityLog:
    """Record one activity row (``issue=None`` for workspace-level audit rows)."""
    return activity_record_many(
        ctx=ctx, issue=issue, entries=[(action, details or {})], actor=actor
    )[0]
