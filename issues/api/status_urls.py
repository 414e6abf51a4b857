"""``/api/issue-statuses…`` (spec §3.2). ``reorder`` is routed before ``<status_id>``."""

from __future__ import annotations

from django.urls import path

from issues.api import status_views as v

urlpatterns = [
    path("api/issue-statuses", v.IssueStatusListView.as_view(), name="issue-statuses"),
    path(
        "api/issue-statuses/reorder",
        v.IssueStatusReorderView.as_view(),
        name="issue-statuses-reorder",
    ),
    path(
        "api/issue-statuses/<str:status_id>",
        v.IssueStatusDetailView.as_view(),
        name="issue-status-detail",
    ),
]
