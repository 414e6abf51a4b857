"""The inbox and notification preferences (spec §3.8)."""

from __future__ import annotations

from django.urls import path

from issues.api import inbox_views as v

ITEM = "api/inbox/<uuid:inbox_item_id>"

urlpatterns = [
    path("api/inbox", v.InboxListView.as_view(), name="inbox"),
    path("api/inbox/archived", v.InboxArchivedListView.as_view(), name="inbox-archived"),
    path("api/inbox/unread-count", v.InboxUnreadCountView.as_view(), name="inbox-unread-count"),
    path(
        "api/inbox/unread-summary", v.InboxUnreadSummaryView.as_view(), name="inbox-unread-summary"
    ),
    path("api/inbox/mark-all-read", v.InboxMarkAllReadView.as_view(), name="inbox-mark-all-read"),
    path("api/inbox/archive-all", v.InboxArchiveAllView.as_view(), name="inbox-archive-all"),
    path(
        "api/inbox/archive-all-read",
        v.InboxArchiveAllReadView.as_view(),
        name="inbox-archive-all-read",
    ),
    path(
        "api/inbox/archive-completed",
        v.InboxArchiveCompletedView.as_view(),
        name="inbox-archive-completed",
    ),
    path(f"{ITEM}/read", v.InboxItemReadView.as_view(), name="inbox-item-read"),
    path(f"{ITEM}/unread", v.InboxItemUnreadView.as_view(), name="inbox-item-unread"),
    path(f"{ITEM}/archive", v.InboxItemArchiveView.as_view(), name="inbox-item-archive"),
    path(f"{ITEM}/unarchive", v.InboxItemUnarchiveView.as_view(), name="inbox-item-unarchive"),
    path(
        "api/notification-preferences",
        v.NotificationPreferencesView.as_view(),
        name="notification-preferences",
    ),
]
