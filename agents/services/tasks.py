"""Task status changes that users and the server make (spec §7.1, §7.3, §7.5): cancel, the
agent's derived status, and the task events.

Every change happens under the task's row lock, publishes its event on commit
(``task:cancelled {task_id, agent_id, issue_id, status}``, actor ``system``), and re-derives the
agent's status: ``working`` iff it has a ``dispatched`` or ``running`` task, else ``idle``
(Multica's ``RefreshAgentStatusFromTasks``: a status that is already right is not rewritten and
publishes nothing).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

from django.db import connection, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from agents.models import Agent, AgentInvocationTarget, AgentTask
from agents.task_wire import task_event_payload
from issues.selectors import issue_get
from multica_site.errors import Conflict, NotFound, PermissionDenied, ValidationError
from multica_site.events import publish
from multica_site.wire import format_time
from runtimes.models import TaskToken
from workspaces.context import ADMINS, WorkspaceContext

TASK_QUEUED = "task:queued"
TASK_CANCELLED = "task:cancelled"
AGENT_STATUS = "agent:status"

CANCELLABLE_STATUSES = ("queued", "dispatched", "running", "waiting_local_directory", "deferred")
PENDING_STATUSES = ("queued", "dispatched")
WORKING_STATUSES = ("dispatched", "running")

TASK_NOT_FOUND = "task not found"
NO_AGENT_ACCESS = "you do not have access to this agent"


# --- events -----------------------------------------------------------------------------------


def task_event_publish(event_type: str, task: AgentTask, **extra: Any) -> None:
    """A task lifecycle event to the task's workspace, as the system (§7.5)."""
    publish(event_type, task_event_payload(task, **extra), workspace_id=task.workspace_id)


def _masked_runtime_config(config: Any) -> Any:
    if not isinstance(config, dict):
        return config
    gateway = config.get("gateway")
    if isinstance(gateway, dict) and gateway.get("token"):
        return {**config, "gateway": {**gateway, "token": "***"}}
    return config


def agent_status_partial(agent: Agent) -> dict[str, Any]:
    """The partial agent of a task-driven ``agent:status`` (Multica's ``agentToMap``)."""
    return {
        "id": str(agent.id),
        "workspace_id": str(agent.workspace_id),
        "runtime_id": str(agent.runtime_id) if agent.runtime_id else "",
        "name": agent.name,
        "description": agent.description,
        "avatar_url": agent.avatar_url,
        "runtime_mode": agent.runtime_mode,
        "runtime_config": _masked_runtime_config(agent.runtime_config),
        "visibility": agent.visibility,
        "status": agent.status,
        "max_concurrent_tasks": agent.max_concurrent_tasks,
        "owner_id": str(agent.owner_id) if agent.owner_id else None,
        "skills": [],
        "created_at": format_time(agent.created_at),
        "updated_at": format_time(agent.updated_at),
        "archived_at": format_time(agent.archived_at),
        "archived_by": str(agent.archived_by) if agent.archived_by else None,
    }


def agent_status_reconcile(*, agent_id: Any) -> str | None:
    """Re-derive the agent's status from its tasks; publish ``agent:status`` when it changed.
    Returns the new status, or ``None`` when nothing changed (or the agent is gone)."""
    working = AgentTask.objects.filter(agent_id=agent_id, status__in=WORKING_STATUSES).exists()
    desired = Agent.Status.WORKING if working else Agent.Status.IDLE
    changed = (
        Agent.objects.filter(pk=agent_id)
        .exclude(status=desired)
        .update(status=desired, updated_at=timezone.now())
    )
    if not changed:
        return None
    agent = Agent.objects.filter(pk=agent_id).first()
    if agent is None:
        return None
    publish(AGENT_STATUS, {"agent": agent_status_partial(agent)}, workspace_id=agent.workspace_id)
    return desired


def agents_mark_working(agent_ids: Iterable[Any]) -> None:
    """Agents that were just handed a dispatched task are ``working`` — what
    :func:`agent_status_reconcile` concludes for each, in one UPDATE; ``agent:status`` goes out
    for those whose status changed."""
    ids = list(dict.fromkeys(agent_ids))
    if not ids:
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE agent SET status = %s, updated_at = %s WHERE id = ANY(%s) AND status <> %s"
            " RETURNING id",
            [Agent.Status.WORKING, timezone.now(), ids, Agent.Status.WORKING],
        )
        changed = [row[0] for row in cursor.fetchall()]
    if not changed:
        return
    for agent in Agent.objects.filter(pk__in=changed):
        payload = {"agent": agent_status_partial(agent)}
        publish(AGENT_STATUS, payload, workspace_id=agent.workspace_id)


# --- cancel -----------------------------------------------------------------------------------


def _cancel_locked(tasks: Iterable[AgentTask]) -> list[AgentTask]:
    """Cancel already-locked active rows; events and agent status follow."""
    now = timezone.now()
    cancelled = []
    for task in tasks:
        if task.status not in CANCELLABLE_STATUSES:
            continue
        task.status = AgentTask.Status.CANCELLED
        task.completed_at = now
        task.prepare_lease_expires_at = None
        task.save(
            update_fields=["status", "completed_at", "prepare_lease_expires_at", "updated_at"]
        )
        cancelled.append(task)
    if cancelled:
        # The attempt is over: its task token dies in the same transaction.
        TaskToken.objects.filter(task_id__in=[t.id for t in cancelled]).delete()
    for task in cancelled:
        task_event_publish(TASK_CANCELLED, task)
    for agent_id in dict.fromkeys(t.agent_id for t in cancelled):
        agent_status_reconcile(agent_id=agent_id)
    return cancelled


