"""Workspaces, members and invitations (spec §2).

Thin views: parse with a serializer, call one service or selector, render. ``/api/workspaces``
and ``/api/invitations…`` act as the user; ``/api/workspaces/{workspace_id}/…`` resolve the
workspace from the path (a non-member gets 404 ``workspace not found``) and gate roles per method.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from multica_site.errors import ValidationError
from multica_site.views import UserAPIView, WorkspacePathAPIView
from workspaces import selectors
from workspaces.api import workspace_serializers as s
from workspaces.context import ADMINS, OWNERS
from workspaces.services import workspaces as services


def _input(serializer_class: type[serializers.Serializer], request: Request) -> dict[str, Any]:
    """Validated body fields; a body of the wrong JSON types is ``invalid request body``."""
    data = {} if request.data is None else request.data
    if not isinstance(data, dict):
        raise ValidationError("invalid request body")
    serializer = serializer_class(data=data)
    if not serializer.is_valid():
        raise ValidationError("invalid request body")
    return {k: v for k, v in serializer.validated_data.items() if v is not None}


def _no_content() -> Response:
    return Response(status=204)


# --- /api/workspaces --------------------------------------------------------------------------


class WorkspaceListView(UserAPIView):
    @extend_schema(responses=s.WorkspaceOutput(many=True))
    def get(self, request: Request) -> Response:
        workspaces = selectors.workspace_list_for_user(user=request.user)
        return Response(s.WorkspaceOutput(workspaces, many=True).data)

    @extend_schema(request=s.WorkspaceCreateInput, responses={201: s.WorkspaceOutput})
    def post(self, request: Request) -> Response:
        data = _input(s.WorkspaceCreateInput, request)
        workspace = services.workspace_create(
            user=request.user,
            name=data.get("name", ""),
            slug=data.get("slug", ""),
            description=data.get("description"),
            context=data.get("context"),
            issue_prefix=data.get("issue_prefix"),
            check_creation_enabled=True,
        )
        return Response(s.WorkspaceOutput(workspace).data, status=201)


class WorkspaceDetailView(WorkspacePathAPIView):
    required_roles = {"PUT": ADMINS, "PATCH": ADMINS, "DELETE": OWNERS}

    @extend_schema(responses=s.WorkspaceOutput)
    def get(self, request: Request, workspace_id: Any) -> Response:
        return Response(s.WorkspaceOutput(selectors.workspace_get(ctx=self.ctx)).data)

    @extend_schema(request=s.WorkspaceUpdateInput, responses=s.WorkspaceOutput)
    def patch(self, request: Request, workspace_id: Any) -> Response:
        data = _input(s.WorkspaceUpdateInput, request)
        workspace = services.workspace_update(ctx=self.ctx, **data)
        return Response(s.WorkspaceOutput(workspace).data)

    @extend_schema(request=s.WorkspaceUpdateInput, responses=s.WorkspaceOutput)
    def put(self, request: Request, workspace_id: Any) -> Response:
        return self.patch(request, workspace_id)

    @extend_schema(responses={204: None})
    def delete(self, request: Request, workspace_id: Any) -> Response:
        services.workspace_delete(ctx=self.ctx)
        return _no_content()


# --- members ----------------------------------------------------------------------------------


class MemberListView(WorkspacePathAPIView):
    required_roles = {"POST": ADMINS}

    @extend_schema(responses=s.MemberWithUserOutput(many=True))
    def get(self, request: Request, workspace_id: Any) -> Response:
        members = selectors.member_list(ctx=self.ctx)
        return Response(s.MemberWithUserOutput(members, many=True).data)

    @extend_schema(request=s.InvitationCreateInput, responses={201: s.InvitationOutput})
    def post(self, request: Request, workspace_id: Any) -> Response:
        data = _input(s.InvitationCreateInput, request)
        invitation = services.invitation_create(
            ctx=self.ctx, email=data.get("email", ""), role=data.get("role")
        )
        return Response(s.InvitationOutput(invitation).data, status=201)


class MemberDetailView(WorkspacePathAPIView):
    required_roles = {"PATCH": ADMINS, "DELETE": ADMINS}

    @extend_schema(request=s.MemberUpdateInput, responses=s.MemberWithUserOutput)
    def patch(self, request: Request, workspace_id: Any, member_id: Any) -> Response:
        data = _input(s.MemberUpdateInput, request)
        member = services.member_update_role(
            ctx=self.ctx, member_id=member_id, role=data.get("role")
        )
        return Response(s.MemberWithUserOutput(member).data)

    @extend_schema(responses={204: None})
    def delete(self, request: Request, workspace_id: Any, member_id: Any) -> Response:
        services.member_remove(ctx=self.ctx, member_id=member_id)
        return _no_content()


class WorkspaceLeaveView(WorkspacePathAPIView):
    @extend_schema(request=None, responses={204: None})
    def post(self, request: Request, workspace_id: Any) -> Response:
        services.member_leave(ctx=self.ctx)
        return _no_content()


# --- invitations of a workspace ---------------------------------------------------------------


class WorkspaceInvitationListView(WorkspacePathAPIView):
    @extend_schema(responses=s.InvitationOutput(many=True))
    def get(self, request: Request, workspace_id: Any) -> Response:
        invitations = selectors.invitation_list_pending(ctx=self.ctx)
        out = s.InvitationOutput(invitations, many=True, context={"with_inviter": True})
        return Response(out.data)


class WorkspaceInvitationDetailView(WorkspacePathAPIView):
    required_roles = {"DELETE": ADMINS}

    @extend_schema(responses={204: None})
    def delete(self, request: Request, workspace_id: Any, invitation_id: Any) -> Response:
        services.invitation_revoke(ctx=self.ctx, invitation_id=invitation_id)
        return _no_content()


# --- the caller's invitations -----------------------------------------------------------------

_ENRICHED = {"with_inviter": True, "with_workspace": True}


class MyInvitationListView(UserAPIView):
    @extend_schema(responses=s.InvitationOutput(many=True))
    def get(self, request: Request) -> Response:
        invitations = selectors.invitation_list_for_user(user=request.user)
        return Response(s.InvitationOutput(invitations, many=True, context=_ENRICHED).data)


class MyInvitationDetailView(UserAPIView):
    @extend_schema(responses=s.InvitationOutput)
    def get(self, request: Request, invitation_id: Any) -> Response:
        invitation = selectors.invitation_get_for_user(
            user=request.user, invitation_id=invitation_id
        )
        return Response(s.InvitationOutput(invitation, context=_ENRICHED).data)


class InvitationAcceptView(UserAPIView):
    @extend_schema(request=None, responses=s.MemberWithUserOutput)
    def post(self, request: Request, invitation_id: Any) -> Response:
        member = services.invitation_accept(user=request.user, invitation_id=invitation_id)
        return Response(s.MemberWithUserOutput(member).data)


class InvitationDeclineView(UserAPIView):
    @extend_schema(request=None, responses={204: None})
    def post(self, request: Request, invitation_id: Any) -> Response:
        services.invitation_decline(user=request.user, invitation_id=invitation_id)
        return _no_content()
