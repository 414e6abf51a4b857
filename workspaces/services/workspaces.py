"""Workspaces, members, invitations (spec §2): every write, every event.

Services take the request's :class:`WorkspaceContext` (workspace-scoped routes) or the acting
``user`` (``/api/workspaces`` and ``/api/invitations``), own their transaction, raise
:class:`multica_site.errors.DomainError`, and publish Multica's events on commit.

The ``*_wire`` functions render the JSON shapes Multica sends (``WorkspaceResponse``,
``MemberWithUserResponse``, ``InvitationResponse``); the API serializers and event payloads both
use them, so the two never drift.
"""

from __future__ import annotations

import html
import logging
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit
from uuid import UUID

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.mail import send_mail
from django.core.validators import validate_email
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.db.models import Q
from django.utils import timezone

from multica_site.errors import (
    Conflict,
    Gone,
    NotFound,
    PermissionDenied,
    RateLimited,
    Unavailable,
    ValidationError,
)
from multica_site.events import publish
from workspaces.context import Actor, WorkspaceContext
from workspaces.models import Invitation, InvitationStatus, Member, Role, User, Workspace
from workspaces.selectors import invitation_get_for_user, member_get, parse_id, workspace_get

logger = logging.getLogger("multica.workspaces")

# Event names (Multica's pkg/protocol/events.go).
WORKSPACE_UPDATED = "workspace:updated"
WORKSPACE_DELETED = "workspace:deleted"
MEMBER_ADDED = "member:added"
MEMBER_UPDATED = "member:updated"
MEMBER_REMOVED = "member:removed"
INVITATION_CREATED = "invitation:created"
INVITATION_ACCEPTED = "invitation:accepted"
INVITATION_DECLINED = "invitation:declined"
INVITATION_REVOKED = "invitation:revoked"

SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
PREFIX_RE = re.compile(r"^[A-Z0-9]{1,10}$")
ISSUE_PREFIX_ERROR = "issue prefix must be 1-10 uppercase letters or digits"
LAST_OWNER_ERROR = "workspace must have at least one owner"

INVITATION_TTL = timedelta(days=7)
# Milliseconds a workspace delete waits for a row lock before answering 503 (Multica: 10 s).
WORKSPACE_DELETE_LOCK_TIMEOUT_MS = 10_000


@dataclass(frozen=True)
class InvitationLimit:
    """At most ``limit`` invitations per ``window`` for one key (Multica's sliding windows)."""

    name: str
    limit: int
    window: timedelta


INVITER_LIMIT = InvitationLimit("actor", 10, timedelta(minutes=10))
WORKSPACE_LIMIT = InvitationLimit("workspace", 50, timedelta(hours=24))
RECIPIENT_LIMIT = InvitationLimit("recipient", 6, timedelta(hours=24))

# Extension points for other domains, all run inside the writing transaction.
# Seed per-workspace data (e.g. the issue status catalog): hook(workspace).
WORKSPACE_CREATED_HOOKS: list[Callable[[Workspace], None]] = []
# Clean up rows that do not cascade before the workspace row goes: hook(workspace).
WORKSPACE_DELETING_HOOKS: list[Callable[[Workspace], None]] = []
# Revoke what a departing member still holds (spec §2: runtimes forced offline, agents on them
# archived, their tasks cancelled, daemon tokens deleted): hook(workspace, member, actor).
# Runs before the member row is deleted, for both removal by an admin and leaving.
MEMBER_REMOVED_HOOKS: list[Callable[[Workspace, Member, Actor], None]] = []


# --- wire shapes ------------------------------------------------------------------------------


def format_time(value: datetime | None) -> str | None:
    """RFC 3339, second precision, UTC (``2026-08-22T03:27:39Z``)."""
    if value is None:
        return None
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def workspace_wire(workspace: Workspace) -> dict[str, Any]:
    return {
        "id": str(workspace.id),
        "name": workspace.name,
        "slug": workspace.slug,
        "description": workspace.description,
        "context": workspace.context,
        "settings": workspace.settings if workspace.settings is not None else {},
        "repos": workspace.repos if workspace.repos is not None else [],
        "issue_prefix": workspace.issue_prefix,
        "avatar_url": workspace.avatar_url,
        "created_at": format_time(workspace.created_at),
        "updated_at": format_time(workspace.updated_at),
    }


