"""Comments and comment reactions (spec §3.5): every write, every event.

A new or deleted comment is activity on its issue: the issue's ``revision`` goes up by one and
``last_activity_at`` advances, under the issue's row lock (taken before the comment's, the
order issue teardown uses). Mentions are stored as :class:`~issues.models.CommentMention` rows
and re-derived on edit. Subscribers and inbox items come from
:mod:`issues.services.notifications`.

Agent triggering belongs to the agents domain: it appends to :data:`COMMENT_TRIGGER_HOOKS`
(called inside the writing transaction for a new comment or a changed body; the outcomes it
returns are sent back as ``trigger_outcomes``) and :data:`COMMENT_DELETING_HOOKS` (cancel the
tasks a comment triggered).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.utils import timezone

from issues.models import Attachment, Comment, CommentReaction, Issue
from issues.selectors import issue_get
from issues.selectors_conversation import comment_get, comment_with_related
from issues.services import attachments as attachment_services
from issues.services import subscribers as subscriber_services
from issues.services.attachments import attachment_wire
from issues.services.mentions import Mention, comment_mentions_replace
from issues.services.notifications import comment_created_notify, comment_reaction_notify
from multica_site.errors import Conflict, PermissionDenied, ValidationError
from multica_site.events import publish
from multica_site.wire import format_time, str_or_none
from workspaces.context import ADMINS, WorkspaceContext

COMMENT_CREATED = "comment:created"
COMMENT_UPDATED = "comment:updated"
COMMENT_DELETED = "comment:deleted"
COMMENT_RESOLVED = "comment:resolved"
COMMENT_UNRESOLVED = "comment:unresolved"
REACTION_ADDED = "reaction:added"
REACTION_REMOVED = "reaction:removed"

CLIENT_COMMENT_TYPES = frozenset({"comment", "progress_update"})
SUMMARY_RUNES = 200
EMOJI_MAX = 64
NOTE_PREFIX = "/note"
# Multica stores platform (system) comments with the zero UUID as their author.
SYSTEM_AUTHOR_ID = uuid.UUID(int=0)


@dataclass(frozen=True)
class CommentTrigger:
    """What a trigger hook sees: the written comment and the request's choices."""

    ctx: WorkspaceContext
    issue: Issue
    comment: Comment
    parent: Comment | None
    suppress_agent_ids: tuple[uuid.UUID, ...]
    edited: bool = False


# hook(trigger) -> [{target_type, target_id, status, reason_code}, …]
CommentTriggerHook = Callable[[CommentTrigger], list[dict[str, Any]]]
COMMENT_TRIGGER_HOOKS: list[CommentTriggerHook] = []
# hook(ctx, comment): before a comment (and its replies) is deleted.
COMMENT_DELETING_HOOKS: list[Callable[[WorkspaceContext, Comment], None]] = []


@dataclass
class CommentResult:
    comment: Comment
    issue_revision: int = 0
    trigger_outcomes: list[dict[str, Any]] = field(default_factory=list)

    def wire(self) -> dict[str, Any]:
        return comment_wire(
            self.comment, issue_revision=self.issue_revision, trigger_outcomes=self.trigger_outcomes
        )


# --- wire ------------------------------------------------------------------------------------


def reaction_wire(reaction: CommentReaction, *, comment_revision: int = 0) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": str(reaction.id),
        "comment_id": str(reaction.comment_id),
        "actor_type": reaction.actor_type,
        "actor_id": str(reaction.actor_id),
        "emoji": reaction.emoji,
        "created_at": format_time(reaction.created_at),
    }
    if comment_revision > 0:
        out["comment_revision"] = comment_revision
    return out


def summarize_content(content: str) -> tuple[str, bool]:
    """Clip to 200 code points plus an ellipsis (``summary=true``)."""
    if len(content) <= SUMMARY_RUNES:
        return content, False
    return content[:SUMMARY_RUNES] + "…", True


