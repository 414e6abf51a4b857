"""Invocation permission (spec §5.6): may this actor start a run of this agent?

Two questions are kept apart, as in Multica's ``agent_access.go``: *seeing* an agent (§5.5,
``agents.access``) and *triggering* it (here). The trigger gate is judged by the **effective
user**: the member for a member actor; for an agent or system actor, the human at the top of the
chain (the ``originator_user_id`` of the task the agent is running). Rules:

* the agent's owner may always invoke it;
* ``permission_mode = private`` (or anything unknown): nobody else — no admin bypass, no
  agent-to-agent bypass;
* ``public_to``: the invocation targets decide — a ``workspace`` target admits any member of the
  workspace (and agent/system actors, the workspace's own principals); a ``member`` target admits
  that user only (never an unattributed agent/system trigger); ``team`` targets admit nobody.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from agents.models import AgentInvocationTarget, AgentTask
from workspaces.models import Member

if TYPE_CHECKING:
    from agents.models import Agent
    from workspaces.context import WorkspaceContext

ACTIVE_FOR_ORIGINATOR = ("dispatched", "running", "waiting_local_directory")


def _uuid(value: Any) -> uuid.UUID | None:
    if value in (None, ""):
        return None
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


def actor_originator(ctx: WorkspaceContext) -> uuid.UUID | None:
    """The human on whose behalf ``ctx.actor`` acts.

    * member → the member;
    * agent → the ``originator_user_id`` of the task it runs: the task the credential is bound
      to (``credential.extra["task_id"]``), else the agent's most recently started active task
      in this workspace;
    * system → nobody.
    """
    actor = ctx.actor
    if actor.type == "member":
        return _uuid(actor.id)
    if actor.type != "agent":
        return None
    agent_id = _uuid(actor.id)
    if agent_id is None:
        return None
    tasks = AgentTask.objects.filter(workspace_id=ctx.workspace_id, agent_id=agent_id)
    extra = getattr(ctx.credential, "extra", None) or {}
    task_id = _uuid(extra.get("task_id"))
    if task_id is not None:
        return tasks.filter(pk=task_id).values_list("originator_user_id", flat=True).first()
    return (
        tasks.filter(status__in=ACTIVE_FOR_ORIGINATOR)
        .order_by("-started_at", "-created_at")
        .values_list("originator_user_id", flat=True)
        .first()
    )


def can_invoke(
    *,
    agent: Agent,
    actor_type: str,
    actor_id: Any,
    originator_user_id: Any,
    workspace_id: Any,
) -> bool:
    """The pure §5.6 verdict (one query for the targets, one for membership when needed)."""
    effective = _uuid(actor_id) if actor_type == "member" else _uuid(originator_user_id)
    if effective is not None and agent.owner_id is not None and agent.owner_id == effective:
        return True
    if agent.permission_mode != "public_to":
        return False
    targets = list(
        AgentInvocationTarget.objects.filter(agent_id=agent.pk).values_list(
            "target_type", "target_id"
        )
    )
    workspace_broad = actor_type in ("agent", "system")
    member_checked: bool | None = None
    for target_type, target_id in targets:
        if target_type == "workspace":
            if workspace_broad:
                return True
            if member_checked is None:
                member_checked = effective is not None and (
                    Member.objects.filter(workspace_id=workspace_id, user_id=effective).exists()
                )
            if member_checked:
                return True
        elif target_type == "member" and effective is not None and target_id == effective:
            return True
    return False


def ctx_can_invoke(ctx: WorkspaceContext, agent: Agent) -> bool:
    """:func:`can_invoke` for the actor of ``ctx``."""
    return can_invoke(
        agent=agent,
        actor_type=ctx.actor.type,
        actor_id=ctx.actor.id,
        originator_user_id=actor_originator(ctx),
        workspace_id=ctx.workspace_id,
    )
