"""Routes of the agents domain, one module per area."""

from __future__ import annotations

from django.urls import include, path

urlpatterns = [
    path("", include("agents.api.binding_urls")),
    path("", include("agents.api.agent_urls")),
    path("", include("agents.api.task_urls")),
]
