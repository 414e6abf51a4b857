"""The caller's inbox and notification preferences (spec §3.8).

Every route is workspace-scoped and acts on the caller's own items only; another user's or
another workspace's item is 404 ``inbox item not found``.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from issues import selectors_conversation as selectors
from issues.api import conversation_serializers as s
from issues.services import inbox as inbox_services
from issues.services.inbox import inbox_item_wire
from multica_site.errors import ValidationError
from multica_site.views import WorkspaceAPIView


class InboxListView(WorkspaceAPIView):
    @extend_schema(responses=s.InboxItemOutput(many=True))
    def get(self, request: Request) -> Response:
        return Response([inbox_item_wire(i) for i in selectors.inbox_list(ctx=self.ctx)])


class InboxArchivedListView(WorkspaceAPIView):
    @extend_schema(responses=s.InboxItemOutput(many=True))
    def get(self, request: Request) -> Response:
        items = selectors.inbox_archived_list(ctx=self.ctx)
        return Response([inbox_item_wire(i) for i in items])


class InboxUnreadCountView(WorkspaceAPIView):
    @extend_schema(responses=s.CountOutput)
    def get(self, request: Request) -> Response:
        return Response({"count": selectors.inbox_unread_count(ctx=self.ctx)})


class InboxUnreadSummaryView(WorkspaceAPIView):
    """Account-level (every workspace of the caller), but reached like any inbox route."""

    @extend_schema(responses=s.WorkspaceUnreadOutput(many=True))
    def get(self, request: Request) -> Response:
        rows = selectors.inbox_unread_summary(user=request.user)
        return Response([{"workspace_id": str(ws), "count": count} for ws, count in rows])


class _InboxItemActionView(WorkspaceAPIView):
    service = staticmethod(inbox_services.inbox_item_mark_read)

    @extend_schema(request=None, responses=s.InboxItemOutput)
    def post(self, request: Request, inbox_item_id: Any) -> Response:
        item = type(self).service(ctx=self.ctx, item_id=inbox_item_id)
        return Response(inbox_item_wire(item))


class InboxItemReadView(_InboxItemActionView):
    service = staticmethod(inbox_services.inbox_item_mark_read)


class InboxItemUnreadView(_InboxItemActionView):
    service = staticmethod(inbox_services.inbox_item_mark_unread)


class InboxItemArchiveView(_InboxItemActionView):
    service = staticmethod(inbox_services.inbox_item_archive)


class InboxItemUnarchiveView(_InboxItemActionView):
    service = staticmethod(inbox_services.inbox_item_unarchive)


class _InboxBatchView(WorkspaceAPIView):
    service = staticmethod(inbox_services.inbox_mark_all_read)

    @extend_schema(request=None, responses=s.CountOutput)
    def post(self, request: Request) -> Response:
        return Response({"count": type(self).service(ctx=self.ctx)})


class InboxMarkAllReadView(_InboxBatchView):
    service = staticmethod(inbox_services.inbox_mark_all_read)


class InboxArchiveAllView(_InboxBatchView):
    service = staticmethod(inbox_services.inbox_archive_all)


class InboxArchiveAllReadView(_InboxBatchView):
    service = staticmethod(inbox_services.inbox_archive_all_read)


class InboxArchiveCompletedView(_InboxBatchView):
    service = staticmethod(inbox_services.inbox_archive_completed)


class NotificationPreferencesView(WorkspaceAPIView):
    """``{workspace_id, preferences: {group: "all"|"muted"}}``; PUT replaces, PATCH merges."""

    def _render(self, preferences: dict[str, str]) -> Response:
        return Response({"workspace_id": str(self.ctx.workspace_id), "preferences": preferences})

    @extend_schema(responses=s.NotificationPreferencesOutput)
    def get(self, request: Request) -> Response:
        return self._render(selectors.notification_preferences_get(ctx=self.ctx))

    def _write(self, request: Request, *, merge: bool) -> Response:
        if not isinstance(request.data, dict):
            raise ValidationError("invalid request body")
        preferences = inbox_services.notification_preferences_update(
            ctx=self.ctx, preferences=request.data.get("preferences"), merge=merge
        )
        return self._render(preferences)

    @extend_schema(
        request=s.NotificationPreferencesInput, responses=s.NotificationPreferencesOutput
    )
    def put(self, request: Request) -> Response:
        return self._write(request, merge=False)

    @extend_schema(
        request=s.NotificationPreferencesInput, responses=s.NotificationPreferencesOutput
    )
    def patch(self, request: Request) -> Response:
        return self._write(request, merge=True)
