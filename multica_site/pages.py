"""Pages outside a workspace: the login page and the home page (workspace list, pending
invitations and first-run onboarding). Workspace pages live in :mod:`multica_site.web`."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from workspaces.authentication import user_from_jwt
from workspaces.models import User
from workspaces.selectors import invitation_list_for_user


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
    """One workspace or more: go to the first board (``?all`` lists them). None: onboarding."""
    user = page_user(request)
    if user is None:
        return redirect("/login")
    memberships = list(user.memberships.select_related("workspace").order_by("created_at"))
    if memberships and "all" not in request.GET and "new" not in request.GET:
        return redirect(f"/w/{memberships[0].workspace.slug}/")
    invitations = list(invitation_list_for_user(user=user))
    return render(
        request,
        "home.html",
        {"user": user, "memberships": memberships, "invitations": invitations},
    )
