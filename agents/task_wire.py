"""Wire shapes of the task queue: ``AgentTask`` (spec §7.2) and ``TaskMessage`` (§7.4).

Field order and omission rules are Multica's ``taskToResponse`` / ``taskMessageToPayload``:
``delivered_comment_ids`` is always present, optional fields are left out when empty.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable
from typing import Any

from agents.models import AgentTask, TaskMessage
from multica_site.wire import format_time, format_time_nano
from usage.task_usage import task_usage_by_task
from workspaces.models import User

TASK_DIR_SEGMENT_LEN = 12
_HOME_RE = re.compile(r"^(?:[A-Za-z]:)?/(?:Users|home)/[^/]+/?(.*)$")


def task_kind(task: AgentTask) -> str:
    """``comment`` (issue + trigger comment), ``direct`` (issue, no comment), ``quick_create``."""
    if task.issue_id is None:
        return "quick_create"
    if task.trigger_comment_id is not None:
        return "comment"
    return "direct"


def relative_work_dir(work_dir: str | None, workspace_id: str, task_id: str) -> str:
    """A display form of the daemon's work dir that never shows the home directory."""
    if not work_dir:
        return ""
    normalized = work_dir.replace("\\", "/")
    if workspace_id and task_id:
        segment = task_id.replace("-", "")[-TASK_DIR_SEGMENT_LEN:]
        idx = normalized.find(f"{workspace_id}/{segment}")
        if idx >= 0:
            return normalized[idx:]
    match = _HOME_RE.match(normalized)
    if match:
        return match.group(1).rstrip("/")
    return normalized.rstrip("/").rsplit("/", 1)[-1]


def _attribution_source(task: AgentTask) -> tuple[str, bool]:
    if task.originator_user_id is None:
        return "unattributed", False
    if task.initiator_user_id is None or task.initiator_user_id == task.originator_user_id:
        return "direct_human", True
    return "delegation", True


def _user_ref(user_id: uuid.UUID, users: dict[uuid.UUID, User]) -> dict[str, Any]:
    ref: dict[str, Any] = {"id": str(user_id)}
    user = users.get(user_id)
    if user is not None:
        if getattr(user, "name", ""):
            ref["name"] = user.name
        if user.email:
            ref["email"] = user.email
        avatar = getattr(user, "avatar_url", None)
        if avatar:
            ref["avatar_url"] = avatar
    return ref


def attribution_wire(task: AgentTask, users: dict[uuid.UUID, User]) -> dict[str, Any]:
    source, precise = _attribution_source(task)
    out: dict[str, Any] = {"source": source, "precise": precise}
    initiator = task.initiator_user_id or task.originator_user_id
    if initiator is not None:
        out["initiator"] = _user_ref(initiator, users)
    if task.originator_user_id is not None:
        out["originator"] = _user_ref(task.originator_user_id, users)
    if task.trigger_comment_id is not None:
        out["evidence"] = {"kind": "comment", "ref_id": str(task.trigger_comment_id)}
    if task.retry_of_task_id is not None:
        out["retry_of_task_id"] = str(task.retry_of_task_id)
    if task.rerun_of_task_id is not None:
        out["rerun_of_task_id"] = str(task.rerun_of_task_id)
    return out


def users_for(tasks: Iterable[AgentTask]) -> dict[uuid.UUID, User]:
    """The initiators and originators of ``tasks``, in one query (names for attribution)."""
    ids = {
        uid for t in tasks for uid in (t.initiator_user_id, t.originator_user_id) if uid is not None
    }
    if not ids:
        return {}
    return {u.pk: u for u in User.objects.filter(pk__in=ids)}


def task_wire(
    task: AgentTask,
    *,
    users: dict[uuid.UUID, User] | None = None,
    usage: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """``AgentTaskResponse``. Pass ``users`` from :func:`users_for` when rendering a list;
    ``usage`` (one entry per provider and model, :mod:`usage.task_usage`) is left out when
    empty."""
    if users is None:
        users = users_for([task])
    task_id = str(task.id)
    workspace_id = str(task.workspace_id)
    out: dict[str, Any] = {
        "id": task_id,
        "agent_id": str(task.agent_id),
        "runtime_id": str(task.runtime_id) if task.runtime_id else "",
        "issue_id": str(task.issue_id) if task.issue_id else "",
        "workspace_id": workspace_id,
        "status": task.status,
        "priority": task.priority,
        "dispatched_at": format_time(task.dispatched_at),
        "started_at": format_time(task.started_at),
        "completed_at": format_time(task.completed_at),
        "result": task.result,
        "error": task.error,
    }
    if task.failure_reason:
        out["failure_reason"] = task.failure_reason
    out["attempt"] = task.attempt
    out["max_attempts"] = task.max_attempts
    if task.parent_task_id is not None:
        out["parent_task_id"] = str(task.parent_task_id)
    out["created_at"] = format_time(task.created_at)
    if task.work_dir:
        out["work_dir"] = task.work_dir
        relative = relative_work_dir(task.work_dir, workspace_id, task_id)
        if relative:
            out["relative_work_dir"] = relative
    if task.trigger_comment_id is not None:
        out["trigger_comment_id"] = str(task.trigger_comment_id)
    if task.coalesced_comment_ids:
        out["coalesced_comment_ids"] = [str(c) for c in task.coalesced_comment_ids]
    out["delivered_comment_ids"] = [str(c) for c in task.delivered_comment_ids or []]
    if task.trigger_summary is not None:
        out["trigger_summary"] = task.trigger_summary
    if task.handoff_note:
        out["handoff_note"] = task.handoff_note
    out["kind"] = task_kind(task)
    out["attribution"] = attribution_wire(task, users)
    if usage:
        out["usage"] = usage
    return out


def tasks_wire(tasks: Iterable[AgentTask]) -> list[dict[str, Any]]:
    """Task lists (issue task runs, active tasks, an agent's tasks), each with its ``usage``."""
    tasks = list(tasks)
    users = users_for(tasks)
    usage = task_usage_by_task([t.id for t in tasks])
    return [task_wire(t, users=users, usage=usage.get(str(t.id))) for t in tasks]


def task_event_payload(task: AgentTask, **extra: Any) -> dict[str, Any]:
    """The shared task-lifecycle payload (§7.5): ``{task_id, agent_id, issue_id, status}``."""
    payload: dict[str, Any] = {
        "task_id": str(task.id),
        "agent_id": str(task.agent_id),
        "issue_id": str(task.issue_id) if task.issue_id else "",
        "status": task.status,
    }
    payload.update(extra)
    return payload


def task_message_wire(message: TaskMessage, *, issue_id: Any = None) -> dict[str, Any]:
    """``TaskMessagePayload``: empty optional fields are left out."""
    out: dict[str, Any] = {"task_id": str(message.task_id)}
    if issue_id:
        out["issue_id"] = str(issue_id)
    out["seq"] = message.seq
    out["type"] = message.type
    if message.tool:
        out["tool"] = message.tool
    if message.content:
        out["content"] = message.content
    if message.input:
        out["input"] = message.input
    if message.output:
        out["output"] = message.output
    created = format_time_nano(message.created_at)
    if created:
        out["created_at"] = created
    return out


__all__ = [
    "attribution_wire",
    "relative_work_dir",
    "task_event_payload",
    "task_kind",
    "task_message_wire",
    "task_wire",
    "tasks_wire",
    "users_for",
]
