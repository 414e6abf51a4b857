"""The API view bases. Every API view subclasses exactly one of them; each declares its scope.

* :class:`PublicAPIView` - no credential needed (login, health, schema).
* :class:`UserAPIView` - any authenticated user, no workspace (``/api/me``, ``/api/tokens``).
* :class:`WorkspaceAPIView` - a workspace resolved by the tenancy resolver from headers/query.
* :class:`WorkspacePathAPIView` - a workspace named by ``{workspace_id}`` in the path.

A view that subclasses none of them falls to ``DenyAll``; a test walks every URL and fails any
API view that does not declare one of these scopes.
"""

from __future__ import annotations

from typing import Any, ClassVar

from rest_framework.request import Request
from rest_framework.views import APIView

from multica_site.permissions import IsAuthenticatedUser, Public
from workspaces.context import (
    ANY_MEMBER,
    WorkspaceContext,
    WorkspaceIdentifiers,
    identifiers_from,
    resolve_workspace_context,
)


class PublicAPIView(APIView):
    scope = "public"
    permission_classes = (Public,)
    authentication_classes = ()


class UserAPIView(APIView):
    scope = "user"
    permission_classes = (IsAuthenticatedUser,)


class WorkspaceAPIView(UserAPIView):
    """Resolves ``self.ctx`` once per request; roles per HTTP method (default: any member)."""

    scope = "workspace"
    required_roles: ClassVar[dict[str, frozenset[str]]] = {}
    ctx: WorkspaceContext

    def roles_for(self, method: str) -> frozenset[str]:
        return self.required_roles.get(method, ANY_MEMBER)

    def workspace_identifiers(self, request: Request, **kwargs: Any) -> WorkspaceIdentifiers:
        return identifiers_from(request.query_params, request.headers)

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        self.ctx = resolve_workspace_context(
            user=request.user,
            credential=request.auth,
            identifiers=self.workspace_identifiers(request, **kwargs),
            headers=request.headers,
            roles=self.roles_for(request.method or "GET"),
        )


class WorkspacePathAPIView(WorkspaceAPIView):
    """``/api/workspaces/{workspace_id}/…``: the workspace comes from the path."""

    def workspace_identifiers(self, request: Request, **kwargs: Any) -> WorkspaceIdentifiers:
        return WorkspaceIdentifiers(workspace_id=str(kwargs["workspace_id"]))


class DaemonAPIView(UserAPIView):
    """``/api/daemon/…``: a daemon acting for its owner (``mdt_`` daemon token, ``mul_`` PAT or
    JWT; never a task token). The workspace is not taken from headers: each route resolves the
    runtime or workspace it names through the runtimes services, which check that the caller
    may act there (a member of the workspace; a daemon token only in its own workspace)."""

    scope = "daemon"
