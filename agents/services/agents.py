"""Agent writes (spec §5.2): create, update, archive, restore, cancel tasks.

Every rule and sentence is Multica's (``server/internal/handler/agent.go``). Events go out on
commit; their ``agent`` payload is the broadcast form (``mcp_config`` redacted, never env values).

Extension points (filled by other areas at startup):

* :data:`AGENT_ARCHIVED_HOOKS` - ``hook(ctx=, agent=, cancelled_tasks=)`` inside the archiving
  transaction, after the agent's active tasks were cancelled (notify daemons, revoke tokens…).
* :data:`AGENT_TASKS_CANCELLED_HOOKS` - ``hook(ctx=, agent=, tasks=)`` inside the transaction of
  ``POST /api/agents/{id}/cancel-tasks`` and of an archive, with the rows just cancelled.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.db import IntegrityError, transaction
from django.utils.timezone import now

from agents import access, selectors
from agents.models import Agent, AgentInvocationTarget, AgentSkill, AgentTask
from agents.wire import GATEWAY_TOKEN_MASK, agent_broadcast_wire, derive_visibility
from multica_site.errors import Conflict, PermissionDenied, ValidationError
from multica_site.events import publish
from runtimes.models import AgentRuntime
from skills.models import Skill

if TYPE_CHECKING:
    from workspaces.context import WorkspaceContext

AGENT_CREATED = "agent:created"
AGENT_STATUS = "agent:status"
AGENT_ARCHIVED = "agent:archived"
AGENT_RESTORED = "agent:restored"
TASK_CANCELLED = "task:cancelled"

AGENT_ARCHIVED_HOOKS: list[Callable[..., None]] = []
AGENT_TASKS_CANCELLED_HOOKS: list[Callable[..., None]] = []

DESCRIPTION_MAX = 255
MAX_CONCURRENT_DEFAULT, MAX_CONCURRENT_MIN, MAX_CONCURRENT_MAX = 6, 1, 50
# Tasks a cancel reaches (Multica's CancelAgentTasksByAgent).
CANCELLABLE_STATUSES = ("queued", "dispatched", "running", "waiting_local_directory", "deferred")

# --- thinking_level / service_tier (pkg/agent/thinking.go) -------------------------------------
THINKING_ENUMS: dict[str, frozenset[str]] = {
    "claude": frozenset({"low", "medium", "high", "xhigh", "max"}),
    "codebuddy": frozenset({"minimal", "low", "medium", "high", "xhigh", "max"}),
    "grok": frozenset({"low", "medium", "high"}),
    "pi": frozenset({"off", "minimal", "low", "medium", "high", "xhigh", "max"}),
}
THINKING_DYNAMIC = frozenset({"codex", "opencode", "dsh", "kimi", "reasonix", "hermes"})
DYNAMIC_TOKEN = re.compile(r"[A-Za-z0-9._-]{1,64}")


def go_quote(value: str) -> str:
    """Go's ``%q`` for the sentences that quote user input (close enough: JSON escaping)."""
    return json.dumps(value, ensure_ascii=False)


def thinking_level_known(provider: str, value: str) -> bool:
    """Empty is always fine; fixed-enum providers take their set; dynamic-catalog providers a
    well-formed token; any other provider is accepted (the daemon decides)."""
    if not value:
        return True
    if provider in THINKING_DYNAMIC:
        return DYNAMIC_TOKEN.fullmatch(value) is not None
    enum = THINKING_ENUMS.get(provider)
    return True if enum is None else value in enum


def thinking_level_rejection(provider: str, value: str) -> str:
    return f"thinking_level {go_quote(value)} is not a recognised value for runtime {go_quote(provider)}"  # noqa: E501


def existing_thinking_level_rejection(provider: str, value: str) -> str:
    return (
        f"existing thinking_level {go_quote(value)} is not valid for runtime {go_quote(provider)}; "
        'pass thinking_level="" to clear or set a value valid for the new runtime'
    )


