"""Every URL declares its scope; the public and user-level ones are an explicit, reviewed list.

Adding a route that is neither workspace-scoped nor listed here fails this test: tenancy is
decided in one place (``workspaces.context.resolve_workspace_context``) and nowhere else.
"""

from __future__ import annotations

from multica_site.permissions import DenyAll, IsAuthenticatedUser, Public
from tests.tenancy.routes import DECLARED_BASES, all_routes, is_workspace_route

# Reachable without a credential. Review any addition: it is readable by the whole internet.
PUBLIC_ROUTES = {
    "health", "healthz", "readyz", "api/config", "api/schema/", "api/docs/", "login",
    "auth/send-code", "auth/verify-code", "auth/login", "auth/logout",
}  # fmt: skip

# Authenticated, but not tied to one workspace (the user's own data, or choosing a workspace).
USER_ROUTES = {
    "",
    "api/me",
    "api/cli-token",
    "api/tokens",
    "api/tokens/current/renew",
    "api/tokens/<uuid:token_id>",
    "api/workspaces",
    "api/invitations",
    "api/invitations/<uuid:invitation_id>",
    "api/invitations/<uuid:invitation_id>/accept",
    "api/invitations/<uuid:invitation_id>/decline",
}


def test_every_route_declares_a_scope():
    problems = []
    for route in all_routes():
        if route.namespace == "admin":
            continue  # Django admin: staff only, behind its own login
        scope = route.scope
        if route.is_api_view:
            if not issubclass(route.view, DECLARED_BASES) and scope != "public":
                problems.append(f"{route.route}: {route.view.__name__} has no declared scope")
                continue
            perms = set(route.view.permission_classes)
            if scope == "public" and perms != {Public}:
                problems.append(f"{route.route}: public view with permissions {perms}")
            if scope in ("user", "workspace", "daemon") and IsAuthenticatedUser not in perms:
                problems.append(f"{route.route}: {scope} view without authentication")
            if DenyAll in perms and scope:
                problems.append(f"{route.route}: declares {scope} but denies all")
        if scope == "public" and route.route not in PUBLIC_ROUTES:
            problems.append(f"{route.route}: public but not in PUBLIC_ROUTES")
        elif scope == "user" and route.route not in USER_ROUTES:
            problems.append(f"{route.route}: user-level but not in USER_ROUTES")
        elif scope == "workspace" and not is_workspace_route(route):
            problems.append(f"{route.route}: claims workspace scope without the base view")
        elif scope == "daemon" and not route.route.startswith("api/daemon/"):
            problems.append(f"{route.route}: daemon scope outside /api/daemon/")
        elif scope not in ("public", "user", "workspace", "daemon"):
            problems.append(f"{route.route}: unknown scope {scope!r}")
    assert not problems, "\n".join(problems)


def test_allowlists_have_no_stale_entries():
    routes = {r.route for r in all_routes()}
    stale = (PUBLIC_ROUTES | USER_ROUTES) - routes
    # Entries for routes that a later change removed must be removed here too.
    assert not stale, stale


def test_default_permission_is_deny_all(settings):
    assert settings.REST_FRAMEWORK["DEFAULT_PERMISSION_CLASSES"] == [
        "multica_site.permissions.DenyAll"
    ]
