"""Reads of the skills domain. Every query is scoped to the caller's workspace."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from django.db.models import QuerySet

from multica_site.errors import NotFound
from skills.models import Skill, SkillFile

if TYPE_CHECKING:
    from workspaces.context import WorkspaceContext


def _uuid_or_none(value: Any) -> uuid.UUID | None:
    if isinstance(value, uuid.UUID):
        return value
    try:
        return uuid.UUID(str(value))
    except (TypeError, ValueError):
        return None


def skill_not_found() -> NotFound:
    return NotFound("skill not found", code="skill_not_found")


def skill_list(*, ctx: WorkspaceContext) -> QuerySet[Skill]:
    """The workspace's skills by name, without the (possibly large) SKILL.md body: one query."""
    return Skill.objects.filter(workspace_id=ctx.workspace_id).defer("content").order_by("name")


def skill_get(*, ctx: WorkspaceContext, skill_id: Any, for_update: bool = False) -> Skill:
    """The skill in this workspace, or 404 ``skill not found`` (missing and foreign alike)."""
    sid = _uuid_or_none(skill_id)
    if sid is None:
        raise skill_not_found()
    qs = Skill.objects.filter(id=sid, workspace_id=ctx.workspace_id)
    if for_update:
        qs = qs.select_for_update()
    skill = qs.first()
    if skill is None:
        raise skill_not_found()
    return skill


def skill_get_by_name(*, workspace_id: Any, name: str) -> Skill | None:
    return Skill.objects.filter(workspace_id=workspace_id, name=name).first()


def skill_file_list(*, skill: Skill) -> list[SkillFile]:
    return list(SkillFile.objects.filter(skill_id=skill.id).order_by("path"))


def skill_ids_in_workspace(*, workspace_id: Any, skill_ids: list[uuid.UUID]) -> set[uuid.UUID]:
    """Which of ``skill_ids`` are skills of this workspace: one query."""
    if not skill_ids:
        return set()
    return set(
        Skill.objects.filter(workspace_id=workspace_id, id__in=skill_ids).values_list(
            "id", flat=True
        )
    )