def comment_wire(
    comment: Comment,
    *,
    issue_revision: int = 0,
    trigger_outcomes: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """``CommentResponse``. Reactions and attachments should be prefetched."""
    out: dict[str, Any] = {
        "id": str(comment.id),
        "issue_id": str(comment.issue_id),
        "author_type": comment.author_type,
        "author_id": str(comment.author_id) if comment.author_id else "",
        "content": comment.content,
        "type": comment.type,
        "parent_id": str_or_none(comment.parent_id),
        "created_at": format_time(comment.created_at),
        "updated_at": format_time(comment.updated_at),
        "revision": comment.revision,
    }
    if issue_revision > 0:
        out["issue_revision"] = issue_revision
    out["resolved_at"] = format_time(comment.resolved_at)
    out["resolved_by_type"] = comment.resolved_by_type
    out["resolved_by_id"] = str_or_none(comment.resolved_by_id)
    if comment.source_task_id is not None:
        out["source_task_id"] = str(comment.source_task_id)
    out["reactions"] = [reaction_wire(r) for r in comment.reactions.all()]
    out["attachments"] = [attachment_wire(a) for a in comment.attachments.all()]
    if trigger_outcomes:
        out["trigger_outcomes"] = trigger_outcomes
    return out


# --- helpers ---------------------------------------------------------------------------------


def _uuid_list(values: Iterable[Any] | None, field_name: str) -> list[uuid.UUID]:
    if values is None:
        return []
    if not isinstance(values, list | tuple):
        raise ValidationError(f"invalid {field_name}")
    out = []
    for value in values:
        try:
            out.append(uuid.UUID(str(value)))
        except ValueError as exc:
            raise ValidationError(f"invalid {field_name}") from exc
    return out


def _clean_content(content: Any) -> str:
    text = content if isinstance(content, str) else ""
    text = text.replace("\x00", "")
    if not text:
        raise ValidationError("content is required")
    return text


def _actor_uuid(ctx: WorkspaceContext) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(ctx.actor.id))
    except ValueError:
        return None


def _lock_issue(ctx: WorkspaceContext, issue_id: uuid.UUID) -> Issue:
    return Issue.objects.select_for_update().get(pk=issue_id, workspace_id=ctx.workspace_id)


def _touch_issue(issue: Issue, *, updated: bool = False) -> int:
    """Bump the locked issue's revision and last activity; returns the new revision."""
    now = timezone.now()
    issue.revision += 1
    issue.last_activity_at = max(issue.last_activity_at or issue.updated_at, now)
    fields = ["revision", "last_activity_at"]
    if updated:
        issue.updated_at = now
        fields.append("updated_at")
    issue.save(update_fields=fields)
    return issue.revision


def _is_note(content: str) -> bool:
    """``/note`` as the first token opts a comment out of agent triggering."""
    first = content.lstrip(" \t\r\n").split(maxsplit=1)
    return bool(first) and first[0].lower() == NOTE_PREFIX


def _run_triggers(trigger: CommentTrigger) -> list[dict[str, Any]]:
    if _is_note(trigger.comment.content):
        return []
    outcomes: list[dict[str, Any]] = []
    for hook in list(COMMENT_TRIGGER_HOOKS):
        outcomes.extend(hook(trigger) or [])
    return outcomes


def _can_manage(ctx: WorkspaceContext, comment: Comment) -> bool:
    is_author = comment.author_type == ctx.actor.type and str(comment.author_id) == str(
        ctx.actor.id
    )
    return is_author or ctx.role in ADMINS


def _thread_root(comment: Comment) -> Comment:
    current = comment
    seen = {current.id}
    while current.parent_id is not None:
        parent = Comment.objects.filter(
            pk=current.parent_id, workspace_id=comment.workspace_id, issue_id=comment.issue_id
        ).first()
        if parent is None or parent.id in seen:
            break
        seen.add(parent.id)
        current = parent
    return current


def _publish(ctx: WorkspaceContext, event: str, payload: dict[str, Any]) -> None:
    publish(event, payload, workspace_id=ctx.workspace_id, actor=ctx.actor)


def _unresolve(ctx: WorkspaceContext, comment: Comment) -> None:
    comment.resolved_at = None
    comment.resolved_by_type = None
    comment.resolved_by_id = None
    comment.revision += 1
    comment.updated_at = timezone.now()
    comment.save(
        update_fields=[
            "resolved_at",
            "resolved_by_type",
            "resolved_by_id",
            "revision",
            "updated_at",
        ]
    )
    _publish(ctx, COMMENT_UNRESOLVED, {"comment": comment_wire(comment_with_related(comment))})


# --- comments --------------------------------------------------------------------------------


