"""Subscribers and inbox reactions to issue and comment writes (spec §3.7, §3.8).

Called by the writing services inside their transaction, after the row is written; every
event they cause is published on commit. The rules are Multica's subscriber and notification
listeners, run synchronously:

* **subscribers**: creator and assignee on create; a new assignee and newly mentioned users on
  update (mentions in the description); the comment author (``commenter``) and the users a
  comment mentions. Opt-out tombstones are never overridden by these rules.
* **inbox** (members only, the actor skipped, per-group mutes): the new assignee gets
  ``issue_assigned`` (action required), the previous member assignee ``unassigned``, the other
  subscribers ``assignee_changed`` / ``status_changed`` / ``priority_changed`` / date changes;
  a comment gives ``new_comment`` to subscribers and ``mentioned`` to mentioned members
  (``@all`` = every member). ``delegated`` subscribers only hear status moves into
  in_review/done/cancelled/blocked, mentions and failures. Status changes also reach the
  parent issue's subscribers (the item points at the child).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import date
from typing import TYPE_CHECKING, Any

from issues.models import IssueStatus
from issues.selectors_conversation import active_subscribers, workspace_member_ids
from issues.services.inbox import inbox_archive_stale_task_failed, inbox_deliver
from issues.services.mentions import Mention, mentions_parse, mentions_resolve
from issues.services.statuses import CATEGORIES
from issues.services.subscribers import SUBSCRIBER_TYPES, subscriber_auto_add
from workspaces.models import Member

if TYPE_CHECKING:
    from issues.models import Comment, CommentReaction, Issue
    from issues.services.changes import IssueChanges
    from workspaces.context import WorkspaceContext

# Item types that also reach the parent issue's subscribers.
PARENT_BUBBLE_TYPES = frozenset({"status_changed"})
# What a ``delegated`` subscriber always hears, and which status arrivals.
DELEGATED_ALWAYS = frozenset({"mentioned", "task_failed", "agent_blocked"})
DELEGATED_STATUSES = frozenset({"in_review", "done", "cancelled", "blocked"})
# Status categories that retire stale task_failed items.
TASK_FAILED_DISMISS = frozenset({"in_review", "done", "cancelled"})


def _uuid(value: Any) -> uuid.UUID | None:
    if value is None or value == "":
        return None
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def status_category(*, workspace_id: uuid.UUID, status: str) -> str:
    """A built-in key is its own category; a custom status inherits its catalog category."""
    if status in CATEGORIES:
        return status
    category = (
        IssueStatus.objects.filter(workspace_id=workspace_id, key=status)
        .values_list("category", flat=True)
        .first()
    )
    return category or status


def _delivers(reason: str, notif_type: str, category: str) -> bool:
    if reason != "delegated":
        return True
    if notif_type in DELEGATED_ALWAYS:
        return True
    return notif_type == "status_changed" and category in DELEGATED_STATUSES


def _subscribe_mentions(ctx: WorkspaceContext, issue: Issue, mentions: Iterable[Mention]) -> None:
    for m in mentions:
        if m.type in SUBSCRIBER_TYPES:
            subscriber_auto_add(
                ctx=ctx, issue=issue, user_type=m.type, user_id=m.id, reason="mentioned"
            )


def _notify_subscribers(
    ctx: WorkspaceContext,
    issue: Issue,
    notif_type: str,
    *,
    severity: str = "info",
    exclude: Iterable[Any] = (),
    body: str | None = None,
    details: dict[str, str] | None = None,
) -> None:
    excluded = {u for u in (_uuid(e) for e in exclude) if u is not None}
    category = ""
    if notif_type == "status_changed":
        category = status_category(workspace_id=ctx.workspace_id, status=issue.status)

    def recipients(subscriber_issue_id: uuid.UUID) -> tuple[list[uuid.UUID], set[uuid.UUID]]:
        subs = [
            s
            for s in active_subscribers(workspace_id=ctx.workspace_id, issue_id=subscriber_issue_id)
            if s.user_type == "member" and s.user_id not in excluded
        ]
        members = workspace_member_ids(
            workspace_id=ctx.workspace_id, user_ids=[s.user_id for s in subs]
        )
        chosen, suppressed = [], set()
        for s in subs:
            if s.user_id not in members:
                continue
            if _delivers(s.reason, notif_type, category):
                chosen.append(s.user_id)
            else:
                suppressed.add(s.user_id)
        return chosen, suppressed

    chosen, suppressed = recipients(issue.id)
    notified = inbox_deliver(
        ctx=ctx,
        issue=issue,
        recipient_ids=chosen,
        notif_type=notif_type,
        severity=severity,
        body=body,
        details=details,
    )
    if notif_type not in PARENT_BUBBLE_TYPES or issue.parent_issue_id is None:
        return
    # The parent's watchers hear about the child (the item links to the child); nobody twice,
    # and nobody the delegated tier just filtered out.
    excluded |= set(notified) | set(chosen) | suppressed
    chosen, _ = recipients(issue.parent_issue_id)
    inbox_deliver(
        ctx=ctx,
        issue=issue,
        recipient_ids=chosen,
        notif_type=notif_type,
        severity=severity,
        body=body,
        details=details,
    )


def _notify_mentioned(
    ctx: WorkspaceContext,
    issue: Issue,
    mentions: Iterable[Mention],
    *,
    skip: Iterable[Any] = (),
    details: dict[str, str] | None = None,
) -> None:
    mentions = list(mentions)
    ids = [m.id for m in mentions if m.type == "member" and m.id is not None]
    if any(m.is_all for m in mentions):
        ids += list(
            Member.objects.filter(workspace_id=ctx.workspace_id)
            .order_by("created_at")
            .values_list("user_id", flat=True)
        )
    skipped = {u for u in (_uuid(s) for s in skip) if u is not None}
    members = workspace_member_ids(workspace_id=ctx.workspace_id, user_ids=ids)
    inbox_deliver(
        ctx=ctx,
        issue=issue,
        recipient_ids=[i for i in ids if i in members and i not in skipped],
        notif_type="mentioned",
        details=details,
    )


def _direct(
    ctx: WorkspaceContext,
    issue: Issue,
    user_type: str | None,
    user_id: Any,
    notif_type: str,
    *,
    severity: str = "info",
    details: dict[str, str] | None = None,
) -> None:
    """One item for one member (an agent, squad or non-member gets nothing)."""
    uid = _uuid(user_id)
    if user_type != "member" or uid is None:
        return
    if uid not in workspace_member_ids(workspace_id=ctx.workspace_id, user_ids=[uid]):
        return
    inbox_deliver(
        ctx=ctx,
        issue=issue,
        recipient_ids=[uid],
        notif_type=notif_type,
        severity=severity,
        details=details,
    )


# --- issue writes ----------------------------------------------------------------------------


def issue_created_notify(*, ctx: WorkspaceContext, issue: Issue) -> None:
    """Auto-subscribe creator, assignee and mentioned users; inbox items for the assignee
    (``issue_assigned``) and for members the description mentions."""
    subscriber_auto_add(
        ctx=ctx,
        issue=issue,
        user_type=issue.creator_type,
        user_id=issue.creator_id,
        reason="creator",
    )
    if (
        issue.assignee_type in SUBSCRIBER_TYPES
        and issue.assignee_id is not None
        and not (
            issue.assignee_type == issue.creator_type and issue.assignee_id == issue.creator_id
        )
    ):
        subscriber_auto_add(
            ctx=ctx,
            issue=issue,
            user_type=issue.assignee_type,
            user_id=issue.assignee_id,
            reason="assignee",
        )
    mentions = mentions_resolve(workspace_id=ctx.workspace_id, content=issue.description)
    _subscribe_mentions(ctx, issue, mentions)

    skip: list[Any] = []
    if issue.assignee_type == "member" and issue.assignee_id is not None:
        skip.append(issue.assignee_id)
        _direct(
            ctx,
            issue,
            "member",
            issue.assignee_id,
            "issue_assigned",
            severity="action_required",
            details={},
        )
    _notify_mentioned(ctx, issue, mentions, skip=skip, details={})


def issue_updated_notify(*, ctx: WorkspaceContext, issue: Issue, changes: IssueChanges) -> None:
    """Subscribe a new assignee / newly mentioned users; inbox items per spec §3.8."""
    prev = changes.prev
    new_mentions: list[Mention] = []
    if changes.changed("description"):
        before = {m.key for m in mentions_parse(prev.get("description"))}
        new_mentions = [
            m
            for m in mentions_resolve(workspace_id=ctx.workspace_id, content=issue.description)
            if m.key not in before
        ]

    # Subscribers first, as Multica's listeners are registered: a new watcher hears this write.
    if (
        changes.assignee_changed
        and issue.assignee_type in SUBSCRIBER_TYPES
        and issue.assignee_id is not None
    ):
        subscriber_auto_add(
            ctx=ctx,
            issue=issue,
            user_type=issue.assignee_type,
            user_id=issue.assignee_id,
            reason="assignee",
        )
    _subscribe_mentions(ctx, issue, new_mentions)

    if changes.assignee_changed:
        prev_type = prev.get("assignee_type", issue.assignee_type)
        prev_id = prev.get("assignee_id", issue.assignee_id)
        details = {
            key: _text(value)
            for key, value in (
                ("prev_assignee_type", prev_type),
                ("prev_assignee_id", prev_id),
                ("new_assignee_type", issue.assignee_type),
                ("new_assignee_id", issue.assignee_id),
            )
            if value not in (None, "")
        }
        _direct(
            ctx,
            issue,
            issue.assignee_type,
            issue.assignee_id,
            "issue_assigned",
            severity="action_required",
            details=details,
        )
        _direct(ctx, issue, prev_type, prev_id, "unassigned", details=details)
        _notify_subscribers(
            ctx, issue, "assignee_changed", exclude=[prev_id, issue.assignee_id], details=details
        )

    if changes.changed("status"):
        _notify_subscribers(
            ctx,
            issue,
            "status_changed",
            details={"from": _text(prev.get("status")), "to": _text(issue.status)},
        )
        category = status_category(workspace_id=ctx.workspace_id, status=issue.status)
        if category in TASK_FAILED_DISMISS:
            inbox_archive_stale_task_failed(ctx=ctx, issue=issue)

    for name, notif_type in (
        ("priority", "priority_changed"),
        ("start_date", "start_date_changed"),
        ("due_date", "due_date_changed"),
    ):
        if changes.changed(name):
            _notify_subscribers(
                ctx,
                issue,
                notif_type,
                details={"from": _text(prev.get(name)), "to": _text(getattr(issue, name))},
            )

    if new_mentions:
        _notify_mentioned(ctx, issue, new_mentions, details={})


# --- comment writes --------------------------------------------------------------------------


def comment_created_notify(
    *, ctx: WorkspaceContext, issue: Issue, comment: Comment, mentions: list[Mention]
) -> None:
    """``new_comment`` to the issue's subscribers, ``mentioned`` to mentioned members; the
    author becomes a ``commenter`` and mentioned members/agents ``mentioned`` subscribers.
    Platform (system) comments notify nobody."""
    if comment.author_type not in SUBSCRIBER_TYPES:
        return
    details = {"comment_id": str(comment.id)}
    _notify_subscribers(ctx, issue, "new_comment", body=comment.content, details=details)
    _notify_mentioned(ctx, issue, mentions, details=details)
    subscriber_auto_add(
        ctx=ctx,
        issue=issue,
        user_type=comment.author_type,
        user_id=comment.author_id,
        reason="commenter",
    )
    _subscribe_mentions(ctx, issue, mentions)


def comment_reaction_notify(
    *, ctx: WorkspaceContext, issue: Issue, comment: Comment, reaction: CommentReaction
) -> None:
    """``reaction_added`` to the comment's author (a member; never to the reactor)."""
    _direct(
        ctx,
        issue,
        comment.author_type,
        comment.author_id,
        "reaction_added",
        details={"emoji": reaction.emoji, "comment_id": str(comment.id)},
    )
