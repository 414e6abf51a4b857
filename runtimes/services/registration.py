"""The daemon protocol's control plane: workspaces, register, deregister, heartbeat
(daemon contract §1.2–1.5, §1.11; Multica ``handler/daemon.go``)."""

from __future__ import annotations

import hashlib
import json
import uuid
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from agents.models import Agent, AgentTask
from multica_site.errors import NotFound, PermissionDenied, ValidationError
from multica_site.events import publish
from runtimes.auth import DaemonCaller
from runtimes.models import AgentRuntime
from runtimes.wire import runtime_wire
from workspaces.models import Member, Workspace

EVENT_DAEMON_REGISTER = "daemon:register"
HEARTBEAT_ACK = "daemon:heartbeat_ack"
STATUS_RUNTIME_GONE = "runtime_gone"
# last_seen_at is written at most this often for an online runtime (no Redis liveness here).
HEARTBEAT_WRITE_INTERVAL = timedelta(seconds=5)
# Capabilities advertised in heartbeat acks. "rpc-v1" is appended by whoever implements the
# ``tasks.claim`` RPC over the daemon socket (the claim side), never before it exists.
SERVER_CAPABILITIES: list[str] = []
MAX_CAPABILITIES = 32


# --- helpers ------------------------------------------------------------------------------


def parse_capabilities(header: str | None) -> list[str]:
    """``X-Client-Capabilities: a,b,c`` → ``["a","b","c"]`` (trimmed, de-duplicated, capped)."""
    out: list[str] = []
    for raw in (header or "").split(","):
        item = raw.strip()[:64]
        if item and item not in out:
            out.append(item)
    return out[:MAX_CAPABILITIES]


def _uuid(value: Any, field: str) -> uuid.UUID:
    try:
        return uuid.UUID(str(value).strip())
    except (ValueError, AttributeError) as exc:
        raise ValidationError(f"invalid {field}") from exc


def _text(value: Any, limit: int = 255) -> str:
    return value.strip()[:limit] if isinstance(value, str) else ""


def repos_payload(workspace: Workspace) -> dict[str, Any]:
    """``{repos, repos_version, settings}`` as Multica's workspaceReposResponse."""
    repos, seen = [], set()
    for repo in workspace.repos if isinstance(workspace.repos, list) else []:
        if not isinstance(repo, dict):
            continue
        url = str(repo.get("url") or "").strip()
        if not url or url in seen:
            continue
        seen.add(url)
        repos.append({"url": url, "description": str(repo.get("description") or "")})
    version = hashlib.sha256("\n".join(sorted(r["url"] for r in repos)).encode()).hexdigest()
    return {"repos": repos, "repos_version": version, "settings": workspace.settings or {}}


# --- workspaces -----------------------------------------------------------------------------


def daemon_workspaces(*, caller: DaemonCaller) -> tuple[list[dict[str, str]], str]:
    """``[{id, name}]`` the caller may register in, and its ETag."""
    if caller.is_daemon_token:
        qs = Workspace.objects.filter(pk=caller.bound_workspace_id)
    else:
        qs = Workspace.objects.filter(
            id__in=Member.objects.filter(user=caller.user).values("workspace_id")
        )
    items = [{"id": str(w.id), "name": w.name} for w in qs.order_by("created_at", "id")]
    digest = hashlib.sha256(json.dumps(items, sort_keys=True).encode()).hexdigest()[:32]
    return items, f'"{digest}"'


def daemon_workspace_repos(*, caller: DaemonCaller, workspace_id: Any) -> dict[str, Any]:
    """``GET /api/daemon/workspaces/{id}/repos``: ``{workspace_id, repos, repos_version,
    settings}``; 404 ``not found`` for a workspace the caller may not use."""
    workspace = Workspace.objects.filter(pk=_uuid(workspace_id, "workspace_id")).first()
    if workspace is None or not caller.may_use_workspace(workspace.id):
        raise NotFound("not found")
    return {"workspace_id": str(workspace.id), **repos_payload(workspace)}


# --- register ---------------------------------------------------------------------------------


def _merge_legacy(runtime: AgentRuntime, legacy_ids: list[str]) -> None:
    """Fold rows keyed on a previous (hostname-derived) daemon id into ``runtime``: agents and
    tasks are re-pointed, the legacy id recorded, the stale row deleted."""
    merged: set[uuid.UUID] = set()
    for raw in legacy_ids:
        legacy = _text(raw)
        if not legacy or legacy == runtime.daemon_id:
            continue
        olds = AgentRuntime.objects.filter(
            workspace_id=runtime.workspace_id,
            provider=runtime.provider,
            profile_id__isnull=True,
            daemon_id__iexact=legacy,
        ).exclude(pk=runtime.pk)
        for old in olds:
            if old.pk in merged:
                continue
            merged.add(old.pk)
            Agent.objects.filter(runtime=old).update(runtime=runtime)
            AgentTask.objects.filter(runtime=old).update(runtime=runtime)
            AgentRuntime.objects.filter(pk=runtime.pk).update(legacy_daemon_id=legacy)
            runtime.legacy_daemon_id = legacy
            old.delete()


