"""Skill bundle import (``POST /api/skills/import``, spec §8.2): a ``.skill``/``.zip`` upload.

A bundle is a zip with ``SKILL.md`` at its root or inside one top-level folder (the layout of
Anthropic's ``package_skill``); the shallowest ``SKILL.md`` decides the skill root. Its YAML
front matter (``---`` … ``---`` at the very top) gives ``name`` and ``description``; without a
name the folder name, else the uploaded file's stem, is used. Every other file under the root
becomes a supporting file.

Safety, refusing the whole upload with 400 rather than importing part of it:

* the compressed upload is at most 16 MiB and the archive at most 2,000 entries;
* an entry whose path is absolute, has a drive letter or backslash, or a ``..`` segment is
  refused (zip-slip) — nothing is ever written to disk anyway;
* decompressed sizes are enforced while reading (a header that lies cannot force a large
  allocation): 1 MiB per file, 5 MiB in total, at most 200 supporting files;
* directories, ``__MACOSX``, dot-files and licence files are skipped; so are binary files
  (not UTF-8, or with NUL bytes), which a text column cannot hold.

URL imports (ClawHub, skills.sh, GitHub) need outbound network, which this server does not do:
a JSON body with ``url`` gets 400 ``importing from a URL is not supported on this server;
upload a .zip or .skill file``.

Conflicts: with ``on_conflict`` (``fail|overwrite|rename|skip``) the reply is Multica's
structured ``{status, reason?, skill?, existing_skill?}``; without it, 201 SkillWithFiles or
409 ``{error, existing_skill}``. (Multica always answers archives in the structured form; its
CLI always sends ``on_conflict``, so both readings agree for it.)
"""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Any

import yaml
from django.db import IntegrityError, transaction

from multica_site.errors import ValidationError
from skills.models import Skill
from skills.selectors import skill_get_by_name
from skills.services.skills import (
    SKILL_CONTENT_FILENAME,
    FileInput,
    SkillDraft,
    _is_name_conflict,
    canonical_file_path,
    clean_skill_name,
    publish_skill,
    skill_insert,
    skill_name_conflict,
    skill_overwrite,
)
from skills.wire import existing_skill_wire, skill_can_overwrite_by_import

if TYPE_CHECKING:
    from workspaces.context import WorkspaceContext

MAX_UPLOAD_BYTES = 16 * 1024 * 1024
MAX_ARCHIVE_ENTRIES = 2000
MAX_FILE_BYTES = 1024 * 1024
MAX_TOTAL_BYTES = 5 * 1024 * 1024
MAX_FILE_COUNT = 200
MAX_FRONT_MATTER_BYTES = 16 * 1024
MAX_RENAME_ATTEMPTS = 50

ON_CONFLICT_CHOICES = ("fail", "overwrite", "rename", "skip")
URL_IMPORT_UNSUPPORTED = (
    "importing from a URL is not supported on this server; upload a .zip or .skill file"
)
CONFLICT_REASON = (
    "a skill with this name already exists; use --on-conflict overwrite to replace it or "
    "--on-conflict rename to import a copy"
)
_FRONT_MATTER_RE = re.compile(r"\A---\r?\n(.*?\r?\n)---", re.DOTALL)
_IGNORED_NAMES = frozenset({"license", "license.md", "license.txt"})


@dataclass
class ImportedSkill:
    name: str
    description: str
    content: str
    files: list[FileInput]


@dataclass
class ImportOutcome:
    status: int
    body: dict[str, Any]


def _bad(message: str) -> ValidationError:
    return ValidationError(message, code="invalid_skill_archive")


def parse_front_matter(content: str) -> tuple[str, str]:
    """``name`` and ``description`` of a SKILL.md front matter, ``("", "")`` when absent."""
    if not content.startswith("---"):
        return "", ""
    match = _FRONT_MATTER_RE.match(content[: MAX_FRONT_MATTER_BYTES + 8])
    if match is None:
        return "", ""
    try:
        data = yaml.safe_load(match.group(1))
    except yaml.YAMLError:
        return "", ""
    if not isinstance(data, dict):
        return "", ""

    def scalar(value: Any) -> str:
        # Structured values are ignored (a YAML alias bomb must not be expanded).
        if value is None or isinstance(value, dict | list):
            return ""
        if isinstance(value, bool):
            return "true" if value else "false"
        return str(value).strip()

    return scalar(data.get("name")), scalar(data.get("description"))


def _check_entry_name(name: str) -> None:
    if "\\" in name or name.startswith("/") or re.match(r"^[A-Za-z]:", name):
        raise _bad(f"archive entry has an unsafe path: {name}")
    if any(seg == ".." for seg in name.split("/")):
        raise _bad(f"archive entry has an unsafe path: {name}")