def member_wire(member: Member) -> dict[str, Any]:
    """``MemberWithUser``; ``member.user`` should be loaded (``select_related``)."""
    user = member.user
    return {
        "id": str(member.id),
        "workspace_id": str(member.workspace_id),
        "user_id": str(member.user_id),
        "role": member.role,
        "created_at": format_time(member.created_at),
        "name": user.name,
        "email": user.email,
        "avatar_url": user.avatar_url,
    }


def invitation_wire(
    invitation: Invitation, *, with_inviter: bool = False, with_workspace: bool = False
) -> dict[str, Any]:
    """``Invitation``; the enriched keys appear only when asked for and non-empty (omitempty)."""
    body: dict[str, Any] = {
        "id": str(invitation.id),
        "workspace_id": str(invitation.workspace_id),
        "inviter_id": str(invitation.inviter_id),
        "invitee_email": invitation.invitee_email,
        "invitee_user_id": str(invitation.invitee_user_id) if invitation.invitee_user_id else None,
        "role": invitation.role,
        "status": invitation.status,
        "created_at": format_time(invitation.created_at),
        "updated_at": format_time(invitation.updated_at),
        "expires_at": format_time(invitation.expires_at),
    }
    if with_inviter:
        inviter = invitation.inviter
        if inviter.name:
            body["inviter_name"] = inviter.name
        if inviter.email:
            body["inviter_email"] = inviter.email
    if with_workspace and invitation.workspace.name:
        body["workspace_name"] = invitation.workspace.name
    return body


# --- helpers ----------------------------------------------------------------------------------


def _clean_text(value: str) -> str:
    """Stored text never carries NUL bytes (PostgreSQL rejects them; Multica strips them)."""
    return value.replace("\x00", "")


def _user_actor(user: User) -> Actor:
    return Actor(type="member", id=str(user.pk))


def _require_roles(ctx: WorkspaceContext, roles: Iterable[str]) -> None:
    """Defence in depth: the view gates roles too, but a service must be safe on its own."""
    if ctx.role not in frozenset(roles):
        raise PermissionDenied()


def _lock_workspace(ctx: WorkspaceContext) -> Workspace:
    """Serialise membership changes of one workspace (last-owner checks stay true)."""
    workspace = Workspace.objects.select_for_update().filter(pk=ctx.workspace_id).first()
    if workspace is None:
        raise NotFound("workspace not found", code="workspace_not_found")
    return workspace


def _owner_count(workspace_id: Any) -> int:
    return Member.objects.filter(workspace_id=workspace_id, role=Role.OWNER).count()


def _normalize_role(raw: str | None) -> str:
    role = (raw or "").strip()
    if not role:
        return Role.MEMBER
    if role not in Role.values:
        raise ValidationError("invalid member role", code="invalid_role")
    return role


def _normalize_issue_prefix(raw: str | None) -> str:
    """Trimmed and upper-cased; ``""`` means "not given". Invalid → 400."""
    prefix = (raw or "").strip().upper()
    if prefix and not PREFIX_RE.match(prefix):
        raise ValidationError(ISSUE_PREFIX_ERROR, code="invalid_issue_prefix")
    return prefix


def default_issue_prefix(slug: str) -> str:
    chars = [c for c in slug.upper() if c.isascii() and c.isalnum()][:4]
    return "".join(chars) or "WS"


def is_valid_git_repo_url(value: str) -> bool:
    """http(s)/ssh/git URLs with a host, or scp-like ``[user@]host:path`` (Multica's rule)."""
    try:
        parts = urlsplit(value)
    except ValueError:
        parts = None
    if parts is not None and parts.netloc and parts.scheme in ("http", "https", "ssh", "git"):
        return True
    if " " in value or "://" in value:
        return False
    colon = value.find(":")
    if colon <= 0 or colon == len(value) - 1:
        return False
    at = value.find("@")
    if at >= colon:
        return False
    host = value[at + 1 : colon] if at >= 0 else value[:colon]
    return bool(host) and bool(value[colon + 1 :])


def normalize_repos(value: Any) -> list[dict[str, str]]:
    """Validate ``[{url, description?}]``: trimmed, git URLs only, de-duplicated by URL."""
    shape_error = "repos must be an array of repository objects"
    if not isinstance(value, list):
        raise ValidationError(shape_error, code="invalid_repos")
    out: list[dict[str, str]] = []
    seen: set[str] = set()
    for index, item in enumerate(value):
        if not isinstance(item, Mapping):
            raise ValidationError(shape_error, code="invalid_repos")
        url, description = item.get("url") or "", item.get("description") or ""
        if not isinstance(url, str) or not isinstance(description, str):
            raise ValidationError(shape_error, code="invalid_repos")
        url, description = _clean_text(url).strip(), _clean_text(description).strip()
        if not url:
            raise ValidationError(f"repos[{index}]: url is required", code="invalid_repos")
        if not is_valid_git_repo_url(url):
            raise ValidationError(
                f"repos[{index}]: url must be a valid http(s) or ssh git URL", code="invalid_repos"
            )
        if url in seen:
            continue
        seen.add(url)
        out.append({"url": url, "description": description} if description else {"url": url})
    return out