def service_tier_known(provider: str, value: str) -> bool:
    return not value or (provider == "codex" and DYNAMIC_TOKEN.fullmatch(value) is not None)


def service_tier_rejection(provider: str, value: str) -> str:
    return (
        f"service_tier {go_quote(value)} is not a recognised value for runtime {go_quote(provider)}"
    )


# --- small validators ----------------------------------------------------------------------------


def _check_description(description: str) -> None:
    if len(description) > DESCRIPTION_MAX:  # Python str length = Unicode code points
        raise ValidationError(
            f"description must be {DESCRIPTION_MAX} characters or fewer",
            code="description_too_long",
        )


def _check_max_concurrent(value: int) -> int:
    if not MAX_CONCURRENT_MIN <= value <= MAX_CONCURRENT_MAX:
        raise ValidationError(
            f"max_concurrent_tasks must be between {MAX_CONCURRENT_MIN} and {MAX_CONCURRENT_MAX}",
            code="invalid_max_concurrent_tasks",
        )
    return value


def _parse_uuid(value: Any, field_name: str) -> uuid.UUID:
    try:
        return uuid.UUID(str(value))
    except (ValueError, TypeError) as exc:
        raise ValidationError(f"invalid {field_name}", code=f"invalid_{field_name}") from exc


def _runtime_in_workspace(ctx: WorkspaceContext, raw: Any) -> AgentRuntime:
    try:
        runtime_id = uuid.UUID(str(raw))
    except ValueError as exc:
        raise ValidationError("invalid runtime_id", code="invalid_runtime_id") from exc
    runtime = AgentRuntime.objects.filter(pk=runtime_id, workspace_id=ctx.workspace_id).first()
    if runtime is None:
        raise ValidationError("invalid runtime_id", code="invalid_runtime_id")
    return runtime


def _conflict(name: str) -> Conflict:
    return Conflict(
        f"an agent named {go_quote(name)} already exists in this workspace",
        code="agent_name_conflict",
    )


def _name_taken(ctx: WorkspaceContext, name: str, *, exclude: uuid.UUID | None = None) -> bool:
    qs = Agent.objects.filter(workspace_id=ctx.workspace_id, name=name)
    if exclude is not None:
        qs = qs.exclude(pk=exclude)
    return qs.exists()


# --- invocation permission input (handler/agent_permission.go) --------------------------------


@dataclass
class Permission:
    mode: str
    targets: list[tuple[str, uuid.UUID]] = field(default_factory=list)

    @property
    def legacy_visibility(self) -> str:
        if self.mode == "public_to" and any(t == "workspace" for t, _ in self.targets):
            return "workspace"
        return "private"


def parse_permission(
    ctx: WorkspaceContext,
    *,
    permission_mode: str | None,
    has_permission_mode: bool,
    targets: list[dict[str, Any]] | None,
    has_targets: bool,
    visibility: str | None,
) -> Permission | None:
    """``permission_mode`` is authoritative when present; else legacy ``visibility`` is mapped
    (``workspace`` ⇒ public_to + workspace target). None when neither was given."""
    ws_id = ctx.workspace_id
    if not has_permission_mode and visibility is None:
        return None
    if not has_permission_mode:
        if visibility == "workspace":
            return Permission("public_to", [("workspace", ws_id)])
        if visibility in ("private", ""):
            return Permission("private")
        raise ValidationError(
            "visibility must be 'private' or 'workspace'", code="invalid_visibility"
        )
    mode = permission_mode or "private"
    if mode not in ("private", "public_to"):
        raise ValidationError(
            "permission_mode must be 'private' or 'public_to'", code="invalid_permission_mode"
        )
    perm = Permission(mode)
    if mode == "private":
        return perm
    seen: set[tuple[str, uuid.UUID]] = set()
    for target in (targets or []) if has_targets else []:
        kind = target.get("target_type")
        if kind == "workspace":
            key = ("workspace", ws_id)
        elif kind in ("member", "team"):
            raw = target.get("target_id")
            if not raw:
                raise ValidationError(
                    f"{kind} invocation target requires target_id", code="invalid_target"
                )
            try:
                key = (kind, uuid.UUID(str(raw)))
            except ValueError as exc:
                raise ValidationError(
                    f"{kind} invocation target_id is not a valid uuid", code="invalid_target"
                ) from exc
        else:
            raise ValidationError(
                "invocation target_type must be 'workspace', 'member', or 'team'",
                code="invalid_target",
            )
        if key not in seen:
            seen.add(key)
            perm.targets.append(key)
    if not perm.targets:  # an empty public_to means "public to the workspace"
        perm.targets.append(("workspace", ws_id))
    return perm


