"""``AgentResponse`` (spec §5.1): the one definition of an agent on the wire.

``custom_env`` values are never part of it: only ``has_custom_env`` and ``custom_env_key_count``,
computed from the clear-text key list (``custom_env_keys``), so rendering never decrypts.
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

from multica_site.wire import format_time, str_or_none

if TYPE_CHECKING:
    from collections.abc import Iterable

    from agents.models import Agent, AgentInvocationTarget, AgentSkill

GATEWAY_TOKEN_MASK = "***"


def mask_gateway_token(runtime_config: Any) -> Any:
    """A copy with a non-empty ``gateway.token`` replaced by ``***`` (a bearer credential)."""
    if not isinstance(runtime_config, dict):
        return {} if runtime_config is None else runtime_config
    gateway = runtime_config.get("gateway")
    if not isinstance(gateway, dict) or not gateway.get("token"):
        return runtime_config
    out = copy.deepcopy(runtime_config)
    out["gateway"]["token"] = GATEWAY_TOKEN_MASK
    return out


def derive_visibility(permission_mode: str, targets: Iterable[AgentInvocationTarget]) -> str:
    """Legacy ``visibility``: ``workspace`` iff ``public_to`` with a workspace target."""
    if permission_mode == "public_to" and any(t.target_type == "workspace" for t in targets):
        return "workspace"
    return "private"


def target_wire(target: AgentInvocationTarget) -> dict[str, Any]:
    return {"target_type": target.target_type, "target_id": str_or_none(target.target_id)}


def skill_summary_wire(binding: AgentSkill) -> dict[str, Any]:
    skill = binding.skill
    return {
        "id": str(skill.id),
        "name": skill.name,
        "description": skill.description,
        "enabled": binding.enabled,
    }


def _bindings(agent: Agent) -> list[AgentSkill]:
    rows = list(agent.skill_bindings.all())
    return sorted(rows, key=lambda b: (b.skill.name, str(b.skill_id)))


def _targets(agent: Agent) -> list[AgentInvocationTarget]:
    rows = list(agent.invocation_targets.all())
    return sorted(rows, key=lambda t: (t.created_at, str(t.id)))


def agent_wire(agent: Agent, *, redact_mcp: bool = False) -> dict[str, Any]:
    """The full response. Reads ``skill_bindings__skill`` and ``invocation_targets``: prefetch
    them (``selectors.agent_queryset``) when rendering many agents."""
    targets = _targets(agent)
    key_count = len(agent.custom_env_keys or [])
    mcp_config = agent.mcp_config
    mcp_redacted = False
    if redact_mcp and mcp_config is not None:
        mcp_config, mcp_redacted = None, True
    out: dict[str, Any] = {
        "id": str(agent.id),
        "workspace_id": str(agent.workspace_id),
        "runtime_id": str(agent.runtime_id) if agent.runtime_id else "",
        "runtime_bound": agent.runtime_id is not None,
        "name": agent.name,
        "description": agent.description,
        "instructions": agent.instructions,
    }
    if agent.system_key:
        out["system_key"] = agent.system_key
    out.update(
        {
            "avatar_url": agent.avatar_url,
            "runtime_mode": agent.runtime_mode,
            "runtime_config": mask_gateway_token(agent.runtime_config),
            "custom_args": list(agent.custom_args or []),
            "mcp_config": mcp_config,
            "has_custom_env": key_count > 0,
            "custom_env_key_count": key_count,
            "mcp_config_redacted": mcp_redacted,
            "visibility": derive_visibility(agent.permission_mode, targets),
            "permission_mode": agent.permission_mode,
            "invocation_targets": [target_wire(t) for t in targets],
            "status": agent.status,
            "max_concurrent_tasks": agent.max_concurrent_tasks,
            "model": agent.model or "",
            "thinking_level": agent.thinking_level or "",
            "service_tier": agent.service_tier or "",
            "owner_id": str_or_none(agent.owner_id),
            "skills": [skill_summary_wire(b) for b in _bindings(agent)],
            "disabled_runtime_skills": list(agent.disabled_runtime_skills or []),
            "created_at": format_time(agent.created_at),
            "updated_at": format_time(agent.updated_at),
            "archived_at": format_time(agent.archived_at),
            "archived_by": str_or_none(agent.archived_by),
        }
    )
    return out


def agent_broadcast_wire(agent: Agent) -> dict[str, Any]:
    """The copy that goes onto the WebSocket bus: ``mcp_config`` always redacted."""
    return agent_wire(agent, redact_mcp=True)
