"""Reads of agents, always inside ``ctx.workspace`` (missing, foreign and system agents are the
same 404). ``custom_env`` is deferred everywhere: rendering an agent never decrypts its secrets.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from django.db.models import Prefetch, QuerySet

from agents import access
from agents.models import Agent, AgentInvocationTarget, AgentSkill, AgentTask
from multica_site.errors import NotFound

if TYPE_CHECKING:
    from workspaces.context import WorkspaceContext

AGENT_NOT_FOUND = "agent not found"


def agent_queryset(ctx: WorkspaceContext) -> QuerySet[Agent]:
    """User agents of the workspace, with skills and targets prefetched (2 extra queries)."""
    return (
        Agent.objects.filter(workspace_id=ctx.workspace_id, kind="user")
        .defer("custom_env")
        .prefetch_related(
            Prefetch(
                "skill_bindings",
                queryset=AgentSkill.objects.select_related("skill").only(
                    "id", "agent_id", "skill_id", "enabled",
                    "skill__id", "skill__name", "skill__description",
                ),
            ),
            Prefetch("invocation_targets", queryset=AgentInvocationTarget.objects.all()),
        )
    )  # fmt: skip


def parse_agent_id(value: Any) -> uuid.UUID:
    if isinstance(value, uuid.UUID):
        return value
    try:
        return uuid.UUID(str(value))
    except ValueError as exc:
        raise NotFound(AGENT_NOT_FOUND, code="agent_not_found") from exc


def agent_get(ctx: WorkspaceContext, agent_id: Any, *, for_update: bool = False) -> Agent:
    """One user agent of ``ctx.workspace`` (no access check), or 404 ``agent not found``."""
    qs = agent_queryset(ctx)
    if for_update:
        qs = qs.select_for_update(of=("self",))
    agent = qs.filter(pk=parse_agent_id(agent_id)).first()
    if agent is None:
        raise NotFound(AGENT_NOT_FOUND, code="agent_not_found")
    return agent


def agent_get_for_view(ctx: WorkspaceContext, agent_id: Any) -> Agent:
    agent = agent_get(ctx, agent_id)
    access.require_view(ctx, agent)
    return agent


def agent_list(ctx: WorkspaceContext, *, include_archived: bool = False) -> list[Agent]:
    """Oldest first; only the agents the caller may view (agent actors see all)."""
    qs = agent_queryset(ctx)
    if not include_archived:
        qs = qs.filter(archived_at__isnull=True)
    agents = list(qs.order_by("created_at", "id"))
    return [a for a in agents if access.can_view_agent(ctx, a, a.invocation_targets.all())]


def agent_tasks(ctx: WorkspaceContext, agent: Agent) -> list[AgentTask]:
    """The agent's tasks, newest first."""
    return list(
        AgentTask.objects.filter(workspace_id=ctx.workspace_id, agent_id=agent.id).order_by(
            "-created_at", "-id"
        )
    )
