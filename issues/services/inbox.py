"""The inbox (spec §3.8): delivery primitives, the recipient's own actions, and notification
preferences.

Delivery (used by :mod:`issues.services.notifications`) follows Multica's listeners: members
only, the actor is never notified, a muted preference group suppresses the item, and every new
item is announced to its recipient alone as ``inbox:new {item}``.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from typing import Any

from django.db import transaction

from issues.models import InboxItem, Issue, IssueStatus, NotificationPreference
from issues.selectors_conversation import (
    inbox_item_get,
    notification_preferences_for,
    notification_preferences_get,
)
from issues.services.statuses import CLOSED_CATEGORIES
from multica_site.errors import ValidationError
from multica_site.events import publish
from multica_site.wire import format_time
from workspaces.context import WorkspaceContext

INBOX_NEW = "inbox:new"
INBOX_READ = "inbox:read"
INBOX_UNREAD = "inbox:unread"
INBOX_ARCHIVED = "inbox:archived"
INBOX_UNARCHIVED = "inbox:unarchived"
INBOX_BATCH_READ = "inbox:batch-read"
INBOX_BATCH_ARCHIVED = "inbox:batch-archived"

# Which preference group silences which item type; types not listed are always delivered.
NOTIF_TYPE_GROUP: dict[str, str] = {
    "issue_assigned": "assignments",
    "unassigned": "assignments",
    "assignee_changed": "assignments",
    "status_changed": "status_changes",
    "new_comment": "comments",
    "mentioned": "mentions",
    "priority_changed": "updates",
    "start_date_changed": "updates",
    "due_date_changed": "updates",
    "task_completed": "agent_activity",
    "task_failed": "agent_activity",
    "agent_blocked": "agent_activity",
    "agent_completed": "agent_activity",
}
PREFERENCE_GROUPS = frozenset(
    {
        "assignments",
        "status_changes",
        "comments",
        "mentions",
        "updates",
        "agent_activity",
        "system_notifications",  # a delivery-channel toggle sharing the same map
    }
)
PREFERENCE_VALUES = frozenset({"all", "muted"})


# --- wire ------------------------------------------------------------------------------------


def inbox_item_wire(item: InboxItem, *, issue_status: str | None = None) -> dict[str, Any]:
    """``InboxItem``; ``issue_status`` defaults to the loaded issue's status."""
    if issue_status is None and item.issue_id is not None:
        issue = item.issue if InboxItem.issue.is_cached(item) else None
        issue_status = issue.status if issue is not None else None
    return {
        "id": str(item.id),
        "workspace_id": str(item.workspace_id),
        "recipient_type": item.recipient_type,
        "recipient_id": str(item.recipient_id),
        "type": item.type,
        "severity": item.severity,
        "issue_id": str(item.issue_id) if item.issue_id else None,
        "title": item.title,
        "body": item.body,
        "read": item.read,
        "archived": item.archived,
        "created_at": format_time(item.created_at),
        "issue_status": issue_status,
        "actor_type": item.actor_type,
        "actor_id": str(item.actor_id) if item.actor_id else None,
        "details": item.details,
    }


# --- delivery --------------------------------------------------------------------------------


def is_muted(preferences: Mapping[str, Any] | None, notif_type: str) -> bool:
    group = NOTIF_TYPE_GROUP.get(notif_type)
    return bool(group and preferences and preferences.get(group) == "muted")


def _actor_uuid(ctx: WorkspaceContext) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(ctx.actor.id))
    except ValueError:
        return None