def _replace_targets(ctx: WorkspaceContext, agent: Agent, perm: Permission) -> None:
    AgentInvocationTarget.objects.filter(agent=agent).delete()
    created_by = ctx.user.pk if ctx.user is not None else None
    stamp = now()
    AgentInvocationTarget.objects.bulk_create(
        [
            AgentInvocationTarget(
                agent=agent, target_type=kind, target_id=target_id, created_by=created_by,
                created_at=stamp,
            )
            for kind, target_id in perm.targets
        ]
    )  # fmt: skip


def _permission_changes(agent: Agent, perm: Permission | None, visibility_only: str | None) -> bool:
    current = list(agent.invocation_targets.all())
    if visibility_only is not None:
        submitted = "workspace" if visibility_only == "workspace" else "private"
        return submitted != derive_visibility(agent.permission_mode, current)
    if perm is None:
        return False
    if perm.mode != agent.permission_mode:
        return True
    if perm.mode == "private":
        return False
    return set(perm.targets) != {(t.target_type, t.target_id) for t in current}


# --- events ------------------------------------------------------------------------------------


def _announce(ctx: WorkspaceContext, event_type: str, agent_id: uuid.UUID) -> None:
    """Publish ``{agent}`` (broadcast form) after commit, rendered from the committed row."""
    workspace_id, actor = ctx.workspace_id, ctx.actor

    def send() -> None:
        agent = selectors.agent_queryset(ctx).filter(pk=agent_id).first()
        if agent is not None:
            publish(event_type, {"agent": agent_broadcast_wire(agent)},
                    workspace_id=workspace_id, actor=actor)  # fmt: skip

    transaction.on_commit(send, robust=True)


# --- create ------------------------------------------------------------------------------------


