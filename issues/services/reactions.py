"""Issue reactions (spec §3.3): one per (issue, actor, emoji). Adding or removing one bumps the
issue's revision and publishes ``issue_reaction:added`` / ``issue_reaction:removed``."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from django.db import transaction

from issues.models import IssueReaction
from issues.selectors import issue_get
from issues.wire import reaction_wire
from multica_site.errors import ValidationError
from multica_site.events import publish
from workspaces.context import WorkspaceContext

ISSUE_REACTION_ADDED = "issue_reaction:added"
ISSUE_REACTION_REMOVED = "issue_reaction:removed"
MAX_EMOJI_LENGTH = 64


@dataclass
class AddedReaction:
    reaction: IssueReaction
    issue_revision: int | None  # set when this call created the reaction


def _emoji(value: Any) -> str:
    if value is not None and not isinstance(value, str):
        raise ValidationError("invalid request body")
    if not value:
        raise ValidationError("emoji is required")
    if len(value) > MAX_EMOJI_LENGTH:
        raise ValidationError("emoji is too long")
    return value


def _actor(ctx: WorkspaceContext) -> tuple[str, uuid.UUID]:
    try:
        return ctx.actor.type, uuid.UUID(str(ctx.actor.id))
    except ValueError as exc:
        raise ValidationError("an actor is required to react") from exc


def issue_reaction_add(*, ctx: WorkspaceContext, issue_ref: Any, emoji: Any) -> AddedReaction:
    """Add the actor's ``emoji`` to the issue; adding it twice returns the existing reaction."""
    issue = issue_get(ctx=ctx, issue_ref=issue_ref)
    emoji = _emoji(emoji)
    actor_type, actor_id = _actor(ctx)
    with transaction.atomic():
        issue = issue_get(ctx=ctx, issue_ref=issue.pk, for_update=True)
        reaction, created = IssueReaction.objects.get_or_create(
            issue=issue,
            actor_type=actor_type,
            actor_id=actor_id,
            emoji=emoji,
            defaults={"workspace_id": ctx.workspace_id},
        )
        if not created:
            return AddedReaction(reaction, None)
        issue.revision += 1
        issue.save(update_fields=["revision"])
        publish(
            ISSUE_REACTION_ADDED,
            {
                "reaction": reaction_wire(reaction, issue.revision),
                "issue_id": str(issue.pk),
                "issue_title": issue.title,
                "issue_status": issue.status,
                "creator_type": issue.creator_type,
                "creator_id": str(issue.creator_id),
                "issue_revision": issue.revision,
            },
            workspace_id=ctx.workspace_id,
            actor=ctx.actor,
        )
    return AddedReaction(reaction, issue.revision)


def issue_reaction_remove(*, ctx: WorkspaceContext, issue_ref: Any, emoji: Any) -> bool:
    """Remove the actor's ``emoji``; removing an absent reaction is a no-op (still 204)."""
    issue = issue_get(ctx=ctx, issue_ref=issue_ref)
    emoji = _emoji(emoji)
    actor_type, actor_id = _actor(ctx)
    with transaction.atomic():
        issue = issue_get(ctx=ctx, issue_ref=issue.pk, for_update=True)
        deleted, _ = IssueReaction.objects.filter(
            issue=issue, actor_type=actor_type, actor_id=actor_id, emoji=emoji
        ).delete()
        if not deleted:
            return False
        issue.revision += 1
        issue.save(update_fields=["revision"])
        publish(
            ISSUE_REACTION_REMOVED,
            {
                "issue_id": str(issue.pk),
                "emoji": emoji,
                "actor_type": actor_type,
                "actor_id": str(actor_id),
                "issue_revision": issue.revision,
            },
            workspace_id=ctx.workspace_id,
            actor=ctx.actor,
        )
    return True
