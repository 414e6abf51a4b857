"""Walk every URL pattern and classify its view by the scope it declares."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.urls import URLPattern, URLResolver, get_resolver
from django.urls.converters import IntConverter, UUIDConverter

from multica_site.views import PublicAPIView, UserAPIView, WorkspaceAPIView, WorkspacePathAPIView

METHODS = ("get", "post", "put", "patch", "delete")


@dataclass(frozen=True)
class Route:
    route: str  # the pattern, e.g. "api/workspaces/<uuid:workspace_id>/members"
    name: str | None
    namespace: str | None
    view: Any  # the view class (API views) or function (pages)
    converters: dict[str, Any]

    @property
    def scope(self) -> str | None:
        return getattr(self.view, "scope", None)

    @property
    def is_api_view(self) -> bool:
        return isinstance(self.view, type)

    @property
    def methods(self) -> list[str]:
        if not self.is_api_view:
            return ["get"]
        return [m for m in METHODS if hasattr(self.view, m)]

    def path(self, **values: Any) -> str:
        """Fill the route's parameters: given values first, then a fresh id of the right type."""
        out = "/" + self.route
        for name, converter in self.converters.items():
            if name in values:
                value = values[name]
            elif isinstance(converter, UUIDConverter):
                value = uuid.uuid4()
            elif isinstance(converter, IntConverter):
                value = 1
            else:
                value = "ZZ-1"
            out = _replace_param(out, name, str(value))
        return out


def _replace_param(route: str, name: str, value: str) -> str:
    import re

    return re.sub(r"<(?:[a-z_]+:)?" + re.escape(name) + ">", value, route)


def _walk(
    patterns: list, prefix: str = "", namespace: str | None = None, converters: dict | None = None
) -> Iterator[Route]:
    for p in patterns:
        conv = dict(converters or {})
        conv.update(p.pattern.converters)
        if isinstance(p, URLResolver):
            yield from _walk(
                p.url_patterns, prefix + str(p.pattern), p.namespace or namespace, conv
            )
        elif isinstance(p, URLPattern):
            callback = p.callback
            view = (
                getattr(callback, "view_class", None) or getattr(callback, "cls", None) or callback
            )
            yield Route(prefix + str(p.pattern), p.name, namespace, view, conv)


def all_routes() -> list[Route]:
    return list(_walk(get_resolver().url_patterns))


def is_workspace_route(route: Route) -> bool:
    return route.is_api_view and issubclass(route.view, WorkspaceAPIView)


def is_path_scoped(route: Route) -> bool:
    return route.is_api_view and issubclass(route.view, WorkspacePathAPIView)


DECLARED_BASES = (PublicAPIView, UserAPIView, WorkspaceAPIView)
