"""``/api/labels`` (spec §4). Thin views: parse, call one service or selector, render."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from issues import selectors_catalog as selectors
from issues.api import catalog_serializers as s
from issues.services import labels as services
from multica_site.views import WorkspaceAPIView


class LabelListView(WorkspaceAPIView):
    @extend_schema(
        operation_id="labels_list",
        parameters=[OpenApiParameter("resource_type", str, enum=["issue", "agent", "skill"])],
        responses=s.LabelListOutput,
    )
    def get(self, request: Request) -> Response:
        resource_type = selectors.label_parse_resource_type(
            request.query_params.get("resource_type", "")
        )
        labels = list(selectors.label_list(ctx=self.ctx, resource_type=resource_type))
        return Response({"labels": s.LabelOutput(labels, many=True).data, "total": len(labels)})

    @extend_schema(request=s.LabelCreateInput, responses={201: s.LabelOutput})
    def post(self, request: Request) -> Response:
        data = s.parse_body(s.LabelCreateInput, request)
        label = services.label_create(
            ctx=self.ctx,
            name=data.get("name"),
            color=data.get("color"),
            description=data.get("description") or "",
            resource_type=data.get("resource_type") or "",
        )
        return Response(s.LabelOutput(label).data, status=201)


class LabelDetailView(WorkspaceAPIView):
    @extend_schema(responses=s.LabelOutput)
    def get(self, request: Request, label_id: Any) -> Response:
        return Response(s.LabelOutput(selectors.label_get(ctx=self.ctx, label_id=label_id)).data)

    @extend_schema(request=s.LabelUpdateInput, responses=s.LabelOutput)
    def put(self, request: Request, label_id: Any) -> Response:
        data = s.parse_body(s.LabelUpdateInput, request)
        label = services.label_update(
            ctx=self.ctx,
            label_id=label_id,
            name=data.get("name"),
            description=data.get("description"),
            color=data.get("color"),
        )
        return Response(s.LabelOutput(label).data)

    @extend_schema(responses={204: None})
    def delete(self, request: Request, label_id: Any) -> Response:
        services.label_delete(ctx=self.ctx, label_id=label_id)
        return Response(status=204)