# --- workspaces -------------------------------------------------------------------------------


def workspace_create(
    *,
    user: User,
    name: str,
    slug: str,
    description: str | None = None,
    context: str | None = None,
    issue_prefix: str | None = None,
    check_creation_enabled: bool = False,
) -> Workspace:
    """Create a workspace with ``user`` as its owner.

    ``check_creation_enabled`` applies the self-host gate ``DISABLE_WORKSPACE_CREATION`` (the
    API passes it; operator commands such as ``bootstrap`` do not).
    """
    from workspaces.reserved import is_reserved_slug  # noqa: PLC0415

    if check_creation_enabled and settings.DISABLE_WORKSPACE_CREATION:
        raise PermissionDenied(
            "workspace creation is disabled for this instance", code="workspace_creation_disabled"
        )
    name = _clean_text(name or "").strip()
    slug = (slug or "").strip().lower()
    if not name or not slug:
        raise ValidationError("name and slug are required")
    if not SLUG_RE.match(slug):
        raise ValidationError(
            "slug must contain only lowercase letters, numbers, and hyphens", code="invalid_slug"
        )
    if is_reserved_slug(slug):
        raise ValidationError("slug is reserved", code="reserved_slug")
    prefix = _normalize_issue_prefix(issue_prefix) or default_issue_prefix(slug)
    try:
        with transaction.atomic():
            workspace = Workspace.objects.create(
                name=name,
                slug=slug,
                description=_clean_text(description) if description is not None else None,
                context=_clean_text(context) if context is not None else None,
                issue_prefix=prefix,
            )
            Member.objects.create(workspace=workspace, user=user, role=Role.OWNER)
            for hook in WORKSPACE_CREATED_HOOKS:
                hook(workspace)
    except IntegrityError as exc:
        if Workspace.objects.filter(slug=slug).exists():
            raise Conflict("workspace slug already exists", code="slug_conflict") from exc
        raise
    return workspace


def workspace_update(
    *,
    ctx: WorkspaceContext,
    name: str | None = None,
    description: str | None = None,
    context: str | None = None,
    settings: Any = None,
    repos: Any = None,
    issue_prefix: str | None = None,
    avatar_url: str | None = None,
) -> Workspace:
    """Partial update by an owner or admin. ``None`` leaves a field unchanged."""
    _require_roles(ctx, (Role.OWNER, Role.ADMIN))
    changes: dict[str, Any] = {}
    if name is not None:
        name = _clean_text(name).strip()
        if not name:
            raise ValidationError("name is required")
        changes["name"] = name
    if description is not None:
        changes["description"] = _clean_text(description)
    if context is not None:
        changes["context"] = _clean_text(context)
    if settings is not None:
        if not isinstance(settings, Mapping):
            raise ValidationError("settings must be an object", code="invalid_settings")
        changes["settings"] = dict(settings)
    if repos is not None:
        changes["repos"] = normalize_repos(repos)
    if issue_prefix is not None:
        prefix = _normalize_issue_prefix(issue_prefix)
        if prefix:
            changes["issue_prefix"] = prefix
    if avatar_url is not None:
        changes["avatar_url"] = _clean_text(avatar_url).strip()

    with transaction.atomic():
        changes["updated_at"] = timezone.now()
        Workspace.objects.filter(pk=ctx.workspace_id).update(**changes)
        workspace = workspace_get(ctx=ctx)
        publish(
            WORKSPACE_UPDATED,
            {"workspace": workspace_wire(workspace)},
            workspace_id=workspace.id,
            actor=ctx.actor,
        )
    return workspace


