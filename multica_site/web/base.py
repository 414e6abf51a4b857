"""Page view bases: the API's scoped views, rendering templates instead of JSON.

A workspace page is a :class:`~multica_site.views.WorkspaceAPIView` whose workspace comes from
the ``{workspace_slug}`` in its path, so tenancy is decided by the same resolver as the API (a
non-member gets 404) and the URL-walk and cross-workspace tests cover every page. Pages only
read: they call the apps' selectors and render. Every write goes from the browser to the JSON API.

Errors keep the API's ``{"error", "code"}`` body for clients that do not ask for HTML; a browser
gets an HTML error page, and an unauthenticated browser is sent to ``/login?next=…``.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from rest_framework import exceptions as drf
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.request import Request
from rest_framework.response import Response

from issues.selectors_conversation import inbox_unread_count
from multica_site.renderers import CompactJSONRenderer
from multica_site.views import UserAPIView, WorkspaceAPIView
from workspaces.context import WorkspaceIdentifiers
from workspaces.selectors import workspace_list_for_user


class JSONErrorsNegotiation(BaseContentNegotiation):
    """Pages render HTML themselves; the negotiated renderer only ever renders error bodies."""

    def select_parser(self, request: Request, parsers: list[Any]) -> Any:
        return parsers[0] if parsers else None

    def select_renderer(
        self, request: Request, renderers: list[Any], format_suffix: Any = None
    ) -> tuple[Any, str]:
        return renderers[0], renderers[0].media_type


def wants_html(request: HttpRequest) -> bool:
    return "text/html" in request.headers.get("Accept", "")


class PageMixin:
    schema = None  # HTML pages: not part of the API's OpenAPI document
    renderer_classes = (CompactJSONRenderer,)
    content_negotiation_class = JSONErrorsNegotiation
    template_name = ""

    def handle_exception(self, exc: Exception) -> Response | HttpResponse:
        response = super().handle_exception(exc)  # type: ignore[misc]
        request = self.request  # type: ignore[attr-defined]
        if not wants_html(request):
            return response
        if isinstance(exc, drf.NotAuthenticated | drf.AuthenticationFailed):
            return HttpResponseRedirect("/login?" + urlencode({"next": request.get_full_path()}))
        data = response.data if isinstance(response.data, dict) else {}
        return render(
            request,
            "web/error.html",
            {"status": response.status_code, "message": data.get("error", "error")},
            status=response.status_code,
        )


class UserPageView(PageMixin, UserAPIView):
    """A page for any signed-in user (not tied to one workspace)."""


class WorkspacePageView(PageMixin, WorkspaceAPIView):
    """``/w/{workspace_slug}/…``: the workspace named in the path, resolved for the caller.

    ``get`` calls :meth:`page_context` and renders :attr:`template_name` inside the workspace
    shell (navigation, workspace switcher, unread badge, realtime wiring).
    """

    nav = ""
    title = ""

    def workspace_identifiers(self, request: Request, **kwargs: Any) -> WorkspaceIdentifiers:
        return WorkspaceIdentifiers(slug=str(kwargs["workspace_slug"]))

    def page_context(self, request: Request, **kwargs: Any) -> dict[str, Any]:
        return {}

    def shell_context(self) -> dict[str, Any]:
        ctx = self.ctx
        return {
            "ctx": ctx,
            "workspace": ctx.workspace,
            "me": ctx.user,
            "me_id": str(ctx.user.pk) if ctx.user else "",
            "role": ctx.role,
            "is_admin": ctx.role in ("owner", "admin"),
            "workspaces": list(workspace_list_for_user(user=ctx.user)),
            "unread_count": inbox_unread_count(ctx=ctx),
            "nav": self.nav,
            "base": f"/w/{ctx.workspace.slug}",
        }

    def get(self, request: Request, **kwargs: Any) -> HttpResponse:
        context = self.shell_context()
        context.update(self.page_context(request, **kwargs))
        context.setdefault("title", self.title)
        return render(request._request, self.template_name, context)
