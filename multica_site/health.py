"""Liveness, readiness and the public client configuration (spec §0)."""

from __future__ import annotations

from django.conf import settings
from django.db import connection
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from multica_site.views import PublicAPIView

SERVER_VERSION = "0.1.0"


@extend_schema(responses=OpenApiTypes.OBJECT)
class HealthView(PublicAPIView):
    """``GET /health`` (and ``/healthz``): the process answers."""

    def get(self, request: Request) -> Response:
        return Response({"status": "ok"})


@extend_schema(responses=OpenApiTypes.OBJECT)
class ReadyView(PublicAPIView):
    """``GET /readyz``: the database answers."""

    def get(self, request: Request) -> Response:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return Response({"status": "ok"})


@extend_schema(responses=OpenApiTypes.OBJECT)
class ConfigView(PublicAPIView):
    """``GET /api/config``: what clients need to know before logging in."""

    def get(self, request: Request) -> Response:
        return Response(
            {
                "allow_signup": settings.ALLOW_SIGNUP,
                "workspace_creation_disabled": settings.DISABLE_WORKSPACE_CREATION,
                "daemon_server_url": settings.MULTICA_PUBLIC_URL,
                "daemon_app_url": settings.MULTICA_PUBLIC_URL,
                "cdn_domain": "",
                "local_worktree_supported": False,
                "server_version": SERVER_VERSION,
            }
        )
