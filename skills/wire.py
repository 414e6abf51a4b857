"""Wire shapes of skills (spec §8.1), shared by the API views and the event payloads.

Pure functions of a row: ``Skill``, ``SkillSummary`` (no ``content``; ``enabled`` only when
agent-scoped), ``SkillWithFiles`` and ``SkillFile``, as Multica's ``handler/skill.go``.
"""

from __future__ import annotations

from typing import Any

from multica_site.wire import format_time, format_time_nano, str_or_none
from skills.models import LocalSkillRequest, Skill, SkillFile


def _config(value: Any) -> Any:
    return {} if value is None else value


def skill_summary_wire(skill: Skill, enabled: bool | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": str(skill.id),
        "workspace_id": str(skill.workspace_id),
        "name": skill.name,
        "description": skill.description,
        "config": _config(skill.config),
        "created_by": str_or_none(skill.created_by_id),
        "created_at": format_time(skill.created_at),
        "updated_at": format_time(skill.updated_at),
    }
    if enabled is not None:
        out["enabled"] = bool(enabled)
    return out


def skill_wire(skill: Skill) -> dict[str, Any]:
    out = skill_summary_wire(skill)
    # Multica's key order: content sits between description and config.
    return {
        "id": out["id"],
        "workspace_id": out["workspace_id"],
        "name": out["name"],
        "description": out["description"],
        "content": skill.content,
        "config": out["config"],
        "created_by": out["created_by"],
        "created_at": out["created_at"],
        "updated_at": out["updated_at"],
    }


def skill_file_wire(f: SkillFile) -> dict[str, Any]:
    return {
        "id": str(f.id),
        "skill_id": str(f.skill_id),
        "path": f.path,
        "content": f.content,
        "created_at": format_time(f.created_at),
        "updated_at": format_time(f.updated_at),
    }


def skill_with_files_wire(skill: Skill, files: list[SkillFile]) -> dict[str, Any]:
    return {**skill_wire(skill), "files": [skill_file_wire(f) for f in files]}


def existing_skill_wire(skill: Skill, user_id: Any) -> dict[str, Any]:
    """``existing_skill`` of an import conflict; ``can_overwrite`` is creator-only."""
    return {
        "id": str(skill.id),
        "name": skill.name,
        "created_by": str_or_none(skill.created_by_id),
        "can_overwrite": skill_can_overwrite_by_import(skill, user_id),
    }


def skill_can_overwrite_by_import(skill: Skill, user_id: Any) -> bool:
    """Narrower than manage: only the skill's creator may overwrite it by re-importing."""
    return skill.created_by_id is not None and str(skill.created_by_id) == str(user_id or "")


# --- runtime local-skill requests (spec §8.3) --------------------------------------------------


def local_skill_list_request_wire(req: LocalSkillRequest) -> dict[str, Any]:
    result = req.result or {}
    out: dict[str, Any] = {
        "id": str(req.id),
        "runtime_id": str(req.runtime_id),
        "status": req.status,
    }
    if req.status == "completed":
        out["skills"] = list(result.get("skills") or [])
    out["supported"] = bool(result.get("supported", True))
    if result.get("mcp_servers"):
        out["mcp_servers"] = list(result["mcp_servers"])
    out["mcp_supported"] = bool(result.get("mcp_supported", False))
    if req.error:
        out["error"] = req.error
    out["created_at"] = format_time_nano(req.created_at)
    out["updated_at"] = format_time_nano(req.updated_at)
    return out


def local_skill_import_request_wire(req: LocalSkillRequest) -> dict[str, Any]:
    params = req.params or {}
    result = req.result or {}
    out: dict[str, Any] = {
        "id": str(req.id),
        "runtime_id": str(req.runtime_id),
        "skill_key": params.get("skill_key", ""),
    }
    for key in ("name", "description", "action", "target_skill_id"):
        if params.get(key):
            out[key] = params[key]
    if params.get("supports_conflict"):
        out["supports_conflict"] = True
    out["status"] = req.status
    if result.get("skill") is not None:
        out["skill"] = result["skill"]
    if result.get("conflict") is not None:
        out["conflict"] = result["conflict"]
    if req.error:
        out["error"] = req.error
    out["created_at"] = format_time_nano(req.created_at)
    out["updated_at"] = format_time_nano(req.updated_at)
    return out