def workspace_delete(*, ctx: WorkspaceContext) -> None:
    """Delete the workspace and (by cascade) everything in it. Owner only."""
    _require_roles(ctx, (Role.OWNER,))
    workspace_id = ctx.workspace_id
    try:
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT set_config('lock_timeout', %s, true)",
                    [f"{WORKSPACE_DELETE_LOCK_TIMEOUT_MS}ms"],
                )
            workspace = _lock_workspace(ctx)
            for hook in WORKSPACE_DELETING_HOOKS:
                hook(workspace)
            Workspace.objects.filter(pk=workspace_id).delete()
            publish(
                WORKSPACE_DELETED,
                {"workspace_id": str(workspace_id)},
                workspace_id=workspace_id,
                actor=ctx.actor,
            )
    except DatabaseError as exc:
        if getattr(getattr(exc, "__cause__", None), "sqlstate", None) in ("55P03", "40P01"):
            raise Unavailable(
                "workspace deletion is temporarily blocked by another operation, please try again",
                code="workspace_delete_locked",
            ) from exc
        raise


# --- members ----------------------------------------------------------------------------------


def member_update_role(*, ctx: WorkspaceContext, member_id: UUID | str, role: str | None) -> Member:
    """Change a member's role. Touching an owner needs an owner; the last owner stays."""
    _require_roles(ctx, (Role.OWNER, Role.ADMIN))
    if not (role or "").strip():
        raise ValidationError("role is required")
    new_role = _normalize_role(role)
    with transaction.atomic():
        _lock_workspace(ctx)
        target = member_get(ctx=ctx, member_id=member_id)
        if Role.OWNER in (target.role, new_role) and ctx.role != Role.OWNER:
            raise PermissionDenied()
        if (
            target.role == Role.OWNER
            and new_role != Role.OWNER
            and _owner_count(ctx.workspace_id) <= 1
        ):
            raise ValidationError(LAST_OWNER_ERROR, code="last_owner")
        Member.objects.filter(pk=target.pk, workspace_id=ctx.workspace_id).update(role=new_role)
        target.role = new_role
        publish(
            MEMBER_UPDATED,
            {"member": member_wire(target)},
            workspace_id=ctx.workspace_id,
            actor=ctx.actor,
        )
    return target


def _remove_member(ctx: WorkspaceContext, workspace: Workspace, target: Member) -> None:
    for hook in MEMBER_REMOVED_HOOKS:
        hook(workspace, target, ctx.actor)
    Member.objects.filter(pk=target.pk, workspace_id=ctx.workspace_id).delete()
    publish(
        MEMBER_REMOVED,
        {
            "member_id": str(target.id),
            "workspace_id": str(ctx.workspace_id),
            "user_id": str(target.user_id),
        },
        workspace_id=ctx.workspace_id,
        actor=ctx.actor,
    )


def member_remove(*, ctx: WorkspaceContext, member_id: UUID | str) -> None:
    """Remove a member (owner/admin). Removing an owner needs an owner; the last owner stays."""
    _require_roles(ctx, (Role.OWNER, Role.ADMIN))
    with transaction.atomic():
        workspace = _lock_workspace(ctx)
        target = member_get(ctx=ctx, member_id=member_id)
        if target.role == Role.OWNER:
            if ctx.role != Role.OWNER:
                raise PermissionDenied()
            if _owner_count(ctx.workspace_id) <= 1:
                raise ValidationError(LAST_OWNER_ERROR, code="last_owner")
        _remove_member(ctx, workspace, target)


def member_leave(*, ctx: WorkspaceContext) -> None:
    """The caller leaves the workspace; the last owner cannot."""
    if ctx.member is None:
        raise NotFound("workspace not found", code="workspace_not_found")
    with transaction.atomic():
        workspace = _lock_workspace(ctx)
        target = member_get(ctx=ctx, member_id=str(ctx.member.id))
        if target.role == Role.OWNER and _owner_count(ctx.workspace_id) <= 1:
            raise ValidationError(LAST_OWNER_ERROR, code="last_owner")
        _remove_member(ctx, workspace, target)


# --- invitations ------------------------------------------------------------------------------


def _retry_after(limit: InvitationLimit, rows: Q, now: datetime) -> int | None:
    """Seconds until ``rows`` drops below ``limit`` in its window, or ``None`` if it is under."""
    since = now - limit.window
    created = list(
        Invitation.objects.filter(rows, created_at__gt=since)
        .order_by("-created_at")
        .values_list("created_at", flat=True)[: limit.limit]
    )
    if len(created) < limit.limit:
        return None
    # The limit-th newest row must leave the window before one more fits.
    wait = (created[-1] + limit.window - now).total_seconds()
    return max(1, int(wait + 0.999))


