"""Attachments (spec §10), owned by the labels/projects/attachments area."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from issues.models import Comment, Issue
    from workspaces.context import WorkspaceContext


def attachments_link(
    *,
    ctx: WorkspaceContext,
    attachment_ids: Iterable[Any],
    issue: Issue | None = None,
    comment: Comment | None = None,
) -> None:
    """Link uploaded attachments of ``ctx.workspace`` to an issue and/or comment.

    Ids of another workspace or unknown ids raise ValidationError (400), nothing linked.
    """
