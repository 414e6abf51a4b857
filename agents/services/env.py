"""``GET/PUT /api/agents/{id}/env`` (spec §5.3): the only paths that handle ``custom_env`` in clear.

* Access: agent actors are refused whatever the backing member's role; then the agent owner or a
  workspace owner/admin (:func:`agents.access.require_env_access`).
* Reveal is fail-closed: the ``agent_env_revealed`` audit row is written first, inside the
  transaction; if it cannot be written the caller gets a 500 and no plaintext.
* Update is a full replacement with the ``****`` sentinel (keep the stored value); the new map and
  the ``agent_env_updated`` audit row commit together or not at all.

Audit rows carry key names only. Nothing here logs, and no exception raised from here carries a
value (``sensitive_variables`` keeps them out of Django's error reports too).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.db import DatabaseError, transaction
from django.views.decorators.debug import sensitive_variables

from agents import access, selectors
from agents.models import Agent
from agents.services.agents import AGENT_STATUS, _announce
from issues.models import ActivityLog
from multica_site.errors import DomainError, NotFound

if TYPE_CHECKING:
    from workspaces.context import WorkspaceContext

logger = logging.getLogger("multica.agents.env")

ENV_SENTINEL = "****"
ACTION_REVEALED = "agent_env_revealed"
ACTION_UPDATED = "agent_env_updated"

REVEAL_AUDIT_FAILED = "audit log write failed; refusing to serve env without a recorded reveal"
UPDATE_AUDIT_FAILED = "audit log write failed; env update rolled back"


class AuditWriteFailed(DomainError):
    status = 500
    code = "audit_write_failed"


def write_env_audit(
    *, ctx: WorkspaceContext, agent: Agent, action: str, details: dict[str, Any]
) -> ActivityLog:
    """One workspace-level audit row (issue NULL, actor = the member). Key names only."""
    assert ctx.user is not None  # noqa: S101 - env access requires a member actor
    return ActivityLog.objects.create(
        workspace_id=ctx.workspace_id,
        issue=None,
        actor_type="member",
        actor_id=ctx.user.pk,
        action=action,
        details=details,
    )


def _load_with_env(ctx: WorkspaceContext, agent_id: Any) -> Agent:
    agent = (
        Agent.objects.select_for_update()
        .filter(workspace_id=ctx.workspace_id, kind="user", pk=selectors.parse_agent_id(agent_id))
        .first()
    )
    if agent is None:
        raise NotFound(selectors.AGENT_NOT_FOUND, code="agent_not_found")
    return agent


def _stored_env(agent: Agent) -> dict[str, str]:
    env = agent.custom_env
    return dict(env) if isinstance(env, dict) else {}


@sensitive_variables("env", "agent")
def agent_env_get(*, ctx: WorkspaceContext, agent_id: Any) -> dict[str, Any]:
    """``{agent_id, custom_env}`` in clear, after the reveal is on record."""
    with transaction.atomic():
        agent = _load_with_env(ctx, agent_id)
        access.require_env_access(ctx, agent)
        env = _stored_env(agent)
        keys = sorted(env)
        try:
            with transaction.atomic():
                write_env_audit(
                    ctx=ctx, agent=agent, action=ACTION_REVEALED,
                    details={
                        "agent_id": str(agent.id), "agent_name": agent.name,
                        "revealed_keys": keys, "key_count": len(keys),
                    },
                )  # fmt: skip
        except DatabaseError:
            logger.exception(
                "agent_env_revealed audit write failed; refusing to serve plaintext (agent %s)",
                agent.id,
            )
            raise AuditWriteFailed(REVEAL_AUDIT_FAILED) from None
    return {"agent_id": str(agent.id), "custom_env": env}


@dataclass
class EnvDiff:
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    preserved: list[str] = field(default_factory=list)


@sensitive_variables("existing", "request", "merged")
def merge_env(existing: dict[str, str], request: dict[str, str]) -> tuple[dict[str, str], EnvDiff]:
    """Multica's ``mergeAgentEnv``: ``****`` keeps a known key (and drops an unknown one); absent
    keys are removed; equal values are neither added nor changed."""
    merged: dict[str, str] = {}
    diff = EnvDiff()
    for key, value in request.items():
        if value == ENV_SENTINEL:
            if key in existing:
                merged[key] = existing[key]
                diff.preserved.append(key)
            continue
        merged[key] = value
        if key not in existing:
            diff.added.append(key)
        elif existing[key] != value:
            diff.changed.append(key)
    diff.removed = [k for k in existing if k not in request]
    for keys in (diff.added, diff.removed, diff.changed, diff.preserved):
        keys.sort()
    return merged, diff


@sensitive_variables("custom_env", "existing", "merged", "agent")
def agent_env_update(
    *, ctx: WorkspaceContext, agent_id: Any, custom_env: dict[str, str]
) -> dict[str, Any]:
    """Replace the map; audit in the same transaction; ``agent:status {agent}`` (redacted)."""
    with transaction.atomic():
        agent = _load_with_env(ctx, agent_id)
        access.require_env_access(ctx, agent)
        existing = _stored_env(agent)
        merged, diff = merge_env(existing, custom_env)
        agent.custom_env = merged
        agent.custom_env_keys = sorted(merged)
        agent.save(update_fields=["custom_env", "custom_env_keys", "updated_at"])
        try:
            with transaction.atomic():
                write_env_audit(
                    ctx=ctx, agent=agent, action=ACTION_UPDATED,
                    details={
                        "agent_id": str(agent.id), "agent_name": agent.name,
                        "added_keys": diff.added, "removed_keys": diff.removed,
                        "changed_keys": diff.changed, "preserved_keys": diff.preserved,
                    },
                )  # fmt: skip
        except DatabaseError:
            logger.exception(
                "agent_env_updated audit write failed; rolling back (agent %s)", agent.id
            )
            raise AuditWriteFailed(UPDATE_AUDIT_FAILED) from None
        _announce(ctx, AGENT_STATUS, agent.id)
    return {"agent_id": str(agent.id), "custom_env": merged}