def inbox_deliver(
    *,
    ctx: WorkspaceContext,
    issue: Issue,
    recipient_ids: Iterable[uuid.UUID],
    notif_type: str,
    severity: str = "info",
    title: str | None = None,
    body: str | None = None,
    details: dict[str, str] | None = None,
) -> list[uuid.UUID]:
    """Create one item per member recipient (actor and muted recipients skipped), announce
    each with ``inbox:new``, and return who got one. Recipients must be members already
    checked by the caller; duplicates are collapsed, order kept."""
    actor_id = _actor_uuid(ctx)
    recipients = [r for r in dict.fromkeys(recipient_ids) if r is not None and r != actor_id]
    if not recipients:
        return []
    prefs = notification_preferences_for(workspace_id=ctx.workspace_id, user_ids=recipients)
    recipients = [r for r in recipients if not is_muted(prefs.get(r), notif_type)]
    items = InboxItem.objects.bulk_create(
        [
            InboxItem(
                workspace_id=ctx.workspace_id,
                recipient_type="member",
                recipient_id=recipient,
                type=notif_type,
                severity=severity,
                issue=issue,
                title=issue.title if title is None else title,
                body=body or None,  # Multica stores an empty body as NULL
                actor_type=ctx.actor.type or None,
                actor_id=actor_id,
                details=details if details is not None else {},
            )
            for recipient in recipients
        ]
    )
    for item in items:
        publish(
            INBOX_NEW,
            {"item": inbox_item_wire(item, issue_status=issue.status)},
            workspace_id=ctx.workspace_id,
            actor=ctx.actor,
            user_ids=[item.recipient_id],
        )
    return recipients


def inbox_archive_stale_task_failed(*, ctx: WorkspaceContext, issue: Issue) -> None:
    """An issue that moved past failure (in_review/done/cancelled) retires its task_failed
    items; each member recipient hears ``inbox:batch-archived``."""
    rows = InboxItem.objects.filter(
        workspace_id=ctx.workspace_id, issue_id=issue.id, type="task_failed", archived=False
    )
    counts: dict[uuid.UUID, int] = {}
    for recipient_type, recipient_id in rows.values_list("recipient_type", "recipient_id"):
        if recipient_type == "member":
            counts[recipient_id] = counts.get(recipient_id, 0) + 1
    if not counts:
        return
    rows.update(archived=True)
    for recipient_id, count in counts.items():
        publish(
            INBOX_BATCH_ARCHIVED,
            {
                "recipient_id": str(recipient_id),
                "count": count,
                "issue_id": str(issue.id),
                "reason": "issue_status_terminal",
            },
            workspace_id=ctx.workspace_id,
            actor=ctx.actor,
            user_ids=[recipient_id],
        )


# --- the recipient's actions -----------------------------------------------------------------


def _item_event(
    ctx: WorkspaceContext, event: str, item: InboxItem, *, with_issue: bool = False
) -> None:
    payload: dict[str, Any] = {"item_id": str(item.id)}
    if with_issue:
        payload["issue_id"] = str(item.issue_id) if item.issue_id else None
    payload["recipient_id"] = str(item.recipient_id)
    publish(
        event,
        payload,
        workspace_id=ctx.workspace_id,
        actor=ctx.actor,
        user_ids=[item.recipient_id],
    )


def _set_item(ctx: WorkspaceContext, item_id: Any, **fields: bool) -> InboxItem:
    item = inbox_item_get(ctx=ctx, item_id=item_id, for_update=True)
    for name, value in fields.items():
        setattr(item, name, value)
    item.save(update_fields=list(fields))
    return item


def inbox_item_mark_read(*, ctx: WorkspaceContext, item_id: Any) -> InboxItem:
    with transaction.atomic():
        item = _set_item(ctx, item_id, read=True)
        _item_event(ctx, INBOX_READ, item)
    return item


def inbox_item_mark_unread(*, ctx: WorkspaceContext, item_id: Any) -> InboxItem:
    """Item-level on purpose (the inbox shows an issue group's newest item)."""
    with transaction.atomic():
        item = _set_item(ctx, item_id, read=False)
        _item_event(ctx, INBOX_UNREAD, item)
    return item


def _siblings(item: InboxItem) -> Any:
    return InboxItem.objects.filter(
        workspace_id=item.workspace_id,
        recipient_type=item.recipient_type,
        recipient_id=item.recipient_id,
        issue_id=item.issue_id,
    )


