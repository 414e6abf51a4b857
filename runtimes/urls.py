"""Routes of the runtimes domain: the daemon protocol, the runtimes API, daemon tokens."""

from __future__ import annotations

from django.urls import include, path

urlpatterns = [
    path("", include("runtimes.api.daemon_urls")),
    path("", include("runtimes.api.daemon_task_urls")),
    path("", include("runtimes.api.runtime_urls")),
    path("", include("runtimes.api.token_urls")),
]
