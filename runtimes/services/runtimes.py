"""The runtimes API (server contract §6.2): list, rename / visibility, delete."""

from __future__ import annotations

import uuid
from typing import Any

from django.db import transaction
from django.db.models import QuerySet

from agents.models import ACTIVE_TASK_STATUSES, Agent, AgentTask
from multica_site.errors import Conflict, NotFound, PermissionDenied, ValidationError
from multica_site.events import publish
from runtimes.models import AgentRuntime
from runtimes.services.registration import EVENT_DAEMON_REGISTER
from runtimes.wire import runtime_wire
from workspaces.context import ADMINS, WorkspaceContext

CUSTOM_NAME_MAX = 100


def runtime_list(*, ctx: WorkspaceContext, owner: str | None = None) -> QuerySet[AgentRuntime]:
    qs = AgentRuntime.objects.filter(workspace_id=ctx.workspace_id)
    if owner == "me":
        qs = qs.filter(owner_id=ctx.user.pk if ctx.user else None)
    return qs.order_by("created_at", "id")


def runtime_get(*, ctx: WorkspaceContext, runtime_id: Any) -> AgentRuntime:
    try:
        rid = uuid.UUID(str(runtime_id))
    except ValueError as exc:
        raise NotFound("runtime not found", code="runtime_not_found") from exc
    runtime = AgentRuntime.objects.filter(pk=rid, workspace_id=ctx.workspace_id).first()
    if runtime is None:
        raise NotFound("runtime not found", code="runtime_not_found")
    return runtime


def _is_owner(ctx: WorkspaceContext, runtime: AgentRuntime) -> bool:
    return ctx.user is not None and runtime.owner_id == ctx.user.pk


def _require_manage(ctx: WorkspaceContext, runtime: AgentRuntime) -> None:
    if not (_is_owner(ctx, runtime) or ctx.role in ADMINS):
        raise PermissionDenied("you can only edit your own runtimes")


def runtime_update(*, ctx: WorkspaceContext, runtime_id: Any, data: dict[str, Any]) -> AgentRuntime:
    """``{visibility? (runtime owner only), custom_name? ("" clears), apply_to_machine?}``."""
    if not isinstance(data, dict):
        raise ValidationError("invalid request body")
    with transaction.atomic():
        runtime = runtime_get(ctx=ctx, runtime_id=runtime_id)
        runtime = AgentRuntime.objects.select_for_update().get(pk=runtime.pk)
        _require_manage(ctx, runtime)
        fields: list[str] = []
        if "visibility" in data:
            visibility = data["visibility"]
            if visibility not in AgentRuntime.Visibility.values:
                raise ValidationError("visibility must be private or public")
            if not _is_owner(ctx, runtime):
                raise PermissionDenied("only the runtime owner can change visibility")
            runtime.visibility = visibility
            fields.append("visibility")
        siblings: list[AgentRuntime] = []
        if "custom_name" in data:
            name = data["custom_name"]
            if name is not None and not isinstance(name, str):
                raise ValidationError("custom_name must be a string")
            name = (name or "").strip()
            if len(name) > CUSTOM_NAME_MAX:
                raise ValidationError(f"custom_name must be at most {CUSTOM_NAME_MAX} characters")
            runtime.custom_name = name or None
            fields.append("custom_name")
            if data.get("apply_to_machine") and runtime.daemon_id:
                siblings = list(
                    AgentRuntime.objects.select_for_update()
                    .filter(workspace_id=runtime.workspace_id, daemon_id=runtime.daemon_id)
                    .exclude(pk=runtime.pk)
                )
                for sibling in siblings:
                    if _is_owner(ctx, sibling) or ctx.role in ADMINS:
                        sibling.custom_name = runtime.custom_name
                        sibling.save(update_fields=["custom_name", "updated_at"])
        if fields:
            runtime.save(update_fields=[*fields, "updated_at"])
        publish(
            EVENT_DAEMON_REGISTER,
            {"action": "update", "runtime_id": str(runtime.id), "runtime": runtime_wire(runtime)},
            workspace_id=ctx.workspace_id,
            actor=ctx.actor,
        )
    return runtime


def runtime_delete(*, ctx: WorkspaceContext, runtime_id: Any) -> dict[str, str]:
    """Delete a runtime without active agents or unfinished tasks."""
    from agents.wire import agent_wire  # noqa: PLC0415

    with transaction.atomic():
        runtime = runtime_get(ctx=ctx, runtime_id=runtime_id)
        runtime = AgentRuntime.objects.select_for_update().get(pk=runtime.pk)
        _require_manage(ctx, runtime)
        active = list(
            Agent.objects.filter(runtime=runtime, archived_at__isnull=True).order_by(
                "created_at", "id"
            )
        )
        if active:
            raise Conflict(
                "runtime has active agents; unbind or archive them first",
                code="runtime_has_active_agents",
                extra={"active_agents": [agent_wire(a, redact_mcp=True) for a in active]},
            )
        if AgentTask.objects.filter(runtime=runtime, status__in=ACTIVE_TASK_STATUSES).exists():
            raise Conflict("runtime still has unfinished tasks", code="runtime_delete_not_drained")
        # Archived agents keep their history but lose the binding (the FK protects the row).
        Agent.objects.filter(runtime=runtime).update(runtime=None)
        rid = str(runtime.id)
        runtime.delete()
        publish(
            EVENT_DAEMON_REGISTER,
            {"action": "delete", "runtime_id": rid},
            workspace_id=ctx.workspace_id,
            actor=ctx.actor,
        )
    return {"status": "ok"}