def agent_create(*, ctx: WorkspaceContext, data: dict[str, Any]) -> Agent:
    """``POST /api/agents``: validate in Multica's order, insert agent + targets + skills in one
    transaction, then ``agent:created``. Initial ``custom_env`` is accepted (encrypted; no audit).
    """
    name = data.get("name") or ""
    if not name:
        raise ValidationError("name is required", code="name_required")
    description = data.get("description") or ""
    _check_description(description)
    runtime_raw = data.get("runtime_id") or ""
    if not runtime_raw:
        raise ValidationError("runtime_id is required", code="runtime_id_required")
    max_tasks = data.get("max_concurrent_tasks")
    max_tasks = MAX_CONCURRENT_DEFAULT if max_tasks is None else _check_max_concurrent(max_tasks)
    perm = parse_permission(
        ctx,
        permission_mode=data.get("permission_mode"),
        has_permission_mode=data.get("permission_mode") is not None,
        targets=data.get("invocation_targets"),
        has_targets="invocation_targets" in data,
        visibility=data.get("visibility") or "private",
    )
    assert perm is not None  # noqa: S101 - visibility defaults to "private"
    runtime = _runtime_in_workspace(ctx, runtime_raw)
    if not access.can_use_runtime(ctx, runtime):
        raise PermissionDenied(access.PRIVATE_RUNTIME_CREATE, code="runtime_private")
    thinking = data.get("thinking_level") or ""
    if not thinking_level_known(runtime.provider, thinking):
        raise ValidationError(
            thinking_level_rejection(runtime.provider, thinking), code="invalid_thinking_level"
        )
    tier = data.get("service_tier") or ""
    if not service_tier_known(runtime.provider, tier):
        raise ValidationError(
            service_tier_rejection(runtime.provider, tier), code="invalid_service_tier"
        )
    skill_ids = [_parse_uuid(s, "skill_ids") for s in data.get("skill_ids") or []]
    skill_ids = list(dict.fromkeys(skill_ids))
    if skill_ids:
        found = Skill.objects.filter(workspace_id=ctx.workspace_id, pk__in=skill_ids).count()
        if found != len(skill_ids):
            raise ValidationError(
                "skill does not belong to this workspace", code="skill_not_in_workspace"
            )
    runtime_config = data.get("runtime_config")
    runtime_config = {} if runtime_config is None else _drop_masked_token(runtime_config)
    custom_env = data.get("custom_env") or {}
    model = data.get("model") or None

    agent = Agent(
        workspace_id=ctx.workspace_id,
        name=name,
        description=description,
        instructions=data.get("instructions") or "",
        avatar_url=data.get("avatar_url"),
        runtime=runtime,
        runtime_mode=runtime.runtime_mode,
        runtime_config=runtime_config,
        custom_env=custom_env,
        custom_env_keys=sorted(custom_env),
        custom_args=data.get("custom_args") or [],
        mcp_config=data.get("mcp_config"),  # a literal null is dropped (stays NULL)
        visibility=perm.legacy_visibility,
        permission_mode=perm.mode,
        max_concurrent_tasks=max_tasks,
        model=model,
        thinking_level=thinking or None,
        service_tier=tier or None,
        owner=ctx.user,
        status=Agent.Status.IDLE if runtime.status == "online" else Agent.Status.OFFLINE,
    )
    with transaction.atomic():
        if _name_taken(ctx, name):
            raise _conflict(name)
        try:
            with transaction.atomic():
                agent.save(force_insert=True)
        except IntegrityError as exc:
            raise _conflict(name) from exc
        _replace_targets(ctx, agent, perm)
        AgentSkill.objects.bulk_create(
            [AgentSkill(agent=agent, skill_id=skill_id) for skill_id in skill_ids]
        )
        _announce(ctx, AGENT_CREATED, agent.id)
    return selectors.agent_get(ctx, agent.id)


def _drop_masked_token(runtime_config: Any, previous: Any = None) -> Any:
    """``gateway.token == "***"`` means "keep the stored token" (or nothing on create)."""
    if not isinstance(runtime_config, dict):
        return runtime_config
    gateway = runtime_config.get("gateway")
    if not isinstance(gateway, dict) or gateway.get("token") != GATEWAY_TOKEN_MASK:
        return runtime_config
    old = None
    if isinstance(previous, dict) and isinstance(previous.get("gateway"), dict):
        old = previous["gateway"].get("token") or None
    if old:
        gateway["token"] = old
    else:
        gateway.pop("token", None)
    return runtime_config


# --- update ------------------------------------------------------------------------------------

CUSTOM_ENV_REFUSED = (
    "custom_env is no longer accepted on this endpoint; use PUT /api/agents/{id}/env "
    "(or `multica agent env set`)"
)


