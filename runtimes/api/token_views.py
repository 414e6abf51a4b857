"""``/api/daemon-tokens``: mint (shown once), list and revoke daemon tokens of the workspace.

Any member mints tokens for their own daemons and sees/revokes their own; owners and admins see
and revoke every token of the workspace."""

from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from multica_site.views import WorkspaceAPIView
from runtimes.services import daemon_tokens as svc


class DaemonTokenListView(WorkspaceAPIView):
    @extend_schema(operation_id="daemon_tokens_list", responses=OpenApiTypes.OBJECT)
    def get(self, request: Request) -> Response:
        return Response([svc.daemon_token_wire(t) for t in svc.daemon_token_list(ctx=self.ctx)])

    @extend_schema(
        operation_id="daemon_tokens_create",
        request=OpenApiTypes.OBJECT,
        responses={201: OpenApiTypes.OBJECT},
    )
    def post(self, request: Request) -> Response:
        data = request.data if isinstance(request.data, dict) else {}
        token, raw = svc.daemon_token_create(ctx=self.ctx, data=data)
        return Response({**svc.daemon_token_wire(token), "token": raw}, status=201)


class DaemonTokenDetailView(WorkspaceAPIView):
    @extend_schema(operation_id="daemon_tokens_revoke", responses={204: None})
    def delete(self, request: Request, token_id: Any) -> Response:
        svc.daemon_token_revoke(ctx=self.ctx, token_id=token_id)
        return Response(status=204)
