"""Subscribers and inbox reactions to issue writes (owned by the conversation area).

Called by the issue service inside its transaction, after the row is written.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from issues.models import Issue
    from issues.services.changes import IssueChanges
    from workspaces.context import WorkspaceContext


def issue_created_notify(*, ctx: WorkspaceContext, issue: Issue) -> None:
    """Auto-subscribe creator and assignee; inbox items for the assignee."""


def issue_updated_notify(*, ctx: WorkspaceContext, issue: Issue, changes: IssueChanges) -> None:
    """Subscribe a new assignee / newly mentioned users; inbox items per §3.8."""
