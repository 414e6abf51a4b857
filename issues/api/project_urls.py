from __future__ import annotations

from django.urls import path

from issues.api import project_views as views

urlpatterns = [
    path("api/projects", views.ProjectListView.as_view(), name="project-list"),
    path("api/projects/search", views.ProjectSearchView.as_view(), name="project-search"),
    path(
        "api/projects/<uuid:project_id>", views.ProjectDetailView.as_view(), name="project-detail"
    ),
]
