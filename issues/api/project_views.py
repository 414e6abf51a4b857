"""``/api/projects`` (spec §4). Thin views: parse, call one service or selector, render."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from issues import selectors_catalog as selectors
from issues.api import catalog_serializers as s
from issues.services import projects as services
from multica_site.errors import ValidationError
from multica_site.views import WorkspaceAPIView


def _int_param(raw: str | None, default: int, minimum: int) -> int:
    """Multica's lenient paging: a missing or malformed value means the default."""
    try:
        value = int(raw) if raw not in (None, "") else default
    except ValueError:
        return default
    return value if value >= minimum else default


class ProjectListView(WorkspaceAPIView):
    @extend_schema(
        operation_id="projects_list",
        parameters=[OpenApiParameter("status", str), OpenApiParameter("priority", str)],
        responses=s.ProjectListOutput,
    )
    def get(self, request: Request) -> Response:
        projects = list(
            selectors.project_list(
                ctx=self.ctx,
                status=request.query_params.get("status") or None,
                priority=request.query_params.get("priority") or None,
            )
        )
        return Response(
            {"projects": s.ProjectOutput(projects, many=True).data, "total": len(projects)}
        )

    @extend_schema(request=s.ProjectCreateInput, responses={201: s.ProjectOutput})
    def post(self, request: Request) -> Response:
        data = s.parse_body(s.ProjectCreateInput, request)
        if data.pop("resources", None):
            raise ValidationError(
                "project resources are not supported", code="resources_unsupported"
            )
        project = services.project_create(ctx=self.ctx, **data)
        return Response(s.ProjectOutput(project).data, status=201)


class ProjectSearchView(WorkspaceAPIView):
    @extend_schema(
        parameters=[
            OpenApiParameter("q", str, required=True),
            OpenApiParameter("limit", int),
            OpenApiParameter("offset", int),
            OpenApiParameter("include_closed", bool),
        ],
        responses=s.ProjectSearchListOutput,
    )
    def get(self, request: Request) -> Response:
        params = request.query_params
        projects, total = selectors.project_search(
            ctx=self.ctx,
            q=params.get("q", ""),
            limit=_int_param(params.get("limit"), selectors.SEARCH_DEFAULT_LIMIT, 1),
            offset=_int_param(params.get("offset"), 0, 0),
            include_closed=params.get("include_closed") == "true",
        )
        body = {"projects": s.ProjectSearchOutput(projects, many=True).data, "total": total}
        return Response(body, headers={"X-Total-Count": str(total)})


class ProjectDetailView(WorkspaceAPIView):
    @extend_schema(responses=s.ProjectOutput)
    def get(self, request: Request, project_id: Any) -> Response:
        project = selectors.project_get(ctx=self.ctx, project_id=project_id)
        return Response(s.ProjectOutput(project).data)

    @extend_schema(request=s.ProjectUpdateInput, responses=s.ProjectOutput)
    def put(self, request: Request, project_id: Any) -> Response:
        changes = s.parse_body(s.ProjectUpdateInput, request)
        project = services.project_update(ctx=self.ctx, project_id=project_id, changes=changes)
        return Response(s.ProjectOutput(project).data)

    @extend_schema(responses={204: None})
    def delete(self, request: Request, project_id: Any) -> Response:
        services.project_delete(ctx=self.ctx, project_id=project_id)
        return Response(status=204)
