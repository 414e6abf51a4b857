"""``/api/issues…`` (spec §3.3). Fixed paths come before ``<issue_id>``, which accepts a UUID or
an identifier (``PREFIX-N``)."""

from __future__ import annotations

from django.urls import path

from issues.api import issue_views as v

urlpatterns = [
    path("api/issues", v.IssueListView.as_view(), name="issues"),
    path("api/issues/query", v.IssueQueryView.as_view(), name="issues-query"),
    path("api/issues/search", v.IssueSearchView.as_view(), name="issues-search"),
    path("api/issues/grouped", v.IssueGroupedView.as_view(), name="issues-grouped"),
    path("api/issues/children", v.IssueChildrenByParentsView.as_view(), name="issues-children"),
    path(
        "api/issues/child-progress",
        v.IssueChildProgressView.as_view(),
        name="issues-child-progress",
    ),
    path("api/issues/batch-update", v.IssueBatchUpdateView.as_view(), name="issues-batch-update"),
    path("api/issues/batch-delete", v.IssueBatchDeleteView.as_view(), name="issues-batch-delete"),
    path("api/issues/<str:issue_id>", v.IssueDetailView.as_view(), name="issue-detail"),
    path("api/issues/<str:issue_id>/move", v.IssueMoveView.as_view(), name="issue-move"),
    path(
        "api/issues/<str:issue_id>/children", v.IssueChildrenView.as_view(), name="issue-children"
    ),
    path("api/issues/<str:issue_id>/labels", v.IssueLabelsView.as_view(), name="issue-labels"),
    path(
        "api/issues/<str:issue_id>/labels/<str:label_id>",
        v.IssueLabelDetailView.as_view(),
        name="issue-label-detail",
    ),
    path(
        "api/issues/<str:issue_id>/reactions",
        v.IssueReactionsView.as_view(),
        name="issue-reactions",
    ),
]
