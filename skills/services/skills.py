"""Skills (spec §8.2): create, update, delete, file upsert/delete, and the shared write helpers
the bundle and runtime-local imports use. Events ``skill:created|updated {skill}`` (the skill
with its files) and ``skill:deleted {skill_id}`` go out on commit.

Rules (Multica's ``handler/skill.go`` sentences): ``name is required``; a duplicate name in the
workspace is 409 ``a skill with this name already exists``; managing (update, delete, file
writes) needs the skill's creator or a workspace owner/admin, else 403 ``only the skill creator
can manage this skill``. Supporting file paths are relative, canonical POSIX paths: no empty,
absolute, drive-letter or backslash paths, no ``..`` segment (400 ``invalid file path: <p>``),
and never ``SKILL.md`` in any spelling (400 ``SKILL.md is reserved for the primary skill
content``; the SKILL.md body is ``skill.content``). Multica silently drops a ``SKILL.md`` entry
on create/update; this server refuses it so the caller learns the content went nowhere.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.db import IntegrityError, transaction

from multica_site.errors import Conflict, NotFound, PermissionDenied, ValidationError
from multica_site.events import publish
from skills.models import Skill, SkillFile
from skills.selectors import skill_file_list, skill_get
from skills.wire import skill_with_files_wire
from workspaces.context import ADMINS

if TYPE_CHECKING:
    from workspaces.context import WorkspaceContext

SKILL_CONTENT_FILENAME = "SKILL.md"
SKILL_NAME_MAX = 255
SKILL_FILE_PATH_MAX = 512
SKILL_NAME_UNIQUE = "skill_ws_name_uniq"
_DRIVE_RE = re.compile(r"^[A-Za-z]:")


@dataclass
class FileInput:
    path: str
    content: str


@dataclass
class SkillDraft:
    """A validated skill body: what create, import and overwrite write."""

    name: str
    description: str = ""
    content: str = ""
    config: Any = field(default_factory=dict)
    files: list[FileInput] = field(default_factory=list)


def _strip_nul(value: str) -> str:
    return value.replace("\x00", "")


def _text(value: Any, *, default: str = "") -> str:
    if value is None:
        return default
    if not isinstance(value, str):
        raise ValidationError("invalid request body")
    return _strip_nul(value)


def clean_skill_name(raw: Any) -> str:
    name = _text(raw)
    if not name.strip():
        raise ValidationError("name is required", code="invalid_name")
    if len(name) > SKILL_NAME_MAX:
        raise ValidationError("name must be 255 characters or fewer", code="invalid_name")
    return name


def canonical_file_path(raw: Any) -> str | None:
    """The canonical relative POSIX form of ``raw``, or ``None`` when it is unsafe."""
    if not isinstance(raw, str):
        return None
    p = _strip_nul(raw)
    if not p.strip() or "\\" in p or p.startswith("/") or _DRIVE_RE.match(p):
        return None
    parts = [seg for seg in p.split("/") if seg not in ("", ".")]
    if not parts or any(seg == ".." for seg in parts):
        return None
    if any(ord(ch) < 32 for ch in p):
        return None
    clean = "/".join(parts)
    if len(clean) > SKILL_FILE_PATH_MAX:
        return None
    return clean


def is_reserved_content_path(path: str) -> bool:
    return path.casefold() == SKILL_CONTENT_FILENAME.casefold()


def clean_file_path(raw: Any) -> str:
    """A safe supporting-file path or 400 with the reason."""
    clean = canonical_file_path(raw)
    if clean is None:
        shown = raw if isinstance(raw, str) else ""
        raise ValidationError(f"invalid file path: {shown}", code="invalid_file_path")
    if is_reserved_content_path(clean):
        raise ValidationError(
            "SKILL.md is reserved for the primary skill content", code="reserved_file_path"
        )
    return clean


def clean_files(raw: Any) -> list[FileInput]:
    """``[{path, content}]`` validated; a repeated path keeps its last content."""
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise ValidationError("invalid request body")
    by_path: dict[str, FileInput] = {}
    for item in raw:
        if not isinstance(item, dict):
            raise ValidationError("invalid request body")
        path = clean_file_path(item.get("path"))
        by_path[path] = FileInput(path=path, content=_text(item.get("content")))
    return list(by_path.values())


def _clean_config(raw: Any) -> Any:
    return {} if raw is None else raw


def _is_name_conflict(exc: IntegrityError) -> bool:
    return SKILL_NAME_UNIQUE in str(exc) or (
        getattr(getattr(exc.__cause__, "diag", None), "constraint_name", None) == SKILL_NAME_UNIQUE
    )


def skill_name_conflict() -> Conflict:
    return Conflict("a skill with this name already exists", code="skill_name_conflict")


def skill_can_manage(ctx: WorkspaceContext, skill: Skill) -> bool:
    if ctx.role in ADMINS:
        return True
    return (
        ctx.user is not None
        and skill.created_by_id is not None
        and skill.created_by_id == ctx.user.pk
    )


def skill_require_manage(ctx: WorkspaceContext, skill: Skill) -> None:
    if not skill_can_manage(ctx, skill):
        raise PermissionDenied(
            "only the skill creator can manage this skill", code="skill_manage_forbidden"
        )


def _write_files(skill: Skill, files: list[FileInput]) -> list[SkillFile]:
    rows = [SkillFile(skill=skill, path=f.path, content=f.content) for f in files]
    SkillFile.objects.bulk_create(rows)
    return sorted(rows, key=lambda f: f.path)


def skill_insert(
    *, workspace_id: Any, created_by_id: Any, draft: SkillDraft
) -> tuple[Skill, list[SkillFile]]:
    """Insert a skill and its files in a savepoint; IntegrityError on a duplicate name."""
    with transaction.atomic():
        skill = Skill.objects.create(
            workspace_id=workspace_id,
            name=draft.name,
            description=draft.description,
            content=draft.content,
            config=_clean_config(draft.config),
            created_by_id=created_by_id,
        )
        files = _write_files(skill, draft.files)
    return skill, files


def skill_overwrite(*, skill: Skill, draft: SkillDraft) -> list[SkillFile]:
    """Replace description, content, config and every file of ``skill`` (name unchanged)."""
    skill.description = draft.description
    skill.content = draft.content
    skill.config = _clean_config(draft.config)
    skill.save(update_fields=["description", "content", "config", "updated_at"])
    SkillFile.objects.filter(skill_id=skill.id).delete()
    return _write_files(skill, draft.files)


def publish_skill(event: str, skill: Skill, files: list[SkillFile], *, actor: Any) -> dict:
    payload = skill_with_files_wire(skill, files)
    publish(event, {"skill": payload}, workspace_id=skill.workspace_id, actor=actor)
    return payload


def skill_create(
    *,
    ctx: WorkspaceContext,
    name: Any,
    description: Any = "",
    content: Any = "",
    config: Any = None,
    files: Any = None,
) -> tuple[Skill, list[SkillFile]]:
    """Create a skill with its files; 400 on bad input, 409 when the name is taken."""
    draft = SkillDraft(
        name=clean_skill_name(name),
        description=_text(description),
        content=_text(content),
        config=_clean_config(config),
        files=clean_files(files),
    )
    try:
        with transaction.atomic():
            skill, rows = skill_insert(
                workspace_id=ctx.workspace_id,
                created_by_id=ctx.user.pk if ctx.user else None,
                draft=draft,
            )
            publish_skill("skill:created", skill, rows, actor=ctx.actor)
    except IntegrityError as exc:
        if _is_name_conflict(exc):
            raise skill_name_conflict() from exc
        raise
    return skill, rows


_UNSET: Any = object()


def skill_update(
    *,
    ctx: WorkspaceContext,
    skill_id: Any,
    name: Any = _UNSET,
    description: Any = _UNSET,
    content: Any = _UNSET,
    config: Any = _UNSET,
    files: Any = _UNSET,
) -> tuple[Skill, list[SkillFile]]:
    """Partial update (absent or ``null`` keys keep their value); ``files`` replaces them all."""
    new_files = None if files is _UNSET or files is None else clean_files(files)
    fields: dict[str, Any] = {}
    if name is not _UNSET and name is not None:
        fields["name"] = clean_skill_name(name)
    if description is not _UNSET and description is not None:
        fields["description"] = _text(description)
    if content is not _UNSET and content is not None:
        fields["content"] = _text(content)
    if config is not _UNSET and config is not None:
        fields["config"] = config
    try:
        with transaction.atomic():
            skill = skill_get(ctx=ctx, skill_id=skill_id, for_update=True)
            skill_require_manage(ctx, skill)
            for key, value in fields.items():
                setattr(skill, key, value)
            skill.save(update_fields=[*fields, "updated_at"])
            if new_files is not None:
                SkillFile.objects.filter(skill_id=skill.id).delete()
                rows = _write_files(skill, new_files)
            else:
                rows = skill_file_list(skill=skill)
            publish_skill("skill:updated", skill, rows, actor=ctx.actor)
    except IntegrityError as exc:
        if _is_name_conflict(exc):
            raise skill_name_conflict() from exc
        raise
    return skill, rows


def skill_delete(*, ctx: WorkspaceContext, skill_id: Any) -> None:
    """Delete the skill (its files and agent bindings cascade); ``skill:deleted {skill_id}``."""
    with transaction.atomic():
        skill = skill_get(ctx=ctx, skill_id=skill_id, for_update=True)
        skill_require_manage(ctx, skill)
        sid = str(skill.id)
        Skill.objects.filter(id=skill.id, workspace_id=ctx.workspace_id).delete()
        publish("skill:deleted", {"skill_id": sid}, workspace_id=ctx.workspace_id, actor=ctx.actor)


def skill_file_upsert(
    *, ctx: WorkspaceContext, skill_id: Any, path: Any, content: Any
) -> SkillFile:
    """Create or replace one supporting file (by path). Publishes nothing, as Multica."""
    if not isinstance(path, str):
        raise ValidationError("invalid file path", code="invalid_file_path")
    clean = canonical_file_path(path)
    if clean is None:
        raise ValidationError("invalid file path", code="invalid_file_path")
    if is_reserved_content_path(clean):
        raise ValidationError(
            "SKILL.md is reserved for the primary skill content", code="reserved_file_path"
        )
    text = _text(content)
    with transaction.atomic():
        skill = skill_get(ctx=ctx, skill_id=skill_id, for_update=True)
        skill_require_manage(ctx, skill)
        row, _ = SkillFile.objects.update_or_create(
            skill_id=skill.id, path=clean, defaults={"content": text}
        )
    return row


def skill_file_delete(*, ctx: WorkspaceContext, skill_id: Any, file_id: Any) -> None:
    with transaction.atomic():
        skill = skill_get(ctx=ctx, skill_id=skill_id)
        skill_require_manage(ctx, skill)
        deleted, _ = SkillFile.objects.filter(id=file_id, skill_id=skill.id).delete()
    if not deleted:
        raise NotFound("skill file not found", code="skill_file_not_found")
