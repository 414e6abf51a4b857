"""Reads of the task queue for the web (spec §7.3, §7.4). Every query is scoped to
``ctx.workspace``; a foreign task is as unknown as a missing one."""

from __future__ import annotations

import uuid
from typing import Any

from agents.models import ACTIVE_TASK_STATUSES, AgentTask, TaskMessage
from issues.selectors import issue_get
from multica_site.errors import NotFound, ValidationError
from workspaces.context import WorkspaceContext

TASK_NOT_FOUND = "task not found"


def task_get(*, ctx: WorkspaceContext, task_id: Any) -> AgentTask:
    try:
        pk = uuid.UUID(str(task_id))
    except ValueError as exc:
        raise NotFound(TASK_NOT_FOUND, code="task_not_found") from exc
    task = AgentTask.objects.filter(pk=pk, workspace_id=ctx.workspace_id).first()
    if task is None:
        raise NotFound(TASK_NOT_FOUND, code="task_not_found")
    return task


def issue_task_runs(*, ctx: WorkspaceContext, issue_ref: Any) -> list[AgentTask]:
    """Every task of the issue, newest first (the execution log)."""
    issue = issue_get(ctx=ctx, issue_ref=issue_ref)
    return list(
        AgentTask.objects.filter(workspace_id=ctx.workspace_id, issue_id=issue.pk).order_by(
            "-created_at", "-id"
        )
    )


def issue_active_tasks(*, ctx: WorkspaceContext, issue_ref: Any) -> list[AgentTask]:
    """The issue's queued / dispatched / waiting / running tasks, oldest first."""
    issue = issue_get(ctx=ctx, issue_ref=issue_ref)
    return list(
        AgentTask.objects.filter(
            workspace_id=ctx.workspace_id, issue_id=issue.pk, status__in=ACTIVE_TASK_STATUSES
        ).order_by("created_at", "id")
    )


def parse_since(value: Any) -> int | None:
    if value in (None, ""):
        return None
    try:
        return int(str(value))
    except ValueError as exc:
        raise ValidationError("invalid since parameter") from exc


def task_messages(
    *, ctx: WorkspaceContext, task_id: Any, since: int | None = None
) -> tuple[AgentTask, list[TaskMessage]]:
    """A task's messages by ``seq`` (only ``seq > since`` when given)."""
    task = task_get(ctx=ctx, task_id=task_id)
    qs = TaskMessage.objects.filter(workspace_id=ctx.workspace_id, task_id=task.pk)
    if since is not None:
        qs = qs.filter(seq__gt=since)
    return task, list(qs.order_by("seq", "created_at", "id"))
