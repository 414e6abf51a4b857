from __future__ import annotations

from django.urls import path

from agents.api import binding_views as views

A = "api/agents/<uuid:agent_id>/skills"

urlpatterns = [
    path(A, views.AgentSkillsView.as_view(), name="agent-skills"),
    path(f"{A}/add", views.AgentSkillsAddView.as_view(), name="agent-skills-add"),
    path(
        f"{A}/<uuid:skill_id>/enabled",
        views.AgentSkillEnabledView.as_view(),
        name="agent-skill-enabled",
    ),
    path(f"{A}/<uuid:skill_id>", views.AgentSkillDetailView.as_view(), name="agent-skill-detail"),
]
