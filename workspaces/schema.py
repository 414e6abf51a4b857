"""OpenAPI descriptions of our authentication classes (drf-spectacular extensions)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class BearerAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "workspaces.authentication.BearerAuthentication"
    name = "bearerAuth"

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "A session JWT, a personal access token (mul_…) or, for agents, "
            "a task token (mat_…).",
        }


class CookieAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "workspaces.authentication.CookieAuthentication"
    name = "multicaCookieAuth"

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        return {
            "type": "apiKey",
            "in": "cookie",
            "name": "multica_auth",
            "description": "Browser session; unsafe methods also need the X-CSRF-Token header.",
        }
