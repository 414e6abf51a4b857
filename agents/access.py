"""Who may see, manage and configure an agent (spec §5.5), and who may bind one to a runtime.

Pure predicates over a :class:`~workspaces.context.WorkspaceContext`; the ``require_*`` variants
raise the exact 403 sentences Multica answers with. Invocation permission (assign/mention/rerun,
§5.6) is a different question and lives with dispatch.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from multica_site.errors import PermissionDenied
from workspaces.models import Role

if TYPE_CHECKING:
    from agents.models import Agent, AgentInvocationTarget
    from runtimes.models import AgentRuntime
    from workspaces.context import WorkspaceContext

ADMIN_ROLES = frozenset({Role.OWNER, Role.ADMIN})

NO_VIEW_ACCESS = "you do not have access to this agent"
NO_MANAGE_ACCESS = "only the agent owner can manage this agent"
NO_ACCESS_CHANGE = "only the agent owner can change access (permission_mode / invocation_targets)"
PRIVATE_RUNTIME_CREATE = "this runtime is private; only its owner can create agents on it"
PRIVATE_RUNTIME_MOVE = "this runtime is private; only its owner can move agents onto it"
ENV_AGENT_ACTOR = "agents may not access env management endpoints"
ENV_NOT_ALLOWED = "only the agent owner or a workspace owner/admin can manage this agent's env"


def _user_id(ctx: WorkspaceContext) -> str:
    return str(ctx.user.pk) if ctx.user is not None else ""


def is_workspace_admin(ctx: WorkspaceContext) -> bool:
    return ctx.role in ADMIN_ROLES


def is_agent_owner(ctx: WorkspaceContext, agent: Agent) -> bool:
    """The caller owns the agent. A NULL owner matches nobody (never ``"" == ""``)."""
    user_id = _user_id(ctx)
    return bool(user_id) and agent.owner_id is not None and str(agent.owner_id) == user_id


def targets_admit_member(targets: Iterable[AgentInvocationTarget], user_id: str) -> bool:
    """A workspace target admits any member; a member target its user; team targets nobody."""
    for target in targets:
        if target.target_type == "workspace":
            return True
        if target.target_type == "member" and str(target.target_id) == user_id:
            return True
    return False


def can_view_agent(
    ctx: WorkspaceContext, agent: Agent, targets: Iterable[AgentInvocationTarget] | None = None
) -> bool:
    """Agent actors see every agent; members: admins, the owner, or a ``public_to`` target hit.

    ``targets`` may be passed pre-loaded (list views) to avoid a query per agent.
    """
    if ctx.actor.type == "agent":
        return True
    if is_agent_owner(ctx, agent) or is_workspace_admin(ctx):
        return True
    if agent.permission_mode != "public_to":
        return False
    if targets is None:
        targets = agent.invocation_targets.all()
    return targets_admit_member(targets, _user_id(ctx))


def can_manage_agent(ctx: WorkspaceContext, agent: Agent) -> bool:
    """Update, archive, restore, cancel tasks, skills: the agent owner or a workspace admin."""
    return is_workspace_admin(ctx) or is_agent_owner(ctx, agent)


def can_view_agent_secrets(ctx: WorkspaceContext, agent: Agent) -> bool:
    """``mcp_config`` in clear: not for agent actors nor under ``always_redact_env``; else the
    workspace owner/admin or the agent owner."""
    if ctx.actor.type == "agent":
        return False
    if (ctx.workspace.settings or {}).get("always_redact_env") is True:
        return False
    return can_manage_agent(ctx, agent)


def can_use_runtime(ctx: WorkspaceContext, runtime: AgentRuntime) -> bool:
    """A runtime with an owner that is public or owned by the caller (ownerless: never)."""
    if runtime.owner_id is None:
        return False
    if runtime.visibility == "public":
        return True
    return str(runtime.owner_id) == _user_id(ctx)


def require_view(ctx: WorkspaceContext, agent: Agent) -> None:
    if not can_view_agent(ctx, agent):
        raise PermissionDenied(NO_VIEW_ACCESS, code="agent_access_denied")


def require_manage(ctx: WorkspaceContext, agent: Agent) -> None:
    if not can_manage_agent(ctx, agent):
        raise PermissionDenied(NO_MANAGE_ACCESS, code="agent_manage_denied")


def require_env_access(ctx: WorkspaceContext, agent: Agent) -> None:
    """Agent actors first (whatever the backing member's role), then owner/admin."""
    if ctx.actor.type != "member" or ctx.member is None:
        raise PermissionDenied(ENV_AGENT_ACTOR, code="agent_env_actor_denied")
    if not can_manage_agent(ctx, agent):
        raise PermissionDenied(ENV_NOT_ALLOWED, code="agent_env_denied")