def _read(zf: zipfile.ZipFile, info: zipfile.ZipInfo, limit: int) -> bytes:
    if info.file_size > limit:
        raise _bad(f"file {info.filename} exceeds {limit} bytes")
    with zf.open(info) as fh:
        data = fh.read(limit + 1)
    if len(data) > limit:
        raise _bad(f"file {info.filename} exceeds {limit} bytes")
    return data


def _ignored(rel: str) -> bool:
    segments = rel.split("/")
    if any(seg == "__MACOSX" or seg.startswith(".") for seg in segments):
        return True
    return segments[-1].lower() in _IGNORED_NAMES


def _decode_text(data: bytes) -> str | None:
    if b"\x00" in data:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


def parse_skill_archive(data: bytes, filename: str = "") -> ImportedSkill:
    """Decompress a ``.skill``/``.zip`` upload into a skill, or 400 with the reason."""
    if len(data) > MAX_UPLOAD_BYTES:
        raise _bad("invalid multipart upload or file exceeds the size limit")
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        infos = zf.infolist()
    except (zipfile.BadZipFile, ValueError, OSError) as exc:
        raise _bad("uploaded file is not a valid .skill/.zip archive") from exc
    if len(infos) > MAX_ARCHIVE_ENTRIES:
        raise _bad(f"archive has more than {MAX_ARCHIVE_ENTRIES} entries")
    entries: list[tuple[zipfile.ZipInfo, str]] = []
    for info in infos:
        _check_entry_name(info.filename)
        if info.is_dir():
            continue
        clean = canonical_file_path(info.filename)
        if clean is None:
            raise _bad(f"archive entry has an unsafe path: {info.filename}")
        entries.append((info, clean))

    skill_md: tuple[zipfile.ZipInfo, str] | None = None
    root = ""
    for info, clean in entries:
        if PurePosixPath(clean).name.casefold() != SKILL_CONTENT_FILENAME.casefold():
            continue
        if clean.startswith("__MACOSX/"):
            continue
        parent = str(PurePosixPath(clean).parent)
        prefix = "" if parent == "." else parent + "/"
        if skill_md is None or len(prefix) < len(root):
            skill_md, root = (info, clean), prefix
    if skill_md is None:
        raise _bad("archive does not contain a SKILL.md")

    try:
        content = _read(zf, skill_md[0], MAX_FILE_BYTES).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _bad("SKILL.md is not valid UTF-8 text") from exc
    except (zipfile.BadZipFile, OSError, RuntimeError) as exc:
        raise _bad("uploaded file is not a valid .skill/.zip archive") from exc
    content = content.replace("\x00", "")
    name, description = parse_front_matter(content)
    if not name:
        name = _fallback_name(root, filename)
    if not name:
        raise _bad(
            "could not determine the skill name: SKILL.md has no name field and the "
            "archive is unnamed"
        )

    files: list[FileInput] = []
    total = 0
    for info, clean in entries:
        if root and not clean.startswith(root):
            continue
        rel = clean[len(root) :]
        if not rel or PurePosixPath(rel).name.casefold() == SKILL_CONTENT_FILENAME.casefold():
            continue
        if _ignored(rel):
            continue
        try:
            raw = _read(zf, info, MAX_FILE_BYTES)
        except (zipfile.BadZipFile, OSError, RuntimeError) as exc:
            raise _bad("uploaded file is not a valid .skill/.zip archive") from exc
        text = _decode_text(raw)
        if text is None:
            continue  # binary asset: a text column cannot hold it
        if len(files) >= MAX_FILE_COUNT:
            raise _bad(f"import bundle exceeds {MAX_FILE_COUNT} file limit")
        total += len(raw)
        if total > MAX_TOTAL_BYTES:
            raise _bad(f"import bundle exceeds {MAX_TOTAL_BYTES} byte limit")
        files.append(FileInput(path=rel, content=text))
    files.sort(key=lambda f: f.path)
    return ImportedSkill(name=name, description=description, content=content, files=files)


def _fallback_name(root: str, filename: str) -> str:
    if root:
        base = PurePosixPath(root.rstrip("/")).name
        if base not in ("", ".", ".."):
            return base
    base = PurePosixPath((filename or "").replace("\\", "/")).name
    if "." in base:
        base = base.rsplit(".", 1)[0]
    return base.strip()


def parse_on_conflict(raw: Any) -> str:
    if raw is None or raw == "":
        return ""
    if not isinstance(raw, str) or raw not in ON_CONFLICT_CHOICES:
        raise ValidationError(
            "on_conflict must be one of: fail, overwrite, rename, skip", code="invalid_on_conflict"
        )
    return raw


def _result(**fields: Any) -> dict[str, Any]:
    return {k: v for k, v in fields.items() if v is not None}


