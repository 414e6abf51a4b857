"""Workspaces, members and invitations (spec §2). Included at the URL root; no trailing slashes."""

from __future__ import annotations

from django.urls import path

from workspaces.api import workspace_views as v

WS = "api/workspaces/<uuid:workspace_id>"

urlpatterns = [
    path("api/workspaces", v.WorkspaceListView.as_view(), name="workspaces"),
    path(WS, v.WorkspaceDetailView.as_view(), name="workspace-detail"),
    path(f"{WS}/members", v.MemberListView.as_view(), name="workspace-members"),
    path(
        f"{WS}/members/<uuid:member_id>",
        v.MemberDetailView.as_view(),
        name="workspace-member-detail",
    ),
    path(f"{WS}/leave", v.WorkspaceLeaveView.as_view(), name="workspace-leave"),
    path(
        f"{WS}/invitations", v.WorkspaceInvitationListView.as_view(), name="workspace-invitations"
    ),
    path(
        f"{WS}/invitations/<uuid:invitation_id>",
        v.WorkspaceInvitationDetailView.as_view(),
        name="workspace-invitation-detail",
    ),
    path("api/invitations", v.MyInvitationListView.as_view(), name="invitations"),
    path(
        "api/invitations/<uuid:invitation_id>",
        v.MyInvitationDetailView.as_view(),
        name="invitation-detail",
    ),
    path(
        "api/invitations/<uuid:invitation_id>/accept",
        v.InvitationAcceptView.as_view(),
        name="invitation-accept",
    ),
    path(
        "api/invitations/<uuid:invitation_id>/decline",
        v.InvitationDeclineView.as_view(),
        name="invitation-decline",
    ),
]
