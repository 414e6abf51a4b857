"""Routes of the workspaces app: login, the current user, tokens, workspaces and invitations."""

from __future__ import annotations

from django.urls import include, path

urlpatterns = [
    path("", include("workspaces.api.auth_urls")),
    path("", include("workspaces.api.workspace_urls")),
]
