"""``/api/daemon/*`` control plane: workspaces, register, deregister, heartbeat, local-skill
result callbacks (daemon contract §1.2–1.5, §1.11)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from runtimes.auth import DaemonCaller, DaemonView
from runtimes.services import registration as svc


def _caller(request: Request) -> DaemonCaller:
    return DaemonCaller.of(request.user, request.auth)


def _body(request: Request) -> dict[str, Any]:
    return request.data if isinstance(request.data, dict) else {}


class DaemonWorkspacesView(DaemonView):
    @extend_schema(operation_id="daemon_workspaces", responses=OpenApiTypes.OBJECT)
    def get(self, request: Request) -> Response:
        items, etag = svc.daemon_workspaces(caller=_caller(request))
        if request.headers.get("If-None-Match") == etag:
            return Response(status=304, headers={"ETag": etag})
        return Response(items, headers={"ETag": etag})


class DaemonWorkspaceReposView(DaemonView):
    @extend_schema(operation_id="daemon_workspace_repos", responses=OpenApiTypes.OBJECT)
    def get(self, request: Request, workspace_id: Any) -> Response:
        return Response(
            svc.daemon_workspace_repos(caller=_caller(request), workspace_id=workspace_id)
        )


class DaemonRegisterView(DaemonView):
    @extend_schema(
        operation_id="daemon_register", request=OpenApiTypes.OBJECT, responses=OpenApiTypes.OBJECT
    )
    def post(self, request: Request) -> Response:
        capabilities = svc.parse_capabilities(request.headers.get("X-Client-Capabilities"))
        body = svc.daemon_register(
            caller=_caller(request), data=_body(request), capabilities=capabilities
        )
        return Response(body)


class DaemonDeregisterView(DaemonView):
    @extend_schema(
        operation_id="daemon_deregister",
        request=OpenApiTypes.OBJECT,
        responses=OpenApiTypes.OBJECT,
    )
    def post(self, request: Request) -> Response:
        return Response(svc.daemon_deregister(caller=_caller(request), data=_body(request)))


class DaemonHeartbeatView(DaemonView):
    @extend_schema(
        operation_id="daemon_heartbeat", request=OpenApiTypes.OBJECT, responses=OpenApiTypes.OBJECT
    )
    def post(self, request: Request) -> Response:
        return Response(svc.daemon_heartbeat(caller=_caller(request), data=_body(request)))


class _LocalSkillResultView(DaemonView):
    def _complete(self, request: Request, runtime_id: Any, request_id: Any) -> Response:
        from skills.services.local_skills import local_skill_request_complete  # noqa: PLC0415

        runtime = svc.runtime_for_daemon(caller=_caller(request), runtime_id=runtime_id)
        body = _body(request)
        error = body.get("error") if body.get("status") == "failed" else None
        result = local_skill_request_complete(
            runtime, request_id, result=body, error=str(error) if error is not None else None
        )
        return Response(result)


class DaemonLocalSkillsResultView(_LocalSkillResultView):
    @extend_schema(
        operation_id="daemon_local_skills_result",
        request=OpenApiTypes.OBJECT,
        responses=OpenApiTypes.OBJECT,
    )
    def post(self, request: Request, runtime_id: Any, request_id: Any) -> Response:
        return self._complete(request, runtime_id, request_id)


class DaemonLocalSkillImportResultView(_LocalSkillResultView):
    @extend_schema(
        operation_id="daemon_local_skill_import_result",
        request=OpenApiTypes.OBJECT,
        responses=OpenApiTypes.OBJECT,
    )
    def post(self, request: Request, runtime_id: Any, request_id: Any) -> Response:
        return self._complete(request, runtime_id, request_id)