def tasks_cancel_where(*, ctx: WorkspaceContext, qs: QuerySet[AgentTask]) -> list[AgentTask]:
    """Cancel every active task of ``qs`` (restricted to ``ctx.workspace``)."""
    with transaction.atomic():
        rows = list(
            qs.filter(workspace_id=ctx.workspace_id, status__in=CANCELLABLE_STATUSES)
            .select_for_update()
            .order_by("created_at", "id")
        )
        return _cancel_locked(rows)


def tasks_cancel_for_issue(*, ctx: WorkspaceContext, issue_id: Any) -> list[AgentTask]:
    """Issue deletion: its active tasks end as ``cancelled`` (before the rows cascade away)."""
    return tasks_cancel_where(ctx=ctx, qs=AgentTask.objects.filter(issue_id=issue_id))


def tasks_cancel_for_comments(
    *, ctx: WorkspaceContext, comment_ids: list[uuid.UUID]
) -> list[AgentTask]:
    """Comment deletion: the active tasks whose trigger (or a coalesced input) is one of the
    deleted comments."""
    if not comment_ids:
        return []
    qs = AgentTask.objects.filter(
        Q(trigger_comment_id__in=comment_ids) | Q(coalesced_comment_ids__overlap=comment_ids)
    )
    return tasks_cancel_where(ctx=ctx, qs=qs)


def _parse_task_id(task_id: Any) -> uuid.UUID:
    try:
        return uuid.UUID(str(task_id))
    except ValueError as exc:
        raise NotFound(TASK_NOT_FOUND, code="task_not_found") from exc


def _not_cancellable(task: AgentTask) -> ValidationError:
    return ValidationError(
        f"task cannot be cancelled: it is already {task.status}", code="task_not_cancellable"
    )


def task_cancel_for_issue(*, ctx: WorkspaceContext, issue_ref: Any, task_id: Any) -> AgentTask:
    """``POST /api/issues/{id}/tasks/{taskId}/cancel``: 404 unless the task is this issue's;
    400 when it already ended."""
    issue = issue_get(ctx=ctx, issue_ref=issue_ref)
    task_uuid = _parse_task_id(task_id)
    with transaction.atomic():
        task = (
            AgentTask.objects.select_for_update()
            .filter(pk=task_uuid, workspace_id=ctx.workspace_id, issue_id=issue.pk)
            .first()
        )
        if task is None:
            raise NotFound(TASK_NOT_FOUND, code="task_not_found")
        if task.status not in CANCELLABLE_STATUSES:
            raise _not_cancellable(task)
        _cancel_locked([task])
    return task


def can_view_agent(ctx: WorkspaceContext, agent: Agent) -> bool:
    """The view gate that also guards id-only task cancellation (§5.5)."""
    if ctx.actor.type == "agent":
        return True
    user_id = str(ctx.user.pk) if ctx.user is not None else ""
    if user_id and agent.owner_id is not None and str(agent.owner_id) == user_id:
        return True
    if ctx.role in ADMINS:
        return True
    if agent.permission_mode != Agent.PermissionMode.PUBLIC_TO:
        return False
    for target_type, target_id in AgentInvocationTarget.objects.filter(
        agent_id=agent.pk
    ).values_list("target_type", "target_id"):
        if target_type == "workspace" or (target_type == "member" and str(target_id) == user_id):
            return True
    return False


def task_cancel(
    *,
    ctx: WorkspaceContext,
    task_id: Any,
    expected_status: str | None = None,
    chat_session_id: str | None = None,
    queue_action: str | None = None,
) -> AgentTask:
    """``POST /api/tasks/{taskId}/cancel``: 404 outside the workspace, 403 without access to the
    agent, 400 when the task already ended. ``expected_status=queued`` is the chat queue's
    conditional cancel (409 when the task is no longer queued)."""
    task_uuid = _parse_task_id(task_id)
    task = AgentTask.objects.filter(pk=task_uuid, workspace_id=ctx.workspace_id).first()
    if task is None:
        raise NotFound(TASK_NOT_FOUND, code="task_not_found")
    if expected_status:
        if expected_status != "queued":
            raise ValidationError("expected_status must be queued")
        try:
            uuid.UUID(str(chat_session_id or ""))
        except ValueError as exc:
            raise ValidationError("invalid chat_session_id") from exc
        # Chat sessions are not built: no task belongs to one, so the chat queue's conditional
        # cancel (and its queue_action) never applies.
        raise Conflict("task does not belong to the expected chat session")
    agent = Agent.objects.filter(pk=task.agent_id, workspace_id=ctx.workspace_id).first()
    if agent is None:
        raise NotFound(TASK_NOT_FOUND, code="task_not_found")
    if not can_view_agent(ctx, agent):
        raise PermissionDenied(NO_AGENT_ACCESS)
    with transaction.atomic():
        task = AgentTask.objects.select_for_update().get(pk=task.pk)
        if task.status not in CANCELLABLE_STATUSES:
            raise _not_cancellable(task)
        _cancel_locked([task])
    return task