def _admit_invitation(*, inviter_id: Any, workspace_id: Any, email: str) -> None:
    """Multica's three budgets, counted from the invitation rows themselves."""
    now = timezone.now()
    waits = [
        _retry_after(INVITER_LIMIT, Q(inviter_id=inviter_id), now),
        _retry_after(WORKSPACE_LIMIT, Q(workspace_id=workspace_id), now),
        _retry_after(RECIPIENT_LIMIT, Q(invitee_email=email), now),
    ]
    denied = [w for w in waits if w is not None]
    if denied:
        retry_after = max(denied)
        raise RateLimited(
            "too many invitation requests",
            code="invitation_rate_limited",
            headers={"Retry-After": str(retry_after), "Cache-Control": "no-store"},
            extra={"retry_after_seconds": retry_after},
        )


def _subject_field(value: str) -> str:
    return " ".join(value.split())[:200]


def _send_invitation_email(
    *, to: str, inviter_name: str, workspace_name: str, invitation_id: str
) -> None:
    # Multica links to FRONTEND_ORIGIN; a self-hosted clone without one serves its own pages.
    app_url = (
        (getattr(settings, "FRONTEND_ORIGIN", "") or "").strip()
        or (getattr(settings, "MULTICA_PUBLIC_URL", "") or "").strip()
        or "https://multica.ai"
    )
    invite_url = f"{app_url.rstrip('/')}/invite/{invitation_id}"
    subject = (
        f"{_subject_field(inviter_name)} invited you to {_subject_field(workspace_name)} on Multica"
    )
    text = (
        f"{inviter_name} invited you to collaborate in the {workspace_name} workspace on "
        f"Multica.\n\nAccept the invitation: {invite_url}\n\n"
        "You'll need to log in to accept or decline the invitation.\n"
    )
    safe_ws, safe_inviter = html.escape(workspace_name), html.escape(inviter_name)
    body_html = (
        '<div style="font-family: sans-serif; max-width: 480px; margin: 0 auto;">'
        f"<h2>You're invited to join {safe_ws}</h2>"
        f"<p><strong>{safe_inviter}</strong> invited you to collaborate in the "
        f"<strong>{safe_ws}</strong> workspace on Multica.</p>"
        f'<p style="margin: 24px 0;"><a href="{html.escape(invite_url)}">Accept invitation</a></p>'
        '<p style="color: #666; font-size: 14px;">You\'ll need to log in to accept or decline '
        "the invitation.</p></div>"
    )
    try:
        send_mail(subject, text, None, [to], html_message=body_html)
    except OSError:  # smtplib errors are OSErrors; the invitation stands without the email
        logger.exception("failed to send invitation email to %s", to)


def invitation_create(*, ctx: WorkspaceContext, email: str, role: str | None = None) -> Invitation:
    """``POST /api/workspaces/{id}/members``: invite ``email`` (an account is not required)."""
    _require_roles(ctx, (Role.OWNER, Role.ADMIN))
    if ctx.user is None:
        raise PermissionDenied()
    email = (email or "").strip().lower()
    if not email:
        raise ValidationError("email is required")
    try:
        validate_email(email)
    except DjangoValidationError as exc:
        raise ValidationError("invalid email", code="invalid_email") from exc
    new_role = _normalize_role(role)
    if new_role == Role.OWNER:
        raise ValidationError("cannot invite as owner", code="cannot_invite_owner")

    with transaction.atomic():
        workspace = _lock_workspace(ctx)
        invitee = User.objects.filter(email=email).first()
        if (
            invitee is not None
            and Member.objects.filter(workspace_id=ctx.workspace_id, user=invitee).exists()
        ):
            raise Conflict("user is already a member", code="already_member")
        now = timezone.now()
        # Past-due pending rows would block the partial unique index: expire them first.
        Invitation.objects.filter(
            workspace_id=ctx.workspace_id,
            invitee_email=email,
            status=InvitationStatus.PENDING,
            expires_at__lte=now,
        ).update(status=InvitationStatus.EXPIRED, updated_at=now)
        if Invitation.objects.filter(
            workspace_id=ctx.workspace_id, invitee_email=email, status=InvitationStatus.PENDING
        ).exists():
            raise Conflict(
                "invitation already pending for this email", code="invitation_already_pending"
            )
        _admit_invitation(inviter_id=ctx.user.pk, workspace_id=ctx.workspace_id, email=email)
        try:
            with transaction.atomic():
                invitation = Invitation.objects.create(
                    workspace=workspace,
                    inviter=ctx.user,
                    invitee_email=email,
                    invitee_user=invitee,
                    role=new_role,
                    created_at=now,
                    expires_at=now + INVITATION_TTL,
                )
        except IntegrityError as exc:
            raise Conflict(
                "invitation already pending for this email", code="invitation_already_pending"
            ) from exc
        publish(
            INVITATION_CREATED,
            {"invitation": invitation_wire(invitation), "workspace_name": workspace.name},
            # Personal event: only the invitee's own room (when they have an account).
            actor=ctx.actor,
            user_ids=[invitee.pk] if invitee is not None else [],
        )
        inviter_name, workspace_name = ctx.user.name or email, workspace.name
        invitation_id = str(invitation.id)
        transaction.on_commit(
            lambda: _send_invitation_email(
                to=email,
                inviter_name=inviter_name,
                workspace_name=workspace_name,
                invitation_id=invitation_id,
            ),
            robust=True,
        )
    return invitation


