"""The status catalog (spec §3.2): any member reads it; owners and admins change it."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from issues import selectors
from issues.api import issue_serializers as s
from issues.api.issue_views import body
from issues.services import statuses as services
from issues.wire import CATEGORIES, status_wire
from multica_site.views import WorkspaceAPIView
from workspaces.context import ADMINS, WorkspaceContext


def catalog_response(
    ctx: WorkspaceContext, *, include_archived: bool, seed: bool = False
) -> Response:
    entries = selectors.status_list(ctx=ctx, include_archived=include_archived)
    if seed and {e.key for e in entries if e.is_system} != set(CATEGORIES):
        # Self-heal a workspace created before its catalog was seeded (idempotent).
        services.statuses_seed(ctx.workspace)
        entries = selectors.status_list(ctx=ctx, include_archived=include_archived)
    return Response(
        {
            "statuses": [status_wire(e) for e in entries],
            "categories": list(CATEGORIES),
            "total": len(entries),
        }
    )


class IssueStatusListView(WorkspaceAPIView):
    required_roles = {"POST": ADMINS}

    @extend_schema(responses=s.StatusCatalogOutput)
    def get(self, request: Request) -> Response:
        include_archived = request.query_params.get("include_archived", "").lower() == "true"
        return catalog_response(self.ctx, include_archived=include_archived, seed=True)

    @extend_schema(request=s.StatusCreateInput, responses={201: s.StatusOutput})
    def post(self, request: Request) -> Response:
        data: dict[str, Any] = {k: v or "" for k, v in body(s.StatusCreateInput, request).items()}
        entry = services.status_create(ctx=self.ctx, **data)
        return Response(status_wire(entry), status=201)


class IssueStatusReorderView(WorkspaceAPIView):
    required_roles = {"PATCH": ADMINS}

    @extend_schema(request=s.StatusReorderInput, responses=s.StatusCatalogOutput)
    def patch(self, request: Request) -> Response:
        data = body(s.StatusReorderInput, request)
        services.statuses_reorder(
            ctx=self.ctx, category=data.get("category") or "", ids=data.get("ids") or []
        )
        return catalog_response(self.ctx, include_archived=True)


class IssueStatusDetailView(WorkspaceAPIView):
    required_roles = {"PATCH": ADMINS, "PUT": ADMINS, "DELETE": ADMINS}

    @extend_schema(request=s.StatusUpdateInput, responses=s.StatusOutput)
    def patch(self, request: Request, status_id: str) -> Response:
        data = body(s.StatusUpdateInput, request)
        entry = services.status_update(ctx=self.ctx, status_id=status_id, **data)
        return Response(status_wire(entry))

    @extend_schema(responses=s.StatusOutput)
    def delete(self, request: Request, status_id: str) -> Response:
        entry = services.status_archive(ctx=self.ctx, status_id=status_id)
        return Response(status_wire(entry))