def agent_update(*, ctx: WorkspaceContext, agent_id: Any, data: dict[str, Any]) -> Agent:
    """``PUT /api/agents/{id}``: manage rule, then field by field as Multica; ``agent:status``."""
    with transaction.atomic():
        agent = selectors.agent_get(ctx, agent_id, for_update=True)
        access.require_manage(ctx, agent)
        if "custom_env" in data:
            raise ValidationError(CUSTOM_ENV_REFUSED, code="custom_env_not_accepted")
        changed: list[str] = []

        def put(attr: str, value: Any) -> None:
            setattr(agent, attr, value)
            changed.append(attr)

        name = data.get("name")
        if name is not None:
            if not name:
                raise ValidationError("name is required", code="name_required")
            put("name", name)
        if data.get("description") is not None:
            _check_description(data["description"])
            put("description", data["description"])
        if data.get("instructions") is not None:
            put("instructions", data["instructions"])
        if data.get("avatar_url") is not None:
            put("avatar_url", data["avatar_url"])
        if data.get("runtime_config") is not None:
            put("runtime_config", _drop_masked_token(data["runtime_config"], agent.runtime_config))
        if data.get("custom_args") is not None:
            put("custom_args", data["custom_args"])
        if "mcp_config" in data:  # null clears
            put("mcp_config", data["mcp_config"])

        target_runtime = agent.runtime
        moved = False
        if data.get("runtime_id") is not None:
            runtime = _runtime_in_workspace(ctx, data["runtime_id"])
            if not access.can_use_runtime(ctx, runtime):
                raise PermissionDenied(access.PRIVATE_RUNTIME_MOVE, code="runtime_private")
            moved = runtime.id != agent.runtime_id
            target_runtime = runtime
            put("runtime", runtime)
            put("runtime_mode", runtime.runtime_mode)

        has_pm, has_targets = "permission_mode" in data, "invocation_targets" in data
        visibility = data.get("visibility")
        new_perm: Permission | None = None
        if has_pm or has_targets or visibility is not None:
            if not access.is_agent_owner(ctx, agent):
                try:
                    perm = parse_permission(
                        ctx, permission_mode=data.get("permission_mode"),
                        has_permission_mode=has_pm, targets=data.get("invocation_targets"),
                        has_targets=has_targets, visibility=visibility,
                    )  # fmt: skip
                except ValidationError:
                    perm = None  # unparseable input from a non-owner is ignored, not a 403
                legacy_only = visibility if not has_pm and not has_targets else None
                if _permission_changes(agent, perm, legacy_only):
                    raise PermissionDenied(access.NO_ACCESS_CHANGE, code="agent_access_owner_only")
            else:
                new_perm = parse_permission(
                    ctx, permission_mode=data.get("permission_mode"),
                    has_permission_mode=has_pm, targets=data.get("invocation_targets"),
                    has_targets=has_targets, visibility=visibility,
                )  # fmt: skip
                if new_perm is not None:
                    put("permission_mode", new_perm.mode)
                    put("visibility", new_perm.legacy_visibility)

        if data.get("status") is not None:
            if data["status"] not in Agent.Status.values:
                raise ValidationError("invalid status", code="invalid_status")
            put("status", data["status"])
        if data.get("max_concurrent_tasks") is not None:
            put("max_concurrent_tasks", _check_max_concurrent(data["max_concurrent_tasks"]))
        if data.get("model") is not None:
            put("model", data["model"] or None)

        provider = target_runtime.provider if target_runtime is not None else ""
        if data.get("thinking_level") is not None:
            value = data["thinking_level"]
            if value and not thinking_level_known(provider, value):
                raise ValidationError(
                    thinking_level_rejection(provider, value), code="invalid_thinking_level"
                )
            put("thinking_level", value or None)
        elif (
            moved
            and agent.thinking_level
            and not thinking_level_known(provider, agent.thinking_level)
        ):
            raise ValidationError(
                existing_thinking_level_rejection(provider, agent.thinking_level),
                code="invalid_thinking_level",
            )
        if data.get("service_tier") is not None:
            value = data["service_tier"]
            if value and not service_tier_known(provider, value):
                raise ValidationError(
                    service_tier_rejection(provider, value), code="invalid_service_tier"
                )
            put("service_tier", value or None)
        elif moved and agent.service_tier and not service_tier_known(provider, agent.service_tier):
            raise ValidationError(
                f"existing service_tier {go_quote(agent.service_tier)} is not valid for runtime "
                f'{go_quote(provider)}; pass service_tier="" to clear or set a value valid for '
                "the new runtime",
                code="invalid_service_tier",
            )

        if "name" in changed and _name_taken(ctx, agent.name, exclude=agent.id):
            raise _conflict(agent.name)
        try:
            with transaction.atomic():
                agent.save(update_fields=[*dict.fromkeys(changed), "updated_at"])
        except IntegrityError as exc:
            raise _conflict(agent.name) from exc
        if new_perm is not None:
            _replace_targets(ctx, agent, new_perm)
        _announce(ctx, AGENT_STATUS, agent.id)
    return selectors.agent_get(ctx, agent.id)


