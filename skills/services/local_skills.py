"""Runtime local skills (spec §8.3, server half): list or import the skills on a runtime's
machine through its daemon.

A browser opens a request (``POST /api/runtimes/{rt}/local-skills`` or ``…/local-skills/import``)
and polls it; the daemon claims pending requests in its heartbeat
(:func:`local_skill_requests_pending`) and reports back (:func:`local_skill_request_complete`).
Both browser routes are for the runtime's owner only (403 ``insufficient permissions``; a
workspace admin is not enough: import copies files off the owner's machine) and need the
runtime online (503 ``runtime is offline``).

Lifecycle (Multica's ``handler/runtime_local_skills.go``): ``pending`` → (claimed) ``running``
→ ``completed|failed|conflict``; a request pending for more than 3 minutes, or running for more
than 60 s, becomes ``timeout`` — applied lazily whenever it is read or claimed. Rows older than
5 minutes are gone (404 ``request not found``) and are purged when new requests open. The claim
time of a running request is its ``updated_at`` (nothing else writes it until it ends).
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from django.db import IntegrityError, transaction
from django.utils.timezone import now

from multica_site.errors import NotFound, PermissionDenied, Unavailable, ValidationError
from multica_site.events import publish
from runtimes.models import AgentRuntime
from skills.models import LocalSkillRequest, Skill
from skills.selectors import skill_get_by_name
from skills.services.skills import (
    FileInput,
    SkillDraft,
    _is_name_conflict,
    canonical_file_path,
    is_reserved_content_path,
    skill_insert,
    skill_overwrite,
)
from skills.wire import (
    local_skill_import_request_wire,
    local_skill_list_request_wire,
    skill_can_overwrite_by_import,
    skill_with_files_wire,
)
from workspaces.context import Actor

if TYPE_CHECKING:
    from workspaces.context import WorkspaceContext

PENDING_TIMEOUT = timedelta(minutes=3)
RUNNING_TIMEOUT = timedelta(seconds=60)
RETENTION = timedelta(minutes=5)
MAX_IMPORT_BATCH = 10
TERMINAL = frozenset({"completed", "failed", "timeout", "conflict"})
Kind = LocalSkillRequest.Kind


def _request_not_found() -> NotFound:
    return NotFound("request not found", code="request_not_found")


def _runtime_for_owner(ctx: WorkspaceContext, runtime_id: Any) -> AgentRuntime:
    runtime = AgentRuntime.objects.filter(id=runtime_id, workspace_id=ctx.workspace_id).first()
    if runtime is None:
        raise NotFound("runtime not found", code="runtime_not_found")
    if ctx.user is None or runtime.owner_id is None or runtime.owner_id != ctx.user.pk:
        raise PermissionDenied("insufficient permissions")
    return runtime


def _require_online(runtime: AgentRuntime) -> None:
    if runtime.status != AgentRuntime.Status.ONLINE:
        raise Unavailable("runtime is offline", code="runtime_offline")


def _purge_expired(runtime: AgentRuntime) -> None:
    LocalSkillRequest.objects.filter(
        runtime_id=runtime.id, created_at__lt=now() - RETENTION
    ).delete()


def _apply_timeout(req: LocalSkillRequest, at: Any = None) -> bool:
    """Move an overdue request to ``timeout`` (and save it). True when it changed."""
    at = at or now()
    if req.status == "pending" and at - req.created_at > PENDING_TIMEOUT:
        req.error = "daemon did not respond within 3 minutes"
    elif req.status == "running" and at - req.updated_at > RUNNING_TIMEOUT:
        req.error = "daemon did not finish within 60 seconds"
    else:
        return False
    req.status = "timeout"
    req.save(update_fields=["status", "error", "updated_at"])
    return True


def _get(ctx: WorkspaceContext, runtime: AgentRuntime, request_id: Any, kind: str):
    with transaction.atomic():
        req = (
            LocalSkillRequest.objects.select_for_update()
            .filter(
                id=request_id,
                runtime_id=runtime.id,
                workspace_id=ctx.workspace_id,
                kind=kind,
                created_at__gte=now() - RETENTION,
            )
            .first()
        )
        if req is None:
            raise _request_not_found()
        _apply_timeout(req)
    return req


# --- browser side ------------------------------------------------------------------------------


def local_skill_list_request_create(*, ctx: WorkspaceContext, runtime_id: Any) -> dict:
    runtime = _runtime_for_owner(ctx, runtime_id)
    _require_online(runtime)
    _purge_expired(runtime)
    req = LocalSkillRequest.objects.create(
        workspace_id=ctx.workspace_id,
        runtime=runtime,
        kind=Kind.LIST,
        status="pending",
        requested_by=ctx.user,
    )
    return local_skill_list_request_wire(req)


def local_skill_list_request_get(
    *, ctx: WorkspaceContext, runtime_id: Any, request_id: Any
) -> dict:
    runtime = _runtime_for_owner(ctx, runtime_id)
    return local_skill_list_request_wire(_get(ctx, runtime, request_id, Kind.LIST))


def _optional_text(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValidationError("invalid request body")
    value = value.replace("\x00", "").strip()
    return value or None


def local_skill_import_request_create(
    *, ctx: WorkspaceContext, runtime_id: Any, body: dict | None
) -> dict:
    """Open an import request: ``{skill_key, name?, description?, action? ("" | "overwrite"),
    target_skill_id? (required for overwrite), supports_conflict?}``."""
    runtime = _runtime_for_owner(ctx, runtime_id)
    _require_online(runtime)
    if not isinstance(body, dict):
        raise ValidationError("invalid request body")
    skill_key = body.get("skill_key")
    name = body.get("name")
    description = body.get("description")
    action = body.get("action")
    target_skill_id = body.get("target_skill_id")
    supports_conflict = body.get("supports_conflict", False)
    if skill_key is not None and not isinstance(skill_key, str):
        raise ValidationError("invalid request body")
    key = (skill_key or "").strip()
    if not key:
        raise ValidationError("skill_key is required", code="skill_key_required")
    if action not in (None, "", "overwrite"):
        raise ValidationError("invalid action", code="invalid_action")
    if supports_conflict is not None and not isinstance(supports_conflict, bool):
        raise ValidationError("invalid request body")
    params: dict[str, Any] = {"skill_key": key}
    clean_name = _optional_text(name)
    clean_description = _optional_text(description)
    if clean_name is not None:
        params["name"] = clean_name
    if clean_description is not None:
        params["description"] = clean_description
    if action == "overwrite":
        try:
            target = uuid.UUID(str(target_skill_id or "").strip())
        except ValueError as exc:
            raise ValidationError("invalid target_skill_id", code="invalid_uuid") from exc
        params["action"] = "overwrite"
        params["target_skill_id"] = str(target)
    # An overwrite is inherently a new-client action: it implies the structured-conflict contract.
    params["supports_conflict"] = bool(supports_conflict) or action == "overwrite"
    _purge_expired(runtime)
    req = LocalSkillRequest.objects.create(
        workspace_id=ctx.workspace_id,
        runtime=runtime,
        kind=Kind.IMPORT,
        status="pending",
        params=params,
        requested_by=ctx.user,
    )
    return local_skill_import_request_wire(req)


def local_skill_import_request_get(
    *, ctx: WorkspaceContext, runtime_id: Any, request_id: Any
) -> dict:
    runtime = _runtime_for_owner(ctx, runtime_id)
    return local_skill_import_request_wire(_get(ctx, runtime, request_id, Kind.IMPORT))


# --- daemon side -------------------------------------------------------------------------------


def _claim(runtime: AgentRuntime, kind: str, limit: int) -> list[LocalSkillRequest]:
    at = now()
    rows = list(
        LocalSkillRequest.objects.select_for_update(skip_locked=True)
        .filter(runtime_id=runtime.id, kind=kind, status="pending")
        .order_by("created_at")[: limit + 20]
    )
    claimed: list[LocalSkillRequest] = []
    for req in rows:
        if _apply_timeout(req, at):
            continue
        if len(claimed) < limit:
            req.status = "running"
            req.save(update_fields=["status", "updated_at"])
            claimed.append(req)
    return claimed


def local_skill_requests_pending(runtime: AgentRuntime, *, batch_imports: bool = True) -> dict:
    """Claim this runtime's pending requests for a heartbeat ack (they become ``running``).

    Returns the ack keys Multica sends, each only when there is work:
    ``pending_local_skills {id}``, ``pending_local_skill_import {id, skill_key}`` (the first
    import, for daemons without batch support) and ``pending_local_skill_imports`` (up to 10,
    only with ``batch_imports``).
    """
    out: dict[str, Any] = {}
    with transaction.atomic():
        lists = _claim(runtime, Kind.LIST, 1)
        imports = _claim(runtime, Kind.IMPORT, MAX_IMPORT_BATCH if batch_imports else 1)
    if lists:
        out["pending_local_skills"] = {"id": str(lists[0].id)}
    if imports:
        items = [{"id": str(r.id), "skill_key": r.params.get("skill_key", "")} for r in imports]
        out["pending_local_skill_import"] = items[0]
        if batch_imports:
            out["pending_local_skill_imports"] = items
    return out


def local_skill_request_complete(
    runtime: AgentRuntime,
    request_id: Any,
    result: dict | None = None,
    error: str | None = None,
) -> dict:
    """Record the daemon's report for a request of ``runtime``; returns ``{"status": "ok"}``.

    ``result`` is the daemon's body: for a list ``{skills, supported?, mcp_servers?,
    mcp_supported?}``, for an import ``{skill: {name, description, content, source_path,
    provider, files}}`` (a bare skill dict is accepted too). A ``status`` other than
    ``completed`` in it, or an ``error``, fails the request. Reports for a finished (or
    timed-out) request are ignored; an unknown or foreign request is 404 ``request not found``.
    An import creates the skill, or overwrites the target when the request asked for it and the
    requester created that skill; a same-name skill otherwise ends in ``conflict`` (clients that
    support it) or ``failed``.
    """
    with transaction.atomic():
        req = (
            LocalSkillRequest.objects.select_for_update()
            .filter(id=request_id, runtime_id=runtime.id, workspace_id=runtime.workspace_id)
            .first()
        )
        if req is None:
            raise _request_not_found()
        _apply_timeout(req)
        if req.status in TERMINAL:
            return {"status": "ok"}
        body = result or {}
        if error is None and body.get("status") not in (None, "completed"):
            error = str(body.get("error") or "")
        if error is not None:
            _fail(req, error)
        elif req.kind == Kind.LIST:
            _complete_list(req, body)
        else:
            _complete_import(req, runtime, body)
    return {"status": "ok"}


def _fail(req: LocalSkillRequest, message: str) -> None:
    req.status = "failed"
    req.error = message
    req.save(update_fields=["status", "error", "updated_at"])


def _complete_list(req: LocalSkillRequest, body: dict) -> None:
    supported = body.get("supported")
    mcp_supported = body.get("mcp_supported")
    req.result = {
        "skills": list(body.get("skills") or []),
        "supported": True if supported is None else bool(supported),
        "mcp_servers": list(body.get("mcp_servers") or []),
        "mcp_supported": bool(mcp_supported) if mcp_supported is not None else False,
    }
    req.status = "completed"
    req.error = None
    req.save(update_fields=["result", "status", "error", "updated_at"])


def _text(value: Any) -> str:
    return value.replace("\x00", "") if isinstance(value, str) else ""


def _complete_import(req: LocalSkillRequest, runtime: AgentRuntime, body: dict) -> None:
    reported = body.get("skill") if isinstance(body.get("skill"), dict) else None
    if reported is None and "content" in body:
        reported = body
    if not reported:
        _fail(req, "daemon returned an empty skill bundle")
        return
    params = req.params or {}
    name = params.get("name") or _text(reported.get("name"))
    description = params.get("description")
    if description is None:
        description = _text(reported.get("description"))
    files: dict[str, FileInput] = {}
    for item in reported.get("files") or []:
        if not isinstance(item, dict):
            continue
        path = canonical_file_path(item.get("path"))
        if path is None or is_reserved_content_path(path):
            continue  # as Multica: unsafe or reserved paths from a daemon are dropped
        files[path] = FileInput(path=path, content=_text(item.get("content")))
    draft = SkillDraft(
        name=name,
        description=description,
        content=_text(reported.get("content")),
        config={
            "origin": {
                "type": "runtime_local",
                "runtime_id": str(runtime.id),
                "provider": _text(reported.get("provider")),
                "source_path": _text(reported.get("source_path")),
            }
        },
        files=sorted(files.values(), key=lambda f: f.path),
    )
    if not name.strip() or len(name) > 255:
        _fail(req, "name is required" if not name.strip() else "name is too long")
        return
    actor = Actor(type="member", id=str(req.requested_by_id))
    if params.get("action") == "overwrite":
        _overwrite(req, draft, actor)
        return
    existing = skill_get_by_name(workspace_id=req.workspace_id, name=name)
    if existing is not None:
        _conflict(req, existing)
        return
    try:
        skill, rows = skill_insert(
            workspace_id=req.workspace_id, created_by_id=req.requested_by_id, draft=draft
        )
    except IntegrityError as exc:
        if not _is_name_conflict(exc):
            raise
        existing = skill_get_by_name(workspace_id=req.workspace_id, name=name)
        if existing is None:
            _fail(req, "a skill with this name already exists")
        else:
            _conflict(req, existing)
        return
    _succeed(req, "skill:created", skill, rows, actor)


def _overwrite(req: LocalSkillRequest, draft: SkillDraft, actor: Actor) -> None:
    target = (
        Skill.objects.select_for_update()
        .filter(id=req.params.get("target_skill_id"), workspace_id=req.workspace_id)
        .first()
    )
    if target is None:
        _fail(req, "target skill no longer exists")
        return
    if not skill_can_overwrite_by_import(target, req.requested_by_id):
        _fail(req, "you no longer have permission to overwrite this skill")
        return
    if target.name != draft.name:
        _fail(req, "target skill name no longer matches the imported skill")
        return
    rows = skill_overwrite(skill=target, draft=draft)
    _succeed(req, "skill:updated", target, rows, actor)


def _conflict(req: LocalSkillRequest, existing: Skill) -> None:
    if not (req.params or {}).get("supports_conflict"):
        _fail(req, "a skill with this name already exists")
        return
    info: dict[str, Any] = {"existing_skill_id": str(existing.id)}
    if existing.created_by_id is not None:
        info["existing_created_by"] = str(existing.created_by_id)
    info["can_overwrite"] = skill_can_overwrite_by_import(existing, req.requested_by_id)
    req.result = {"conflict": info}
    req.status = "conflict"
    req.save(update_fields=["result", "status", "updated_at"])


def _succeed(req: LocalSkillRequest, event: str, skill: Skill, rows: list, actor: Actor) -> None:
    payload = skill_with_files_wire(skill, rows)
    req.result = {"skill": payload}
    req.status = "completed"
    req.error = None
    req.save(update_fields=["result", "status", "error", "updated_at"])
    publish(event, {"skill": payload}, workspace_id=req.workspace_id, actor=actor)
