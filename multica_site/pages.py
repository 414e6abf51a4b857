"""Server-rendered pages. Each page view declares its scope like the API views do."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from workspaces.authentication import user_from_jwt
from workspaces.models import User


def page(scope: str) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    """Declare a page's scope (``public`` or ``user``); the URL-walk test reads it."""

    def decorate(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        view.scope = scope  # type: ignore[attr-defined] - a marker read by the URL-walk test
        return view

    return decorate


def page_user(request: HttpRequest) -> User | None:
    raw = request.COOKIES.get(settings.AUTH_COOKIE_NAME)
    return user_from_jwt(raw) if raw else None


@page("public")
def login_page(request: HttpRequest) -> HttpResponse:
    return render(request, "login.html", {"next": request.GET.get("next", "/")})


@page("user")
def home_page(request: HttpRequest) -> HttpResponse:
    user = page_user(request)
    if user is None:
        return redirect("/login")
    memberships: Any = user.memberships.select_related("workspace").order_by("created_at")
    return render(request, "home.html", {"user": user, "memberships": memberships})
