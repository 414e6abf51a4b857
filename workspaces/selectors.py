"""Reads for workspaces, members and invitations (spec §2).

Workspace-scoped reads take the request's :class:`WorkspaceContext` and filter by its workspace;
a missing and a foreign row raise the same :class:`NotFound`. Lists load related rows up front.
"""

from __future__ import annotations

import uuid
from uuid import UUID

from django.db.models import Q, QuerySet
from django.utils import timezone

from multica_site.errors import NotFound, PermissionDenied, ValidationError
from workspaces.context import WorkspaceContext
from workspaces.models import Invitation, InvitationStatus, Member, User, Workspace


def parse_id(value: object, field: str) -> uuid.UUID:
    """A path id as a UUID, or 400 ``invalid <field>`` (Multica's ``parseUUIDOrBadRequest``)."""
    try:
        return uuid.UUID(str(value))
    except ValueError as exc:
        raise ValidationError(f"invalid {field}", code="invalid_id") from exc


# --- workspaces -------------------------------------------------------------------------------


def workspace_list_for_user(*, user: User) -> QuerySet[Workspace]:
    """The workspaces ``user`` belongs to, oldest first."""
    return Workspace.objects.filter(members__user=user).order_by("created_at", "id")


def workspace_get(*, ctx: WorkspaceContext) -> Workspace:
    workspace = Workspace.objects.filter(pk=ctx.workspace_id).first()
    if workspace is None:
        raise NotFound("workspace not found", code="workspace_not_found")
    return workspace


# --- members ----------------------------------------------------------------------------------


def member_list(*, ctx: WorkspaceContext) -> QuerySet[Member]:
    """``[MemberWithUser]`` rows, oldest first, users loaded in the same query."""
    return (
        Member.objects.filter(workspace_id=ctx.workspace_id)
        .select_related("user")
        .order_by("created_at", "id")
    )


def member_get(*, ctx: WorkspaceContext, member_id: UUID | str) -> Member:
    pk = parse_id(member_id, "member id")
    member = (
        Member.objects.filter(pk=pk, workspace_id=ctx.workspace_id).select_related("user").first()
    )
    if member is None:
        raise NotFound("member not found", code="member_not_found")
    return member


# --- invitations ------------------------------------------------------------------------------


def invitation_list_pending(*, ctx: WorkspaceContext) -> QuerySet[Invitation]:
    """Live pending invitations of the workspace, newest first, inviters loaded."""
    return (
        Invitation.objects.filter(
            workspace_id=ctx.workspace_id,
            status=InvitationStatus.PENDING,
            expires_at__gt=timezone.now(),
        )
        .select_related("inviter")
        .order_by("-created_at", "-id")
    )


def _addressed_to(user: User) -> Q:
    return Q(invitee_user=user) | Q(invitee_email=user.email.strip().lower())


def invitation_list_for_user(*, user: User) -> QuerySet[Invitation]:
    """The caller's live pending invitations (by user id or e-mail), newest first."""
    return (
        Invitation.objects.filter(
            _addressed_to(user),
            status=InvitationStatus.PENDING,
            expires_at__gt=timezone.now(),
        )
        .select_related("inviter", "workspace")
        .order_by("-created_at", "-id")
    )


def invitation_get_for_user(
    *, user: User, invitation_id: UUID | str, for_update: bool = False
) -> Invitation:
    """One invitation addressed to ``user`` (any status). Someone else's → 403."""
    pk = parse_id(invitation_id, "invitation id")
    qs = Invitation.objects.select_related("inviter", "workspace")
    if for_update:
        qs = qs.select_for_update(of=("self",))
    invitation = qs.filter(pk=pk).first()
    if invitation is None:
        raise NotFound("invitation not found", code="invitation_not_found")
    email = user.email.strip().lower()
    if invitation.invitee_email != email and invitation.invitee_user_id != user.pk:
        raise PermissionDenied("invitation does not belong to you", code="invitation_not_yours")
    return invitation
