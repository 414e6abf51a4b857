"""Agent routes (spec §5.2, §5.3)."""

from __future__ import annotations

from django.urls import path

from agents.api import agent_views as views

urlpatterns = [
    path("api/agents", views.AgentListView.as_view(), name="agent-list"),
    path("api/agents/<uuid:agent_id>", views.AgentDetailView.as_view(), name="agent-detail"),
    path("api/agents/<uuid:agent_id>/env", views.AgentEnvView.as_view(), name="agent-env"),
    path(
        "api/agents/<uuid:agent_id>/archive", views.AgentArchiveView.as_view(), name="agent-archive"
    ),
    path(
        "api/agents/<uuid:agent_id>/restore", views.AgentRestoreView.as_view(), name="agent-restore"
    ),
    path(
        "api/agents/<uuid:agent_id>/cancel-tasks",
        views.AgentCancelTasksView.as_view(),
        name="agent-cancel-tasks",
    ),
    path("api/agents/<uuid:agent_id>/tasks", views.AgentTaskListView.as_view(), name="agent-tasks"),
]
