"""Daemon reports on a leased task (daemon spec §1.9–§1.13, server §7.4–§7.5, reliability §3.1).

Fencing: every report names the lease epoch it acts under. A daemon that knows epochs sends it
(``X-Lease-Epoch`` header or ``lease_epoch`` in the body, returned by the claim); Multica's
unchanged daemon sends none, and then the epoch is the task's current one, which is sound
because only the runtime holding the lease can reach the task (``task_for_caller``) and
redelivery goes to that same runtime. A stale epoch, or a report after the attempt ended, is
refused with 409 and changes nothing.

Terminal transitions are one conditional ``UPDATE … WHERE status IN (active) AND lease_epoch =
x`` under the row lock, so each attempt ends exactly once; the task token dies in the same
transaction. complete / fail / cancel-ack honour ``Idempotency-Key`` through ``TaskReport``.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Mapping
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from agents.models import AgentTask, TaskMessage
from agents.services.tasks import agent_status_reconcile, task_event_publish
from agents.task_wire import task_message_wire, task_wire
from multica_site.errors import Conflict, DomainError, ValidationError
from multica_site.events import publish
from multica_site.redact import redact_value, secret_values
from runtimes.models import TaskReport
from runtimes.services.claims import (
    Caller,
    prepare_lease,
    runtimes_accessible,
    task_for_caller,
    task_tokens_revoke,
)
from workspaces import realtime
from workspaces.context import Actor, WorkspaceContext

logger = logging.getLogger("multica.runtimes.reports")

TASK_RUNNING = "task:running"
TASK_WAITING_LOCAL_DIRECTORY = "task:waiting_local_directory"
TASK_PROGRESS = "task:progress"
TASK_MESSAGE = "task:message"
TASK_COMPLETED = "task:completed"
TASK_FAILED = "task:failed"
TASK_CANCELLED = "task:cancelled"

ACTIVE = ("dispatched", "waiting_local_directory", "running")
TERMINAL = ("completed", "failed", "cancelled")
MESSAGE_TYPES = frozenset({"text", "thinking", "tool_use", "tool_result", "error"})
RETRYABLE_REASONS = frozenset(
    {
        "runtime_offline",
        "runtime_recovery",
        "timeout",
        "codex_semantic_inactivity",
        "agent_error.provider_network",
        "skill_bundle_unavailable",
    }
)
DEFAULT_FAILURE_REASON = "agent_error.unknown"
MAX_MESSAGES = 1000


def lease_lost(task: AgentTask) -> Conflict:
    return Conflict(
        "lease lost: the task was reclaimed or has ended",
        code="lease_lost",
        extra={"status": task.status},
    )


def parse_epoch(raw: Any) -> int | None:
    if raw is None or raw == "":
        return None
    try:
        return int(raw)
    except (TypeError, ValueError) as exc:
        raise ValidationError("invalid lease_epoch") from exc


def _locked(caller: Caller, task_id: Any, epoch: int | None) -> tuple[AgentTask, int]:
    """The task row, locked, and the epoch the report acts under (409 if stale)."""
    task = task_for_caller(caller, task_id)
    task = AgentTask.objects.select_for_update().select_related("agent").get(pk=task.pk)
    if epoch is not None and epoch != task.lease_epoch:
        raise lease_lost(task)
    return task, task.lease_epoch


def _strip(value: Any) -> Any:
    if isinstance(value, str):
        return value.replace("\x00", "")
    if isinstance(value, list):
        return [_strip(v) for v in value]
    if isinstance(value, dict):
        return {_strip(k): _strip(v) for k, v in value.items()}
    return value


def _clean(value: Any, secrets: list[str]) -> Any:
    """NULs out and secrets redacted: what agent output must be before it is stored or
    broadcast."""
    return redact_value(_strip(value), secrets)


def _task_secrets(task: AgentTask) -> list[str]:
    return secret_values(task.agent.custom_env)


# --- start / progress / messages / session / status -----------------------------------------


def task_start(*, caller: Caller, task_id: Any, epoch: int | None = None) -> AgentTask:
    with transaction.atomic():
        task, current = _locked(caller, task_id, epoch)
        if task.status == "running":
            return task  # a retried start under the same lease
        if task.status not in ("dispatched", "waiting_local_directory"):
            raise lease_lost(task)
        now = timezone.now()
        AgentTask.objects.filter(
            pk=task.pk, status__in=("dispatched", "waiting_local_directory"), lease_epoch=current
        ).update(status="running", started_at=now, prepare_lease_expires_at=None, updated_at=now)
        task.refresh_from_db()
        task_event_publish(TASK_RUNNING, task)
        agent_status_reconcile(agent_id=task.agent_id)
    return task


def task_wait_local_directory(
    *, caller: Caller, task_id: Any, reason: str, epoch: int | None = None
) -> AgentTask:
    """``…/wait-local-directory``: a prepared task waits for a local directory another task
    holds on this daemon. The row becomes ``waiting_local_directory`` with its reason and a
    fresh prepare lease; ``task:waiting_local_directory`` (+``wait_reason``) goes out. Repeating
    it while waiting updates the reason; any other state is a lost lease (409)."""
    with transaction.atomic():
        task, current = _locked(caller, task_id, epoch)
        if task.status not in ("dispatched", "waiting_local_directory"):
            raise lease_lost(task)
        now = timezone.now()
        reason = _strip(reason)[:2000]
        AgentTask.objects.filter(pk=task.pk, lease_epoch=current).update(
            status="waiting_local_directory",
            wait_reason=reason,
            prepare_lease_expires_at=now + prepare_lease(),
            updated_at=now,
        )
        task.refresh_from_db()
        task_event_publish(TASK_WAITING_LOCAL_DIRECTORY, task, wait_reason=reason)
    return task


def _active(caller: Caller, task_id: Any, epoch: int | None) -> AgentTask:
    task = task_for_caller(caller, task_id)
    if epoch is not None and epoch != task.lease_epoch:
        raise lease_lost(task)
    if task.status not in ACTIVE:
        raise lease_lost(task)
    return task


def task_progress(
    *,
    caller: Caller,
    task_id: Any,
    summary: str,
    step: Any = None,
    total: Any = None,
    epoch: int | None = None,
) -> None:
    """Not stored: ``task:progress`` only."""
    task = _active(caller, task_id, epoch)
    summary = _clean(str(summary or ""), _task_secrets(task))
    payload: dict[str, Any] = {"task_id": str(task.pk), "summary": summary}
    if isinstance(step, int):
        payload["step"] = step
    if isinstance(total, int):
        payload["total"] = total
    with transaction.atomic():
        publish(TASK_PROGRESS, payload, workspace_id=task.workspace_id)


def task_messages_append(
    *, caller: Caller, task_id: Any, messages: list[Mapping[str, Any]], epoch: int | None = None
) -> int:
    if not isinstance(messages, list) or len(messages) > MAX_MESSAGES:
        raise ValidationError("messages must be a list of at most 1000 items")
    rows = []
    for m in messages:
        if not isinstance(m, Mapping) or not isinstance(m.get("seq"), int):
            raise ValidationError("each message needs an integer seq")
        if m.get("type") not in MESSAGE_TYPES:
            raise ValidationError("invalid message type")
        rows.append(m)
    rows.sort(key=lambda m: m["seq"])
    with transaction.atomic():
        task, _ = _locked(caller, task_id, epoch)
        if task.status not in ACTIVE:
            raise lease_lost(task)
        secrets = secret_values(task.agent.custom_env)
        objs = [
            TaskMessage(
                workspace_id=task.workspace_id,
                task_id=task.pk,
                seq=m["seq"],
                type=m["type"],
                tool=_clean(m.get("tool"), secrets) or None,
                content=_clean(m.get("content"), secrets) or None,
                input=_clean(m["input"], secrets) if isinstance(m.get("input"), dict) else None,
                output=_clean(m.get("output"), secrets) or None,
            )
            for m in rows
        ]
        TaskMessage.objects.bulk_create(objs)
        for obj in objs:
            publish(
                TASK_MESSAGE,
                task_message_wire(obj, issue_id=task.issue_id),
                workspace_id=task.workspace_id,
            )
    return len(objs)


def task_session_pin(
    *, caller: Caller, task_id: Any, session_id: Any, work_dir: Any, epoch: int | None = None
) -> None:
    with transaction.atomic():
        task, current = _locked(caller, task_id, epoch)
        if task.status not in ACTIVE:
            raise lease_lost(task)
        fields: dict[str, Any] = {"updated_at": timezone.now()}
        if session_id:
            fields["session_id"] = _strip(str(session_id))
        if work_dir:
            fields["work_dir"] = _strip(str(work_dir))
        AgentTask.objects.filter(pk=task.pk, lease_epoch=current).update(**fields)


def task_status(*, caller: Caller, task_id: Any) -> dict[str, Any]:
    task = task_for_caller(caller, task_id)
    return {"status": task.status, "lease_epoch": task.lease_epoch}


# --- terminal transitions -------------------------------------------------------------------


def _finish(
    task: AgentTask, epoch: int, status: str, *, also: tuple[str, ...] = (), **fields: Any
) -> bool:
    """The one terminal transition of an attempt; False if it already ended or was reclaimed."""
    now = timezone.now()
    updated = AgentTask.objects.filter(
        pk=task.pk, status__in=(*ACTIVE, *also), lease_epoch=epoch
    ).update(
        status=status, completed_at=now, prepare_lease_expires_at=None, updated_at=now, **fields
    )
    if not updated:
        return False
    task_tokens_revoke(task.pk)
    task.refresh_from_db()
    return True


def _retry(task: AgentTask) -> AgentTask | None:
    """A retryable failure with attempts left becomes a new queued attempt."""
    if task.failure_reason not in RETRYABLE_REASONS or task.attempt >= task.max_attempts:
        return None
    try:
        with transaction.atomic():
            child = AgentTask.objects.create(
                workspace_id=task.workspace_id,
                agent_id=task.agent_id,
                issue_id=task.issue_id,
                runtime_id=task.runtime_id,
                status=AgentTask.Status.QUEUED,
                priority=task.priority,
                context=task.context,
                trigger_comment_id=task.trigger_comment_id,
                coalesced_comment_ids=list(task.coalesced_comment_ids or []),
                trigger_summary=task.trigger_summary,
                handoff_note=task.handoff_note,
                attempt=task.attempt + 1,
                max_attempts=task.max_attempts,
                parent_task_id=task.pk,
                retry_of_task_id=task.pk,
                initiator_user_id=task.initiator_user_id,
                originator_user_id=task.originator_user_id,
            )
    except IntegrityError:
        return None  # another pending task of (issue, agent) already covers the work
    task_event_publish("task:queued", child)
    if child.runtime_id is not None:
        runtime_id, child_id = str(child.runtime_id), str(child.pk)
        transaction.on_commit(
            lambda: realtime.send_to_runtime(
                runtime_id, "daemon:task_available", {"runtime_id": runtime_id, "task_id": child_id}
            ),
            robust=True,
        )
    return child


def task_fail_locked(
    task: AgentTask,
    epoch: int,
    *,
    error: str,
    reason: str,
    extra: dict[str, Any] | None = None,
    also: tuple[str, ...] = (),
) -> tuple[bool, AgentTask | None]:
    """Fail a locked task under ``epoch`` (reports and the sweeper) → (failed now, retry)."""
    fields: dict[str, Any] = {"error": _strip(error) or None, "failure_reason": reason}
    fields.update(extra or {})
    if not _finish(task, epoch, "failed", also=also, **fields):
        return False, None
    child = _retry(task)
    task_event_publish(TASK_FAILED, task, failure_reason=reason, retry_pending=child is not None)
    agent_status_reconcile(agent_id=task.agent_id)
    return True, child


def _session_fields(body: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if body.get("session_id"):
        out["session_id"] = _strip(str(body["session_id"]))
    if body.get("work_dir"):
        out["work_dir"] = _strip(str(body["work_dir"]))
    return out


def _post_result_comment(task: AgentTask, output: str) -> None:
    if not output.strip() or task.issue_id is None:
        return
    from issues.services.comments import comment_create  # noqa: PLC0415 - avoids an import cycle

    ctx = WorkspaceContext(
        workspace=task.workspace, user=None, member=None, actor=Actor("agent", str(task.agent_id))
    )
    comment_create(ctx=ctx, issue_ref=str(task.issue_id), content=output)


def _do_complete(task: AgentTask, epoch: int, body: Mapping[str, Any]) -> dict[str, Any]:
    if task.status == "completed" and task.lease_epoch == epoch:
        return task_wire(task)  # already completed under this lease: idempotent success
    if task.status != "running":
        raise lease_lost(task)
    output = _clean(str(body.get("output") or ""), _task_secrets(task))
    result: dict[str, Any] = {"output": output}
    for key in ("pr_url", "branch_name", "durable_work_dir"):
        if body.get(key):
            result[key] = _strip(str(body[key]))
    if not _finish(task, epoch, "completed", result=result, **_session_fields(body)):
        raise lease_lost(task)
    _post_result_comment(task, output)
    task_event_publish(TASK_COMPLETED, task)
    agent_status_reconcile(agent_id=task.agent_id)
    return task_wire(task)


def _do_fail(task: AgentTask, epoch: int, body: Mapping[str, Any]) -> dict[str, Any]:
    if task.status not in ACTIVE:
        raise lease_lost(task)
    reason = str(body.get("failure_reason") or DEFAULT_FAILURE_REASON)[:128]
    error = _clean(str(body.get("error") or ""), _task_secrets(task))
    failed, _ = task_fail_locked(
        task, epoch, error=error, reason=reason, extra=_session_fields(body)
    )
    if not failed:
        raise lease_lost(task)
    return task_wire(task)


def _do_cancel_ack(task: AgentTask, epoch: int, body: Mapping[str, Any]) -> dict[str, Any]:
    """The daemon stopped the run. A task already ended is simply acknowledged; an active one
    (the daemon gave up on its own) ends ``cancelled`` under this lease."""
    if task.status in TERMINAL:
        return {"status": "ok"}
    if task.status not in ACTIVE:
        raise lease_lost(task)
    if _finish(task, epoch, "cancelled"):
        task_event_publish(TASK_CANCELLED, task)
        agent_status_reconcile(agent_id=task.agent_id)
    return {"status": "ok"}


_HANDLERS = {"complete": _do_complete, "fail": _do_fail, "cancel-ack": _do_cancel_ack}


def _body_hash(body: Mapping[str, Any]) -> str:
    return hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()


def task_report(
    *,
    caller: Caller,
    task_id: Any,
    kind: str,
    body: Mapping[str, Any],
    epoch: int | None = None,
    idempotency_key: str | None = None,
) -> tuple[int, dict[str, Any]]:
    """complete / fail / cancel-ack → ``(status_code, response)``. With an Idempotency-Key the
    first accepted response is replayed for the same body; another body under it is 422."""
    handler = _HANDLERS[kind]
    key = (idempotency_key or "").strip()[:255]
    digest = _body_hash(body)
    with transaction.atomic():
        task, current = _locked(caller, task_id, None)
        if key:
            prior = TaskReport.objects.filter(task=task, kind=kind, idempotency_key=key).first()
            if prior is not None:
                if prior.request_hash != digest:
                    raise DomainError(
                        "Idempotency-Key reused with a different request body",
                        code="idempotency_key_mismatch",
                        status=422,
                    )
                return prior.status_code, prior.response
        if epoch is not None and epoch != current:
            raise lease_lost(task)
        response = handler(task, current, body)
        if key:
            TaskReport.objects.create(
                task=task,
                kind=kind,
                idempotency_key=key,
                request_hash=digest,
                status_code=200,
                response=response,
            )
    return 200, response


def orphans_recover(
    *, caller: Caller, runtime_ids: list[Any], held_task_ids: list[Any] | None = None
) -> dict[str, int]:
    """``POST /api/daemon/runtimes/{rid}/recover-orphans`` (and the batch form): a restarted
    daemon's leased tasks, except those it says it still runs, fail ``runtime_recovery``
    (retryable) → ``{"orphaned": n, "retried": m}``."""
    runtimes = runtimes_accessible(caller, runtime_ids)
    held = {str(t) for t in held_task_ids or []}
    orphaned = retried = 0
    with transaction.atomic():
        rows = list(
            AgentTask.objects.select_for_update(skip_locked=True)
            .filter(runtime_id__in=[r.pk for r in runtimes], status__in=ACTIVE)
            .order_by("created_at")
        )
        for task in rows:
            if str(task.pk) in held:
                continue
            failed, child = task_fail_locked(
                task, task.lease_epoch, error="daemon restarted", reason="runtime_recovery"
            )
            orphaned += int(failed)
            retried += int(child is not None)
    return {"orphaned": orphaned, "retried": retried}
