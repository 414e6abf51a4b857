"""Routes of the issues domain, one module per area."""

from __future__ import annotations

from django.urls import include, path

urlpatterns = [
    path("", include("issues.api.status_urls")),
    path("", include("issues.api.issue_urls")),
    path("", include("issues.api.comment_urls")),
    path("", include("issues.api.inbox_urls")),
    path("", include("issues.api.label_urls")),
    path("", include("issues.api.project_urls")),
    path("", include("issues.api.attachment_urls")),
]
