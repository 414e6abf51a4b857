from __future__ import annotations

from django.urls import path

from issues.api import attachment_views as views

urlpatterns = [
    path("api/upload-file", views.UploadFileView.as_view(), name="upload-file"),
    path(
        "api/attachments/<uuid:attachment_id>",
        views.AttachmentDetailView.as_view(),
        name="attachment-detail",
    ),
    path(
        "api/attachments/<uuid:attachment_id>/download",
        views.AttachmentDownloadView.as_view(),
        name="attachment-download",
    ),
    path(
        "api/issues/<str:issue_id>/attachments",
        views.IssueAttachmentListView.as_view(),
        name="issue-attachments",
    ),
]
