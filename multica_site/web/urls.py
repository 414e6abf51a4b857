"""The web app's pages: ``/w/{workspace_slug}/…`` (workspace pages, resolved like the API)."""

from __future__ import annotations

from django.urls import path

from multica_site.web import views

W = "w/<slug:workspace_slug>/"

urlpatterns = [
    path(W, views.BoardPage.as_view(), name="web-board"),
    path(W + "list", views.ListPage.as_view(), name="web-list"),
    path(W + "my-issues", views.MyIssuesPage.as_view(), name="web-my-issues"),
    path(W + "issues/<str:issue_id>", views.IssueDetailPage.as_view(), name="web-issue"),
    path(W + "inbox", views.InboxPage.as_view(), name="web-inbox"),
    path(W + "agents", views.AgentListPage.as_view(), name="web-agents"),
    path(W + "agents/new", views.AgentNewPage.as_view(), name="web-agent-new"),
    path(W + "agents/<uuid:agent_id>", views.AgentDetailPage.as_view(), name="web-agent"),
    path(W + "runtimes", views.RuntimeListPage.as_view(), name="web-runtimes"),
    path(W + "skills", views.SkillListPage.as_view(), name="web-skills"),
    path(W + "skills/<uuid:skill_id>", views.SkillDetailPage.as_view(), name="web-skill"),
    path(W + "usage", views.UsagePage.as_view(), name="web-usage"),
    path(W + "members", views.MembersPage.as_view(), name="web-members"),
    path(W + "settings", views.SettingsPage.as_view(), name="web-settings"),
    path(W + "tokens", views.TokensPage.as_view(), name="web-tokens"),
]