def skill_import_archive(
    *, ctx: WorkspaceContext, data: bytes, filename: str, on_conflict: Any = ""
) -> ImportOutcome:
    """Import an uploaded bundle; the outcome's status and body are the HTTP reply."""
    strategy = parse_on_conflict(on_conflict)
    imported = parse_skill_archive(data, filename)
    draft = SkillDraft(
        name=clean_skill_name(imported.name),
        description=imported.description,
        content=imported.content,
        config={},  # as Multica: an uploaded archive records no origin
        files=imported.files,
    )
    return skill_import_draft(ctx=ctx, draft=draft, strategy=strategy)


def skill_import_draft(*, ctx: WorkspaceContext, draft: SkillDraft, strategy: str) -> ImportOutcome:
    structured = strategy != ""
    user_id = ctx.user.pk if ctx.user else None
    existing = skill_get_by_name(workspace_id=ctx.workspace_id, name=draft.name)
    if existing is None:
        try:
            with transaction.atomic():
                skill, rows = skill_insert(
                    workspace_id=ctx.workspace_id, created_by_id=user_id, draft=draft
                )
                payload = publish_skill("skill:created", skill, rows, actor=ctx.actor)
        except IntegrityError as exc:
            if not _is_name_conflict(exc):
                raise
            existing = skill_get_by_name(workspace_id=ctx.workspace_id, name=draft.name)
            if existing is None:
                raise skill_name_conflict() from exc
        else:
            if structured:
                return ImportOutcome(201, {"status": "created", "skill": payload})
            return ImportOutcome(201, payload)

    info = existing_skill_wire(existing, user_id)
    if not structured:
        conflict = skill_name_conflict()
        conflict.extra = {"existing_skill": info}
        raise conflict
    if strategy == "skip":
        return ImportOutcome(
            200,
            _result(
                status="skipped",
                reason="a skill with this name already exists",
                existing_skill=info,
            ),
        )
    if strategy == "overwrite":
        return _overwrite(ctx=ctx, existing=existing, draft=draft, info=info)
    if strategy == "rename":
        return _rename(ctx=ctx, draft=draft, info=info)
    return ImportOutcome(
        409, _result(status="conflict", reason=CONFLICT_REASON, existing_skill=info)
    )


def _overwrite(
    *, ctx: WorkspaceContext, existing: Any, draft: SkillDraft, info: dict
) -> ImportOutcome:
    user_id = ctx.user.pk if ctx.user else None
    forbidden = ImportOutcome(
        403,
        _result(
            status="failed",
            reason="only the skill creator can overwrite this skill",
            existing_skill=info,
        ),
    )
    if not skill_can_overwrite_by_import(existing, user_id):
        return forbidden
    with transaction.atomic():
        skill = (
            Skill.objects.select_for_update()
            .filter(id=existing.id, workspace_id=ctx.workspace_id)
            .first()
        )
        if skill is None:
            return ImportOutcome(
                409,
                _result(
                    status="failed", reason="target skill no longer exists", existing_skill=info
                ),
            )
        if not skill_can_overwrite_by_import(skill, user_id):
            return forbidden
        if skill.name != draft.name:
            return ImportOutcome(
                409,
                _result(
                    status="failed",
                    reason="target skill name no longer matches the imported skill",
                    existing_skill=info,
                ),
            )
        rows = skill_overwrite(skill=skill, draft=draft)
        payload = publish_skill("skill:updated", skill, rows, actor=ctx.actor)
    return ImportOutcome(200, {"status": "updated", "skill": payload})


def _rename(*, ctx: WorkspaceContext, draft: SkillDraft, info: dict) -> ImportOutcome:
    user_id = ctx.user.pk if ctx.user else None
    for suffix in range(2, MAX_RENAME_ATTEMPTS + 2):
        candidate = f"{draft.name}-{suffix}"
        if len(candidate) > 255:
            break
        renamed = SkillDraft(
            name=candidate,
            description=draft.description,
            content=draft.content,
            config=draft.config,
            files=draft.files,
        )
        try:
            with transaction.atomic():
                skill, rows = skill_insert(
                    workspace_id=ctx.workspace_id, created_by_id=user_id, draft=renamed
                )
                payload = publish_skill("skill:created", skill, rows, actor=ctx.actor)
        except IntegrityError as exc:
            if _is_name_conflict(exc):
                continue
            raise
        return ImportOutcome(
            201,
            _result(
                status="created",
                reason="renamed to avoid an existing skill",
                skill=payload,
                existing_skill=info,
            ),
        )
    return ImportOutcome(
        500,
        _result(
            status="failed",
            reason="failed to create renamed skill: failed to find an available renamed "
            f"skill name after {MAX_RENAME_ATTEMPTS} attempts",
            existing_skill=info,
        ),
    )