def daemon_register(
    *, caller: DaemonCaller, data: dict[str, Any], capabilities: list[str]
) -> dict[str, Any]:
    """Upsert one runtime per (workspace, daemon_id, provider[, profile_id])."""
    if not isinstance(data, dict):
        raise ValidationError("invalid request body")
    daemon_id = _text(data.get("daemon_id"))
    ws_raw = _text(data.get("workspace_id"))
    if not daemon_id:
        raise ValidationError("daemon_id is required")
    if not ws_raw:
        raise ValidationError("workspace_id is required")
    runtimes_in = data.get("runtimes") or []
    failed_in = data.get("failed_profiles") or []
    if not isinstance(runtimes_in, list) or not isinstance(failed_in, list):
        raise ValidationError("invalid request body")
    if not runtimes_in and not failed_in:
        raise ValidationError("at least one runtime or failed profile is required")
    workspace_id = _uuid(ws_raw, "workspace_id")

    owner_id = None
    if caller.is_daemon_token:
        if caller.bound_workspace_id != workspace_id:
            raise NotFound("workspace not found", code="workspace_not_found")
        if caller.bound_daemon_id != daemon_id:
            raise PermissionDenied(
                "daemon token is bound to a different daemon", code="daemon_mismatch"
            )
    elif not Member.objects.filter(workspace_id=workspace_id, user=caller.user).exists():
        raise NotFound("workspace not found", code="workspace_not_found")
    else:
        owner_id = caller.user.pk
    workspace = Workspace.objects.filter(pk=workspace_id).first()
    if workspace is None:
        raise NotFound("workspace not found", code="workspace_not_found")

    device = _text(data.get("device_name"))
    cli_version = _text(data.get("cli_version"), 64)
    launched_by = _text(data.get("launched_by"), 32)
    legacy_ids = data.get("legacy_daemon_ids") or []
    legacy_ids = (
        [x for x in legacy_ids if isinstance(x, str)] if isinstance(legacy_ids, list) else []
    )
    now = timezone.now()
    out: list[dict[str, Any]] = []
    with transaction.atomic():
        for entry in runtimes_in:
            if not isinstance(entry, dict):
                raise ValidationError("invalid request body")
            if _text(entry.get("profile_id")):
                # Custom runtime profiles are not implemented: such entries are skipped.
                continue
            provider = _text(entry.get("type"), 64).lower() or "unknown"
            version = _text(entry.get("version"))
            name = _text(entry.get("name")) or (f"{provider} ({device})" if device else provider)
            device_info = f"{device} · {version}" if device and version else (device or version)
            status = "offline" if entry.get("status") == "offline" else "online"
            metadata = {
                "version": version,
                "cli_version": cli_version,
                "launched_by": launched_by,
                "capabilities": capabilities,
            }
            runtime = (
                AgentRuntime.objects.select_for_update()
                .filter(
                    workspace_id=workspace_id,
                    daemon_id=daemon_id,
                    provider=provider,
                    profile_id__isnull=True,
                )
                .first()
            )
            if runtime is None:
                runtime = AgentRuntime(
                    workspace_id=workspace_id,
                    daemon_id=daemon_id,
                    provider=provider,
                    owner_id=owner_id or caller.user.pk,
                    created_at=now,
                )
            elif owner_id is not None:
                runtime.owner_id = owner_id
            runtime.name = name[:255]
            runtime.runtime_mode = "local"
            runtime.status = status
            runtime.device_info = device_info[:512]
            runtime.metadata = metadata
            runtime.client_capabilities = capabilities
            runtime.last_seen_at = now
            runtime.save()
            _merge_legacy(runtime, legacy_ids)
            out.append(runtime_wire(runtime))
        publish(EVENT_DAEMON_REGISTER, {"runtimes": out}, workspace_id=workspace_id)
    return {"runtimes": out, **repos_payload(workspace)}


# --- deregister -------------------------------------------------------------------------------


def daemon_deregister(*, caller: DaemonCaller, data: dict[str, Any]) -> dict[str, str]:
    """Mark the caller's runtimes offline (foreign or unknown ids are skipped, as Multica)."""
    ids = data.get("runtime_ids") if isinstance(data, dict) else None
    if not isinstance(ids, list) or not ids:
        raise ValidationError("runtime_ids is required")
    runtime_ids = [_uuid(x, "runtime_ids") for x in ids]
    reasons = data.get("offline_reasons") if isinstance(data.get("offline_reasons"), dict) else {}
    affected: set[str] = set()
    with transaction.atomic():
        for runtime in AgentRuntime.objects.select_for_update().filter(pk__in=runtime_ids):
            if not caller.may_use_runtime(runtime):
                continue
            metadata = dict(runtime.metadata) if isinstance(runtime.metadata, dict) else {}
            reason = reasons.get(str(runtime.id))
            if isinstance(reason, dict) and reason.get("code"):
                metadata["offline_reason"] = {
                    k: reason[k] for k in ("code", "detail", "repair") if k in reason
                }
            else:
                metadata.pop("offline_reason", None)
            runtime.status = AgentRuntime.Status.OFFLINE
            runtime.metadata = metadata
            runtime.save(update_fields=["status", "metadata", "updated_at"])
            affected.add(str(runtime.workspace_id))
        for ws_id in sorted(affected):
            publish(EVENT_DAEMON_REGISTER, {"action": "deregister"}, workspace_id=ws_id)
    return {"status": "ok"}


