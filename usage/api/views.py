"""Usage routes: the daemon's report, runtime and issue usage, the workspace dashboard, and the
rollup's health. Thin: parse, call one service or selector, render."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, ClassVar

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from multica_site.errors import ValidationError
from multica_site.views import WorkspaceAPIView
from multica_site.wire import format_time
from runtimes.auth import DaemonView
from runtimes.services.claims import Caller
from usage import selectors
from usage.services import reports
from usage.services.rollup import rollup_status
from workspaces.context import ADMINS

TZ_PARAM = OpenApiParameter("tz", str, description="IANA zone (default: the user's, else UTC)")
WINDOW_PARAMS = [OpenApiParameter("days", int, description="1..365 local days"), TZ_PARAM]
PROJECT_PARAM = OpenApiParameter("project_id", str, description="only this project")


class DaemonTaskUsageView(DaemonView):
    """``POST /api/daemon/tasks/{id}/usage`` ``{usage:[…]}`` → ``{"status":"ok"}``."""

    @extend_schema(
        operation_id="daemon_task_usage", request=OpenApiTypes.OBJECT, responses=OpenApiTypes.OBJECT
    )
    def post(self, request: Request, task_id: Any) -> Response:
        body = request.data if request.data not in (None, "") else {}
        if not isinstance(body, Mapping):
            raise ValidationError("invalid request body")
        reports.task_usage_report(
            caller=Caller(user=request.user, credential=request.auth),
            task_id=task_id,
            usage=body.get("usage"),
        )
        return Response({"status": "ok"})


class IssueUsageView(WorkspaceAPIView):
    @extend_schema(operation_id="issue_usage", responses=OpenApiTypes.OBJECT)
    def get(self, request: Request, issue_id: str) -> Response:
        return Response(selectors.issue_usage(ctx=self.ctx, issue_ref=issue_id))


def usage_view(
    name: str,
    selector: Callable[..., Any],
    *,
    operation_id: str | None = None,
    parameters: list[OpenApiParameter] | None = None,
) -> type[WorkspaceAPIView]:
    """A read route whose query string goes straight to ``selector`` (with the route's
    ``runtime_id`` when it has one); the selector's name is the default OpenAPI operation id."""

    class View(WorkspaceAPIView):
        @extend_schema(
            operation_id=operation_id or selector.__name__,
            parameters=parameters if parameters is not None else [*WINDOW_PARAMS, PROJECT_PARAM],
            responses=OpenApiTypes.OBJECT,
        )
        def get(self, request: Request, **route: Any) -> Response:
            return Response(selector(ctx=self.ctx, params=request.query_params, **route))

    View.__name__ = View.__qualname__ = name
    return View


RuntimeUsageView = usage_view(
    "RuntimeUsageView",
    selectors.runtime_usage_daily,
    operation_id="runtime_usage",
    parameters=WINDOW_PARAMS,
)
RuntimeUsageByAgentView = usage_view(
    "RuntimeUsageByAgentView", selectors.runtime_usage_by_agent, parameters=WINDOW_PARAMS
)
RuntimeUsageByHourView = usage_view(
    "RuntimeUsageByHourView", selectors.runtime_usage_by_hour, parameters=WINDOW_PARAMS
)
RuntimeActivityView = usage_view(
    "RuntimeActivityView",
    selectors.runtime_task_activity,
    operation_id="runtime_activity",
    parameters=[TZ_PARAM],
)


DashboardUsageDailyView = usage_view("DashboardUsageDailyView", selectors.dashboard_usage_daily)
DashboardUsageByAgentView = usage_view(
    "DashboardUsageByAgentView", selectors.dashboard_usage_by_agent
)
DashboardAgentRunTimeView = usage_view(
    "DashboardAgentRunTimeView", selectors.dashboard_agent_run_time
)
DashboardRunTimeDailyView = usage_view(
    "DashboardRunTimeDailyView", selectors.dashboard_run_time_daily
)
DashboardFailuresDailyView = usage_view(
    "DashboardFailuresDailyView", selectors.dashboard_failures_daily
)
DashboardFailuresByAgentView = usage_view(
    "DashboardFailuresByAgentView", selectors.dashboard_failures_by_agent
)


class RollupStatusView(WorkspaceAPIView):
    """``GET /api/usage/rollup``: how far behind the hourly rollup is (owners and admins)."""

    required_roles: ClassVar[dict[str, frozenset[str]]] = {"GET": ADMINS}

    @extend_schema(operation_id="usage_rollup_status", responses=OpenApiTypes.OBJECT)
    def get(self, request: Request) -> Response:
        status = rollup_status()
        return Response(
            {
                "watermark_at": format_time(status.watermark_at),
                "lag_seconds": round(status.lag_seconds),
                "last_run_started_at": format_time(status.last_run_started_at),
                "last_run_finished_at": format_time(status.last_run_finished_at),
                "last_run_rows": status.last_run_rows,
                "last_run_failed": bool(status.last_error),
                "queued_buckets": status.queued_buckets,
                "rollup_reads": selectors.rollup_reads_enabled(),
            }
        )
