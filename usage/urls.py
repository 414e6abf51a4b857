"""Routes of the usage domain (server contract §6.2–6.3, §3.3; daemon contract §1.10)."""

from __future__ import annotations

from django.urls import path

from usage.api import views as v

RUNTIME = "api/runtimes/<uuid:runtime_id>/usage"

urlpatterns = [
    path("api/daemon/tasks/<uuid:task_id>/usage", v.DaemonTaskUsageView.as_view()),
    path(RUNTIME, v.RuntimeUsageView.as_view(), name="runtime-usage"),
    path(f"{RUNTIME}/by-agent", v.RuntimeUsageByAgentView.as_view(), name="runtime-usage-agent"),
    path(f"{RUNTIME}/by-hour", v.RuntimeUsageByHourView.as_view(), name="runtime-usage-hour"),
    path(
        "api/runtimes/<uuid:runtime_id>/activity",
        v.RuntimeActivityView.as_view(),
        name="runtime-activity",
    ),
    path("api/issues/<str:issue_id>/usage", v.IssueUsageView.as_view(), name="issue-usage"),
    path("api/dashboard/usage/daily", v.DashboardUsageDailyView.as_view(), name="dash-usage-daily"),
    path(
        "api/dashboard/usage/by-agent",
        v.DashboardUsageByAgentView.as_view(),
        name="dash-usage-by-agent",
    ),
    path(
        "api/dashboard/agent-runtime",
        v.DashboardAgentRunTimeView.as_view(),
        name="dash-agent-runtime",
    ),
    path(
        "api/dashboard/runtime/daily",
        v.DashboardRunTimeDailyView.as_view(),
        name="dash-runtime-daily",
    ),
    path(
        "api/dashboard/failures/daily",
        v.DashboardFailuresDailyView.as_view(),
        name="dash-failures-daily",
    ),
    path(
        "api/dashboard/failures/by-agent",
        v.DashboardFailuresByAgentView.as_view(),
        name="dash-failures-by-agent",
    ),
    path("api/usage/rollup", v.RollupStatusView.as_view(), name="usage-rollup"),
]