def inbox_item_archive(*, ctx: WorkspaceContext, item_id: Any) -> InboxItem:
    """Archiving is issue-level: the recipient's other items of that issue go too."""
    with transaction.atomic():
        item = _set_item(ctx, item_id, archived=True)
        if item.issue_id is not None:
            _siblings(item).filter(archived=False).update(archived=True)
        _item_event(ctx, INBOX_ARCHIVED, item, with_issue=True)
    return item


def inbox_item_unarchive(*, ctx: WorkspaceContext, item_id: Any) -> InboxItem:
    """The inverse of archive, group-wide; ``read`` is left as it was."""
    with transaction.atomic():
        item = _set_item(ctx, item_id, archived=False)
        if item.issue_id is not None:
            _siblings(item).filter(archived=True).update(archived=False)
        _item_event(ctx, INBOX_UNARCHIVED, item, with_issue=True)
    return item


def _mine(ctx: WorkspaceContext) -> Any:
    if ctx.user is None:
        return InboxItem.objects.none()
    return InboxItem.objects.filter(
        workspace_id=ctx.workspace_id, recipient_type="member", recipient_id=ctx.user.pk
    )


def _batch(ctx: WorkspaceContext, event: str, count: int) -> int:
    recipient = ctx.user.pk if ctx.user is not None else None
    publish(
        event,
        {"recipient_id": str(recipient) if recipient else "", "count": count},
        workspace_id=ctx.workspace_id,
        actor=ctx.actor,
        user_ids=[recipient] if recipient else [],
    )
    return count


def inbox_mark_all_read(*, ctx: WorkspaceContext) -> int:
    with transaction.atomic():
        count = _mine(ctx).filter(archived=False, read=False).update(read=True)
        return _batch(ctx, INBOX_BATCH_READ, count)


def inbox_archive_all(*, ctx: WorkspaceContext) -> int:
    with transaction.atomic():
        count = _mine(ctx).filter(archived=False).update(archived=True)
        return _batch(ctx, INBOX_BATCH_ARCHIVED, count)


def inbox_archive_all_read(*, ctx: WorkspaceContext) -> int:
    with transaction.atomic():
        count = _mine(ctx).filter(archived=False, read=True).update(archived=True)
        return _batch(ctx, INBOX_BATCH_ARCHIVED, count)


def inbox_archive_completed(*, ctx: WorkspaceContext) -> int:
    """Archive items whose issue is closed (status category done or cancelled)."""
    closed_keys = set(CLOSED_CATEGORIES) | set(
        IssueStatus.objects.filter(
            workspace_id=ctx.workspace_id, category__in=CLOSED_CATEGORIES
        ).values_list("key", flat=True)
    )
    with transaction.atomic():
        count = (
            _mine(ctx)
            .filter(archived=False)
            .filter(issue__workspace_id=ctx.workspace_id, issue__status__in=closed_keys)
            .update(archived=True)
        )
        return _batch(ctx, INBOX_BATCH_ARCHIVED, count)


# --- notification preferences ----------------------------------------------------------------


def notification_preferences_update(
    *, ctx: WorkspaceContext, preferences: Any, merge: bool
) -> dict[str, str]:
    """``PUT`` replaces the map; ``PATCH`` merges the given keys. Groups and values are
    Multica's; anything else is 400."""
    if preferences is None:
        raise ValidationError("preferences field is required")
    if not isinstance(preferences, dict):
        raise ValidationError("invalid request body")
    for key, value in preferences.items():
        if key not in PREFERENCE_GROUPS:
            raise ValidationError(f"invalid preference group: {key}")
        if not isinstance(value, str):
            raise ValidationError("invalid request body")
        if value not in PREFERENCE_VALUES:
            raise ValidationError(f"invalid preference value: {value}")
    if ctx.user is None:
        return dict(preferences)
    with transaction.atomic():
        row, _ = NotificationPreference.objects.select_for_update().get_or_create(
            workspace_id=ctx.workspace_id, user_id=ctx.user.pk
        )
        current = row.preferences if isinstance(row.preferences, dict) and merge else {}
        row.preferences = {**current, **preferences}
        row.save(update_fields=["preferences", "updated_at"])
    return notification_preferences_get(ctx=ctx)