def comment_create(
    *,
    ctx: WorkspaceContext,
    issue_ref: Any,
    content: Any,
    type: str | None = None,
    parent_id: Any = None,
    attachment_ids: Iterable[Any] | None = None,
    suppress_agent_ids: Iterable[Any] | None = None,
) -> CommentResult:
    """``POST /api/issues/{id}/comments``."""
    with transaction.atomic():
        issue = issue_get(ctx=ctx, issue_ref=issue_ref, for_update=True)
        text = _clean_content(content)
        kind = type or Comment.Type.COMMENT
        if kind not in CLIENT_COMMENT_TYPES:
            raise ValidationError("invalid comment type")
        parent = None
        if parent_id is not None:
            try:
                parent_uuid = uuid.UUID(str(parent_id))
            except ValueError as exc:
                raise ValidationError("invalid parent_id") from exc
            parent = Comment.objects.filter(
                pk=parent_uuid, workspace_id=ctx.workspace_id, issue_id=issue.id
            ).first()
            if parent is None:
                raise ValidationError("invalid parent comment")
        attachments = _uuid_list(attachment_ids, "attachment_ids")
        suppress = tuple(_uuid_list(suppress_agent_ids, "suppress_agent_ids"))

        now = timezone.now()
        comment = Comment.objects.create(
            workspace_id=ctx.workspace_id,
            issue=issue,
            author_type=ctx.actor.type,
            author_id=_actor_uuid(ctx) or SYSTEM_AUTHOR_ID,
            content=text,
            type=kind,
            parent=parent,
            created_at=now,
            updated_at=now,
        )
        issue_revision = _touch_issue(issue, updated=True)
        if attachments:
            attachment_services.attachments_link(
                ctx=ctx, attachment_ids=attachments, issue=issue, comment=comment
            )
        mentions: list[Mention] = comment_mentions_replace(ctx=ctx, comment=comment)

        result = CommentResult(comment=comment_with_related(comment), issue_revision=issue_revision)
        _publish(
            ctx,
            COMMENT_CREATED,
            {
                "comment": result.wire(),
                "issue_title": issue.title,
                "issue_assignee_type": issue.assignee_type,
                "issue_assignee_id": str_or_none(issue.assignee_id),
                "issue_status": issue.status,
                "issue_revision": issue_revision,
            },
        )
        # A reply in a resolved thread re-opens it.
        if parent is not None:
            root = _thread_root(parent)
            if root.resolved_at is not None:
                _unresolve(ctx, root)
        comment_created_notify(ctx=ctx, issue=issue, comment=comment, mentions=mentions)
        result.trigger_outcomes = _run_triggers(
            CommentTrigger(
                ctx=ctx, issue=issue, comment=comment, parent=parent, suppress_agent_ids=suppress
            )
        )
    return result


def comment_update(
    *,
    ctx: WorkspaceContext,
    comment_id: Any,
    content: Any,
    content_base: str | None = None,
    expected_revision: int | None = None,
    attachment_ids: Iterable[Any] | None = None,
    suppress_agent_ids: Iterable[Any] | None = None,
) -> CommentResult:
    """``PUT /api/comments/{id}``: the author or an owner/admin. ``attachment_ids`` (when
    given) replaces the comment's attachment set; ``expected_revision`` / ``content_base``
    make the edit conditional (409 ``revision_conflict``)."""
    with transaction.atomic():
        found = comment_get(ctx=ctx, comment_id=comment_id)
        issue = _lock_issue(ctx, found.issue_id)
        comment = comment_get(ctx=ctx, comment_id=found.id, for_update=True)
        if not _can_manage(ctx, comment):
            raise PermissionDenied("only comment author or admin can edit")
        text = _clean_content(content)
        if content_base is not None:
            content_base = content_base.replace("\x00", "")
        if expected_revision is not None:
            if expected_revision < 1:
                raise ValidationError("expected_revision must be a positive integer")
            if comment.revision != expected_revision:
                raise Conflict(
                    "resource changed since it was loaded",
                    code="revision_conflict",
                    extra={
                        "resource_type": "comment",
                        "resource_id": str(comment.id),
                        "expected_revision": expected_revision,
                        "actual_revision": comment.revision,
                    },
                )
        if content_base is not None and comment.content not in (content_base, text):
            raise Conflict(
                "resource field changed since it was loaded",
                code="revision_conflict",
                extra={"resource_type": "comment", "resource_id": str(comment.id)},
            )
        replace = attachment_ids is not None
        attachments = _uuid_list(attachment_ids, "attachment_ids")
        suppress = tuple(_uuid_list(suppress_agent_ids, "suppress_agent_ids"))

        changed = comment.content != text
        issue_revision = 0
        if changed:
            comment.content = text
            comment.revision += 1
            comment.updated_at = timezone.now()
            is_agent_author = ctx.actor.type == "agent" and comment.author_type == "agent"
            if not is_agent_author:
                comment.source_task_id = None  # an edit is a new action; no inherited lineage
            comment.save(update_fields=["content", "revision", "updated_at", "source_task_id"])
            issue_revision = _touch_issue(issue)
            comment_mentions_replace(ctx=ctx, comment=comment)
        if replace and _attachments_replace(ctx, issue, comment, attachments) and not changed:
            comment.revision += 1
            comment.updated_at = timezone.now()
            comment.save(update_fields=["revision", "updated_at"])

        result = CommentResult(comment=comment_with_related(comment), issue_revision=issue_revision)
        payload: dict[str, Any] = {"comment": result.wire()}
        if issue_revision > 0:
            payload["issue_revision"] = issue_revision
        _publish(ctx, COMMENT_UPDATED, payload)
        if changed:
            parent = (
                Comment.objects.filter(pk=comment.parent_id, workspace_id=ctx.workspace_id).first()
                if comment.parent_id
                else None
            )
            result.trigger_outcomes = _run_triggers(
                CommentTrigger(
                    ctx=ctx,
                    issue=issue,
                    comment=comment,
                    parent=parent,
                    suppress_agent_ids=suppress,
                    edited=True,
                )
            )
    return result


