"""``/api/runtimes``: the workspace's runtimes (server contract §6.2)."""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from multica_site.views import WorkspaceAPIView
from runtimes.services import runtimes as svc
from runtimes.wire import runtime_list_wire, runtime_wire


class RuntimeListView(WorkspaceAPIView):
    @extend_schema(
        operation_id="runtimes_list",
        parameters=[OpenApiParameter("owner", str, description='"me": only my runtimes')],
        responses=OpenApiTypes.OBJECT,
    )
    def get(self, request: Request) -> Response:
        now = timezone.now()
        rows = svc.runtime_list(ctx=self.ctx, owner=request.query_params.get("owner"))
        return Response([runtime_list_wire(r, now=now) for r in rows])


class RuntimeDetailView(WorkspaceAPIView):
    @extend_schema(
        operation_id="runtimes_update", request=OpenApiTypes.OBJECT, responses=OpenApiTypes.OBJECT
    )
    def patch(self, request: Request, runtime_id: Any) -> Response:
        data = request.data if isinstance(request.data, dict) else {}
        runtime = svc.runtime_update(ctx=self.ctx, runtime_id=runtime_id, data=data)
        return Response(runtime_wire(runtime))

    @extend_schema(operation_id="runtimes_delete", responses=OpenApiTypes.OBJECT)
    def delete(self, request: Request, runtime_id: Any) -> Response:
        return Response(svc.runtime_delete(ctx=self.ctx, runtime_id=runtime_id))
