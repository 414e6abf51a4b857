"""URL configuration. API paths are Multica's (no trailing slashes)."""

from __future__ import annotations

from django.contrib import admin
from django.urls import include, path

from multica_site import health, pages
from multica_site.schema import SchemaDocsView, SchemaView

urlpatterns = [
    path("health", health.HealthView.as_view(), name="health"),
    path("healthz", health.HealthView.as_view(), name="healthz"),
    path("readyz", health.ReadyView.as_view(), name="readyz"),
    path("api/config", health.ConfigView.as_view(), name="config"),
    path("api/schema/", SchemaView.as_view(), name="schema"),
    path("api/docs/", SchemaDocsView.as_view(url_name="schema"), name="api-docs"),
    path("admin/", admin.site.urls),
    path("login", pages.login_page, name="login"),
    path("", pages.home_page, name="home"),
    path("", include("workspaces.urls")),
    path("", include("issues.urls")),
    path("", include("agents.urls")),
    path("", include("skills.urls")),
    path("", include("runtimes.urls")),
    path("", include("usage.urls")),
    path("", include("multica_site.web.urls")),
]