def _attachments_replace(
    ctx: WorkspaceContext, issue: Issue, comment: Comment, attachment_ids: list[uuid.UUID]
) -> bool:
    """Make ``attachment_ids`` the comment's attachment set; True when it changed."""
    linked = Attachment.objects.filter(workspace_id=ctx.workspace_id, comment=comment)
    before = set(linked.values_list("id", flat=True))
    linked.exclude(id__in=attachment_ids).update(comment=None)
    new = [a for a in attachment_ids if a not in before]
    if new:
        attachment_services.attachments_link(
            ctx=ctx, attachment_ids=new, issue=issue, comment=comment
        )
    after = set(linked.values_list("id", flat=True))
    return before != after


def _subtree_ids(comment: Comment) -> list[uuid.UUID]:
    ids, frontier = [comment.id], [comment.id]
    while frontier:
        frontier = list(
            Comment.objects.filter(
                workspace_id=comment.workspace_id, issue_id=comment.issue_id, parent_id__in=frontier
            ).values_list("id", flat=True)
        )
        frontier = [i for i in frontier if i not in ids]
        ids.extend(frontier)
    return ids


def comment_delete(*, ctx: WorkspaceContext, comment_id: Any) -> None:
    """``DELETE /api/comments/{id}``: the author or an owner/admin. Replies go with it, and so
    do the attachments of the deleted comments (rows now, stored files after commit)."""
    with transaction.atomic():
        found = comment_get(ctx=ctx, comment_id=comment_id)
        issue = _lock_issue(ctx, found.issue_id)
        comment = comment_get(ctx=ctx, comment_id=found.id, for_update=True)
        if not _can_manage(ctx, comment):
            raise PermissionDenied("only comment author or admin can delete")
        for hook in list(COMMENT_DELETING_HOOKS):
            hook(ctx, comment)
        doomed = Attachment.objects.filter(
            workspace_id=ctx.workspace_id, comment_id__in=_subtree_ids(comment)
        )
        files = [a.file for a in doomed if a.file]
        doomed.delete()
        for stored in files:
            transaction.on_commit(lambda f=stored: f.storage.delete(f.name), robust=True)
        Comment.objects.filter(pk=comment.pk, workspace_id=ctx.workspace_id).delete()
        issue_revision = _touch_issue(issue)
        _publish(
            ctx,
            COMMENT_DELETED,
            {
                "comment_id": str(comment.id),
                "issue_id": str(comment.issue_id),
                "issue_revision": issue_revision,
            },
        )


def comment_resolve(*, ctx: WorkspaceContext, comment_id: Any) -> Comment:
    """Mark a comment as its thread's resolution (at most one per thread: any other resolved
    comment of the thread is cleared, each with ``comment:unresolved``). Idempotent."""
    with transaction.atomic():
        found = comment_get(ctx=ctx, comment_id=comment_id)
        _lock_issue(ctx, found.issue_id)
        comment = comment_get(ctx=ctx, comment_id=found.id, for_update=True)
        root = _thread_root(comment)
        for other in Comment.objects.filter(
            workspace_id=ctx.workspace_id,
            issue_id=comment.issue_id,
            id__in=_subtree_ids(root),
            resolved_at__isnull=False,
        ).exclude(pk=comment.pk):
            _unresolve(ctx, other)
        if comment.resolved_at is None:
            comment.resolved_at = timezone.now()
            comment.resolved_by_type = ctx.actor.type
            comment.resolved_by_id = _actor_uuid(ctx)
            comment.revision += 1
            comment.updated_at = comment.resolved_at
            comment.save(
                update_fields=[
                    "resolved_at",
                    "resolved_by_type",
                    "resolved_by_id",
                    "revision",
                    "updated_at",
                ]
            )
            _publish(
                ctx, COMMENT_RESOLVED, {"comment": comment_wire(comment_with_related(comment))}
            )
    return comment_with_related(comment)


