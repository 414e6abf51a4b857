"""Daemon tokens (``mdt_``): minted per (workspace, daemon id) by a member, shown once,
stored as a SHA-256; revocable by their creator or a workspace owner/admin."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from multica_site.errors import NotFound, ValidationError
from multica_site.wire import format_time
from runtimes.models import DaemonToken
from workspaces import tokens
from workspaces.context import ADMINS, WorkspaceContext

MAX_EXPIRES_DAYS = 3650


def daemon_token_wire(token: DaemonToken) -> dict[str, Any]:
    return {
        "id": str(token.id),
        "workspace_id": str(token.workspace_id),
        "daemon_id": token.daemon_id,
        "name": token.name,
        "token_prefix": token.token_prefix,
        "created_by": str(token.created_by_id),
        "expires_at": format_time(token.expires_at),
        "last_used_at": format_time(token.last_used_at),
        "revoked": token.revoked,
        "created_at": format_time(token.created_at),
    }


def _visible(ctx: WorkspaceContext) -> QuerySet[DaemonToken]:
    qs = DaemonToken.objects.filter(workspace_id=ctx.workspace_id)
    if ctx.role not in ADMINS:
        qs = qs.filter(created_by_id=ctx.user.pk if ctx.user else None)
    return qs


def daemon_token_list(*, ctx: WorkspaceContext) -> QuerySet[DaemonToken]:
    return _visible(ctx).filter(revoked=False).order_by("-created_at", "id")


def daemon_token_create(*, ctx: WorkspaceContext, data: dict[str, Any]) -> tuple[DaemonToken, str]:
    """``{daemon_id, name?, expires_in_days?}`` → (row, raw token). The raw token is returned
    here and never again."""
    if not isinstance(data, dict):
        raise ValidationError("invalid request body")
    daemon_id = data.get("daemon_id")
    if not isinstance(daemon_id, str) or not daemon_id.strip():
        raise ValidationError("daemon_id is required")
    name = data.get("name") or ""
    if not isinstance(name, str):
        raise ValidationError("name must be a string")
    expires_at = None
    days = data.get("expires_in_days")
    if days is not None:
        if not isinstance(days, int) or isinstance(days, bool) or not 0 < days <= MAX_EXPIRES_DAYS:
            raise ValidationError(f"expires_in_days must be between 1 and {MAX_EXPIRES_DAYS}")
        expires_at = timezone.now() + timedelta(days=days)
    raw = tokens.mint_token(tokens.DAEMON_TOKEN_PREFIX)
    with transaction.atomic():
        token = DaemonToken.objects.create(
            workspace_id=ctx.workspace_id,
            daemon_id=daemon_id.strip()[:255],
            name=name.strip()[:255],
            token_hash=tokens.hash_token(raw),
            token_prefix=raw[: tokens.PREFIX_DISPLAY_LENGTH],
            created_by=ctx.user,
            expires_at=expires_at,
        )
    return token, raw


def daemon_token_revoke(*, ctx: WorkspaceContext, token_id: Any) -> None:
    try:
        tid = uuid.UUID(str(token_id))
    except ValueError as exc:
        raise NotFound("token not found", code="token_not_found") from exc
    with transaction.atomic():
        updated = _visible(ctx).filter(pk=tid, revoked=False).update(revoked=True)
    if not updated:
        raise NotFound("token not found", code="token_not_found")