def invitation_revoke(*, ctx: WorkspaceContext, invitation_id: UUID | str) -> None:
    """Delete a pending invitation of this workspace (owner/admin)."""
    _require_roles(ctx, (Role.OWNER, Role.ADMIN))
    pk = parse_id(invitation_id, "invitation id")
    with transaction.atomic():
        invitation = (
            Invitation.objects.select_for_update()
            .filter(pk=pk, workspace_id=ctx.workspace_id, status=InvitationStatus.PENDING)
            .first()
        )
        if invitation is None:
            raise NotFound("invitation not found", code="invitation_not_found")
        Invitation.objects.filter(pk=invitation.pk, workspace_id=ctx.workspace_id).delete()
        publish(
            INVITATION_REVOKED,
            {
                "invitation_id": str(invitation.id),
                "invitee_email": invitation.invitee_email,
                "invitee_user_id": (
                    str(invitation.invitee_user_id) if invitation.invitee_user_id else None
                ),
            },
            # Personal event: only the invitee's own room (when they have an account).
            actor=ctx.actor,
            user_ids=[invitation.invitee_user_id] if invitation.invitee_user_id else [],
        )


def _load_own_pending(user: User, invitation_id: UUID | str) -> Invitation:
    """The caller's invitation, locked; 404/403 as Multica; 400 when it is not pending."""
    invitation = invitation_get_for_user(user=user, invitation_id=invitation_id, for_update=True)
    if invitation.status != InvitationStatus.PENDING:
        raise ValidationError("invitation is not pending", code="invitation_not_pending")
    return invitation


def invitation_accept(*, user: User, invitation_id: UUID | str) -> Member:
    """Join the workspace with the invited role; marks the user onboarded."""
    actor = _user_actor(user)
    expired = False
    with transaction.atomic():
        invitation = _load_own_pending(user, invitation_id)
        now = timezone.now()
        if invitation.expires_at <= now:
            Invitation.objects.filter(pk=invitation.pk).update(
                status=InvitationStatus.EXPIRED, updated_at=now
            )
            expired = True
        else:
            if Member.objects.filter(workspace_id=invitation.workspace_id, user=user).exists():
                raise Conflict("you are already a member of this workspace", code="already_member")
            Invitation.objects.filter(pk=invitation.pk).update(
                status=InvitationStatus.ACCEPTED, updated_at=now
            )
            member = Member.objects.create(
                workspace_id=invitation.workspace_id, user=user, role=invitation.role
            )
            User.objects.filter(pk=user.pk, onboarded_at__isnull=True).update(onboarded_at=now)
            if user.onboarded_at is None:
                user.onboarded_at = now
            member.user = user
            member_body = member_wire(member)
            publish(
                MEMBER_ADDED,
                {"member": member_body, "workspace_name": invitation.workspace.name},
                workspace_id=invitation.workspace_id,
                actor=actor,
                # Also the new member's own room, so their other sessions see the workspace.
                user_ids=[user.pk],
            )
            publish(
                INVITATION_ACCEPTED,
                {"invitation_id": str(invitation.id), "member": member_body},
                workspace_id=invitation.workspace_id,
                actor=actor,
            )
    if expired:
        raise Gone("invitation has expired", code="invitation_expired")
    return member


def invitation_decline(*, user: User, invitation_id: UUID | str) -> None:
    with transaction.atomic():
        invitation = _load_own_pending(user, invitation_id)
        Invitation.objects.filter(pk=invitation.pk).update(
            status=InvitationStatus.DECLINED, updated_at=timezone.now()
        )
        publish(
            INVITATION_DECLINED,
            {"invitation_id": str(invitation.id), "invitee_email": invitation.invitee_email},
            workspace_id=invitation.workspace_id,
            actor=_user_actor(user),
        )