# --- heartbeat --------------------------------------------------------------------------------


def _record_heartbeat(runtime: AgentRuntime) -> None:
    now = timezone.now()
    fresh = runtime.last_seen_at is not None and now - runtime.last_seen_at < (
        HEARTBEAT_WRITE_INTERVAL
    )
    if runtime.status == AgentRuntime.Status.ONLINE and fresh:
        return
    changes: dict[str, Any] = {"last_seen_at": now, "status": AgentRuntime.Status.ONLINE}
    AgentRuntime.objects.filter(pk=runtime.pk).update(updated_at=now, **changes)
    was_offline = runtime.status != AgentRuntime.Status.ONLINE
    runtime.last_seen_at, runtime.status = now, AgentRuntime.Status.ONLINE
    if was_offline:
        publish(
            EVENT_DAEMON_REGISTER,
            {"action": "heartbeat_online", "runtime_id": str(runtime.id)},
            workspace_id=runtime.workspace_id,
        )


def _pending_work(runtime: AgentRuntime, supports_batch_import: bool) -> dict[str, Any]:
    from skills.services.local_skills import local_skill_requests_pending  # noqa: PLC0415

    return local_skill_requests_pending(runtime, batch_imports=supports_batch_import)


def _load_runtime(runtime_id: Any) -> AgentRuntime | None:
    try:
        rid = uuid.UUID(str(runtime_id))
    except ValueError:
        return None
    return AgentRuntime.objects.filter(pk=rid).first()


def daemon_heartbeat(*, caller: DaemonCaller, data: dict[str, Any]) -> dict[str, Any]:
    """HTTP heartbeat: ``{"status":"ok", pending_*}``; 404 ``runtime not found`` when the row is
    gone (the daemon re-registers), 404 ``not found`` for someone else's runtime."""
    raw = data.get("runtime_id") if isinstance(data, dict) else None
    if not raw:
        raise ValidationError("runtime_id is required")
    rid = _uuid(raw, "runtime_id")
    runtime = AgentRuntime.objects.filter(pk=rid).first()
    if runtime is None:
        raise NotFound("runtime not found", code="runtime_not_found")
    if not caller.may_use_runtime(runtime):
        raise NotFound("not found")
    _record_heartbeat(runtime)
    return {"status": "ok", **_pending_work(runtime, bool(data.get("supports_batch_import")))}


def daemon_heartbeat_ack(*, caller: DaemonCaller, payload: dict[str, Any]) -> dict[str, Any]:
    """WS heartbeat → the ``daemon:heartbeat_ack`` payload. Unknown, deleted or foreign runtimes
    answer ``runtime_gone`` (the daemon drops the runtime and re-registers)."""
    runtime_id = str(payload.get("runtime_id") or "")
    runtime = _load_runtime(runtime_id)
    if runtime is None or not caller.may_use_runtime(runtime):
        return {
            "runtime_id": runtime_id,
            "status": STATUS_RUNTIME_GONE,
            "server_capabilities": list(SERVER_CAPABILITIES),
            "runtime_gone": True,
        }
    _record_heartbeat(runtime)
    return {
        "runtime_id": str(runtime.id),
        "status": "ok",
        "server_capabilities": list(SERVER_CAPABILITIES),
        "runtime_gone": False,
        **_pending_work(runtime, bool(payload.get("supports_batch_import"))),
    }


def daemon_socket_authorized(caller: DaemonCaller, runtime_ids: list[str]) -> bool:
    """The daemon socket handshake: every listed runtime exists and is the caller's to use."""
    try:
        ids = {uuid.UUID(r) for r in runtime_ids}
    except ValueError:
        return False
    if not ids:
        return False
    rows = list(AgentRuntime.objects.filter(pk__in=ids))
    return len(rows) == len(ids) and all(caller.may_use_runtime(r) for r in rows)


def runtime_for_daemon(*, caller: DaemonCaller, runtime_id: Any) -> AgentRuntime:
    """A runtime the caller may act for (result callbacks): 404 ``runtime not found``."""
    runtime = _load_runtime(runtime_id)
    if runtime is None or not caller.may_use_runtime(runtime):
        raise NotFound("runtime not found", code="runtime_not_found")
    return runtime