def comment_unresolve(*, ctx: WorkspaceContext, comment_id: Any) -> Comment:
    """Clear a resolution; a no-op (and no event) when the comment was not resolved."""
    with transaction.atomic():
        comment = comment_get(ctx=ctx, comment_id=comment_id, for_update=True)
        if comment.resolved_at is not None:
            _unresolve(ctx, comment)
    return comment_with_related(comment)


def comment_attachments_changed(ctx: WorkspaceContext, comment_id: uuid.UUID) -> None:
    """An upload to or deletion from a comment (attachments area) changed it: clients get the
    whole comment again as ``comment:updated``. Registered by :func:`register`."""
    comment = Comment.objects.filter(pk=comment_id, workspace_id=ctx.workspace_id).first()
    if comment is not None:
        _publish(ctx, COMMENT_UPDATED, {"comment": comment_wire(comment_with_related(comment))})


def register() -> None:
    """Wire this area into the others (call once from ``IssuesConfig.ready``): attachment
    changes re-announce their comment; a departing member's subscriptions are dropped."""
    hooks = attachment_services.COMMENT_ATTACHMENTS_CHANGED_HOOKS
    if comment_attachments_changed not in hooks:
        hooks.append(comment_attachments_changed)
    subscriber_services.register()


# --- comment reactions -----------------------------------------------------------------------


def _clean_emoji(emoji: Any) -> str:
    if not isinstance(emoji, str) or emoji == "":
        raise ValidationError("emoji is required")
    if len(emoji) > EMOJI_MAX:
        raise ValidationError("invalid emoji")
    return emoji


def comment_reaction_add(
    *, ctx: WorkspaceContext, comment_id: Any, emoji: Any
) -> tuple[CommentReaction, int]:
    """Add the actor's reaction (unique per comment, actor and emoji). Returns the reaction and
    the comment's new revision (0 when it already existed: no event, no bump)."""
    with transaction.atomic():
        comment = comment_get(ctx=ctx, comment_id=comment_id, for_update=True)
        emoji = _clean_emoji(emoji)
        actor_id = _actor_uuid(ctx)
        if actor_id is None:
            raise ValidationError("invalid actor id")
        reaction, created = CommentReaction.objects.get_or_create(
            comment=comment,
            actor_type=ctx.actor.type,
            actor_id=actor_id,
            emoji=emoji,
            defaults={"workspace_id": ctx.workspace_id},
        )
        if not created:
            return reaction, 0
        comment.revision += 1
        comment.save(update_fields=["revision"])
        issue = Issue.objects.get(pk=comment.issue_id, workspace_id=ctx.workspace_id)
        _publish(
            ctx,
            REACTION_ADDED,
            {
                "reaction": reaction_wire(reaction, comment_revision=comment.revision),
                "issue_id": str(comment.issue_id),
                "issue_title": issue.title,
                "issue_status": issue.status,
                "comment_id": str(comment.id),
                "comment_author_type": comment.author_type,
                "comment_author_id": str(comment.author_id) if comment.author_id else "",
                "comment_revision": comment.revision,
            },
        )
        comment_reaction_notify(ctx=ctx, issue=issue, comment=comment, reaction=reaction)
    return reaction, comment.revision


def comment_reaction_remove(*, ctx: WorkspaceContext, comment_id: Any, emoji: Any) -> bool:
    """Remove the actor's reaction; ``reaction:removed`` only when one was there."""
    with transaction.atomic():
        comment = comment_get(ctx=ctx, comment_id=comment_id, for_update=True)
        emoji = _clean_emoji(emoji)
        actor_id = _actor_uuid(ctx)
        deleted, _ = CommentReaction.objects.filter(
            workspace_id=ctx.workspace_id,
            comment=comment,
            actor_type=ctx.actor.type,
            actor_id=actor_id,
            emoji=emoji,
        ).delete()
        if not deleted:
            return False
        comment.revision += 1
        comment.save(update_fields=["revision"])
        _publish(
            ctx,
            REACTION_REMOVED,
            {
                "comment_id": str(comment.id),
                "issue_id": str(comment.issue_id),
                "emoji": emoji,
                "actor_type": ctx.actor.type,
                "actor_id": ctx.actor.id,
                "comment_revision": comment.revision,
            },
        )
    return True
