"""Agent ↔ skill bindings (spec §5.4): list, replace, add, enable/disable, remove.

Listing is for any member; writes need the agent's owner or a workspace owner/admin (403
``only the agent owner can manage this agent``). Skill ids in bodies must name skills of this
workspace (404 ``skill not found``, nothing written); an unknown or foreign agent is 404
``agent not found``. Every write answers the updated list and publishes
``agent:status {agent_id, skills}`` (no ``agent`` object), as Multica's
``writeUpdatedAgentSkills``.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from django.db import transaction

from agents.models import Agent, AgentSkill
from multica_site.errors import NotFound, PermissionDenied, ValidationError
from multica_site.events import publish
from skills.selectors import skill_ids_in_workspace, skill_not_found
from skills.wire import skill_summary_wire
from workspaces.context import ADMINS

if TYPE_CHECKING:
    from workspaces.context import WorkspaceContext


def _agent_get(ctx: WorkspaceContext, agent_id: Any, *, for_update: bool = False) -> Agent:
    try:
        aid = uuid.UUID(str(agent_id))
    except ValueError as exc:
        raise NotFound("agent not found", code="agent_not_found") from exc
    qs = Agent.objects.filter(id=aid, workspace_id=ctx.workspace_id).exclude(kind="system")
    if for_update:
        qs = qs.select_for_update()
    agent = qs.first()
    if agent is None:
        raise NotFound("agent not found", code="agent_not_found")
    return agent


def agent_can_manage(ctx: WorkspaceContext, agent: Agent) -> bool:
    """Agent owner or workspace owner/admin (spec §5.5)."""
    if ctx.role in ADMINS:
        return True
    return ctx.user is not None and agent.owner_id is not None and agent.owner_id == ctx.user.pk


def _require_manage(ctx: WorkspaceContext, agent: Agent) -> None:
    if not agent_can_manage(ctx, agent):
        raise PermissionDenied(
            "only the agent owner can manage this agent", code="agent_manage_forbidden"
        )


def parse_skill_ids(raw: Any) -> list[uuid.UUID]:
    """``skill_ids`` as distinct UUIDs in order; ``null``/absent is the empty list."""
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise ValidationError("invalid request body")
    out: list[uuid.UUID] = []
    for item in raw:
        if not isinstance(item, str):
            raise ValidationError("invalid request body")
        try:
            value = uuid.UUID(item)
        except ValueError as exc:
            raise ValidationError("invalid skill_ids", code="invalid_uuid") from exc
        if value not in out:
            out.append(value)
    return out


def _require_skills_in_workspace(ctx: WorkspaceContext, skill_ids: list[uuid.UUID]) -> None:
    found = skill_ids_in_workspace(workspace_id=ctx.workspace_id, skill_ids=skill_ids)
    if len(found) != len(skill_ids):
        raise skill_not_found()


def agent_skill_list(*, agent: Agent) -> list[dict[str, Any]]:
    """``[SkillSummary + enabled]`` by skill name: one query."""
    bindings = (
        AgentSkill.objects.filter(agent_id=agent.id)
        .select_related("skill")
        .defer("skill__content")
        .order_by("skill__name")
    )
    return [skill_summary_wire(b.skill, enabled=b.enabled) for b in bindings]


def agent_skills_for_member(*, ctx: WorkspaceContext, agent_id: Any) -> list[dict[str, Any]]:
    return agent_skill_list(agent=_agent_get(ctx, agent_id))


def _publish(ctx: WorkspaceContext, agent: Agent) -> list[dict[str, Any]]:
    skills = agent_skill_list(agent=agent)
    publish(
        "agent:status",
        {"agent_id": str(agent.id), "skills": skills},
        workspace_id=ctx.workspace_id,
        actor=ctx.actor,
    )
    return skills


def agent_skills_set(*, ctx: WorkspaceContext, agent_id: Any, skill_ids: Any) -> list[dict]:
    """Replace the agent's bindings with exactly ``skill_ids`` (empty clears them all).

    As Multica (delete all, then insert), a kept binding comes back ``enabled``.
    """
    ids = parse_skill_ids(skill_ids)
    with transaction.atomic():
        agent = _agent_get(ctx, agent_id, for_update=True)
        _require_manage(ctx, agent)
        _require_skills_in_workspace(ctx, ids)
        AgentSkill.objects.filter(agent_id=agent.id).delete()
        AgentSkill.objects.bulk_create(
            [AgentSkill(agent_id=agent.id, skill_id=sid) for sid in ids], ignore_conflicts=True
        )
        return _publish(ctx, agent)


def agent_skills_add(*, ctx: WorkspaceContext, agent_id: Any, skill_ids: Any) -> list[dict]:
    """Merge ``skill_ids`` into the bindings (existing ones, and their ``enabled``, kept)."""
    ids = parse_skill_ids(skill_ids)
    with transaction.atomic():
        agent = _agent_get(ctx, agent_id, for_update=True)
        _require_manage(ctx, agent)
        _require_skills_in_workspace(ctx, ids)
        AgentSkill.objects.bulk_create(
            [AgentSkill(agent_id=agent.id, skill_id=sid) for sid in ids], ignore_conflicts=True
        )
        return _publish(ctx, agent)


def agent_skill_set_enabled(
    *, ctx: WorkspaceContext, agent_id: Any, skill_id: Any, enabled: Any
) -> list[dict]:
    if not isinstance(enabled, bool):
        raise ValidationError("enabled is required", code="enabled_required")
    with transaction.atomic():
        agent = _agent_get(ctx, agent_id, for_update=True)
        _require_manage(ctx, agent)
        updated = AgentSkill.objects.filter(agent_id=agent.id, skill_id=skill_id).update(
            enabled=enabled
        )
        if not updated:
            raise NotFound("agent skill not found", code="agent_skill_not_found")
        return _publish(ctx, agent)


def agent_skill_remove(*, ctx: WorkspaceContext, agent_id: Any, skill_id: Any) -> list[dict]:
    """Unbind one skill (idempotent, as Multica)."""
    with transaction.atomic():
        agent = _agent_get(ctx, agent_id, for_update=True)
        _require_manage(ctx, agent)
        AgentSkill.objects.filter(agent_id=agent.id, skill_id=skill_id).delete()
        return _publish(ctx, agent)
