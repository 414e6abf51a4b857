"""Comments, comment reactions, the timeline and subscribers (spec §3.5–§3.7)."""

from __future__ import annotations

from django.urls import path

from issues.api import comment_views as v

ISSUE = "api/issues/<str:issue_id>"
COMMENT = "api/comments/<uuid:comment_id>"

urlpatterns = [
    path(f"{ISSUE}/comments", v.IssueCommentsView.as_view(), name="issue-comments"),
    path(f"{ISSUE}/timeline", v.IssueTimelineView.as_view(), name="issue-timeline"),
    path(f"{ISSUE}/subscribers", v.IssueSubscribersView.as_view(), name="issue-subscribers"),
    path(f"{ISSUE}/subscribe", v.IssueSubscribeView.as_view(), name="issue-subscribe"),
    path(f"{ISSUE}/unsubscribe", v.IssueUnsubscribeView.as_view(), name="issue-unsubscribe"),
    path(
        f"{ISSUE}/unsubscribe/subtree",
        v.IssueUnsubscribeSubtreeView.as_view(),
        name="issue-unsubscribe-subtree",
    ),
    path(COMMENT, v.CommentDetailView.as_view(), name="comment-detail"),
    path(f"{COMMENT}/resolve", v.CommentResolveView.as_view(), name="comment-resolve"),
    path(f"{COMMENT}/reactions", v.CommentReactionsView.as_view(), name="comment-reactions"),
]