# --- archive / restore / cancel ---------------------------------------------------------------


def _cancel_active_tasks(ctx: WorkspaceContext, agent: Agent, *, announce: bool) -> list[AgentTask]:
    """Cancel every active task of ``agent`` (status + completed_at); optionally one
    ``task:cancelled`` per task. The agent's ``working`` status falls back to ``idle``."""
    tasks = list(
        AgentTask.objects.select_for_update()
        .filter(workspace_id=ctx.workspace_id, agent_id=agent.id, status__in=CANCELLABLE_STATUSES)
        .order_by("created_at", "id")
    )
    if not tasks:
        return []
    stamp = now()
    AgentTask.objects.filter(pk__in=[t.pk for t in tasks]).update(
        status=AgentTask.Status.CANCELLED, completed_at=stamp, prepare_lease_expires_at=None,
        updated_at=stamp,
    )  # fmt: skip
    for task in tasks:
        task.status, task.completed_at = AgentTask.Status.CANCELLED, stamp
        if announce:
            publish(
                TASK_CANCELLED,
                {
                    "task_id": str(task.id),
                    "agent_id": str(agent.id),
                    "issue_id": str(task.issue_id) if task.issue_id else "",
                    "status": task.status,
                },
                workspace_id=ctx.workspace_id,
            )
    if agent.status == Agent.Status.WORKING:
        agent.status = Agent.Status.IDLE
        agent.save(update_fields=["status", "updated_at"])
    for hook in AGENT_TASKS_CANCELLED_HOOKS:
        hook(ctx=ctx, agent=agent, tasks=tasks)
    return tasks


def agent_archive(*, ctx: WorkspaceContext, agent_id: Any) -> Agent:
    with transaction.atomic():
        agent = selectors.agent_get(ctx, agent_id, for_update=True)
        access.require_manage(ctx, agent)
        if agent.archived_at is not None:
            raise Conflict("agent is already archived", code="agent_already_archived")
        if agent.system_key:
            raise ValidationError(
                "this agent is built into Multica and cannot be archived",
                code="system_agent_not_archivable",
            )
        agent.archived_at = now()
        agent.archived_by = ctx.user.pk if ctx.user is not None else None
        agent.save(update_fields=["archived_at", "archived_by", "updated_at"])
        cancelled = _cancel_active_tasks(ctx, agent, announce=False)
        for hook in AGENT_ARCHIVED_HOOKS:
            hook(ctx=ctx, agent=agent, cancelled_tasks=cancelled)
        _announce(ctx, AGENT_ARCHIVED, agent.id)
    return selectors.agent_get(ctx, agent.id)


def agent_restore(*, ctx: WorkspaceContext, agent_id: Any) -> Agent:
    with transaction.atomic():
        agent = selectors.agent_get(ctx, agent_id, for_update=True)
        access.require_manage(ctx, agent)
        if agent.archived_at is None:
            raise Conflict("agent is not archived", code="agent_not_archived")
        agent.archived_at = None
        agent.archived_by = None
        agent.save(update_fields=["archived_at", "archived_by", "updated_at"])
        _announce(ctx, AGENT_RESTORED, agent.id)
    return selectors.agent_get(ctx, agent.id)


def agent_cancel_tasks(*, ctx: WorkspaceContext, agent_id: Any) -> int:
    """``POST /api/agents/{id}/cancel-tasks`` → the number of tasks cancelled."""
    with transaction.atomic():
        agent = selectors.agent_get(ctx, agent_id, for_update=True)
        access.require_manage(ctx, agent)
        was = agent.status
        cancelled = _cancel_active_tasks(ctx, agent, announce=True)
        if agent.status != was:
            _announce(ctx, AGENT_STATUS, agent.id)
    return len(cancelled)
