"""What the agents area plugs into other domains at startup (called from ``AgentsConfig.ready``).

* (the agent-assignee check, ``ASSIGNEE_VALIDATORS["agent"]``, is owned by
  ``agents.services.dispatch``: it refuses with the dispatch ``reason_code``.)
* ``issues.services.projects.LEAD_VALIDATORS["agent"]`` - a project lead agent of the workspace.
* ``issues.selectors.INVOLVES_FILTERS`` - ``involves_user_id``: issues assigned to that user's
  agents.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from django.db.models import Q

from agents.models import Agent
from multica_site.errors import ValidationError

if TYPE_CHECKING:
    from workspaces.context import WorkspaceContext

# Multica answers "assignee_id does not refer to an agent of this workspace"; this codebase
# (issues area, brief) uses "agent not found" for every unknown agent reference.
AGENT_NOT_IN_WORKSPACE = "agent not found"
AGENT_ARCHIVED = "cannot assign to archived agent"
AGENT_NOT_INVOCABLE = "you do not have permission to assign work to this agent"


def validate_agent_lead(ctx: WorkspaceContext, lead_id: uuid.UUID) -> None:
    if not Agent.objects.filter(workspace_id=ctx.workspace_id, kind="user", pk=lead_id).exists():
        raise ValidationError("agent not found", code="agent_not_found")


def involves_user_agents(ctx: WorkspaceContext, user_id: uuid.UUID) -> Q:
    owned = Agent.objects.filter(workspace_id=ctx.workspace_id, owner_id=user_id).values("id")
    return Q(assignee_type="agent", assignee_id__in=owned)


def register() -> None:
    from issues import selectors as issue_selectors  # noqa: PLC0415 - startup wiring
    from issues.services import projects as project_services  # noqa: PLC0415

    project_services.LEAD_VALIDATORS["agent"] = validate_agent_lead
    if involves_user_agents not in issue_selectors.INVOLVES_FILTERS:
        issue_selectors.INVOLVES_FILTERS.append(involves_user_agents)
