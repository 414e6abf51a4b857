"""Comments, comment reactions, the timeline and subscribers (spec §3.5–§3.7).

Thin views: parse the body, call one service or selector, render with the wire functions.
Every route is workspace-scoped; an issue path accepts a UUID or ``PREFIX-N``.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from issues import selectors_conversation as selectors
from issues.api import conversation_serializers as s
from issues.services import comments as comment_services
from issues.services import subscribers as subscriber_services
from issues.services.subscribers import subscriber_wire
from multica_site.views import WorkspaceAPIView

TIMELINE_PAGING_PARAMS = ("limit", "before", "after", "around")


def _no_content() -> Response:
    return Response(status=204)


class IssueCommentsView(WorkspaceAPIView):
    @extend_schema(
        parameters=[
            OpenApiParameter(name, str, required=False)
            for name in (
                "since",
                "thread",
                "recent",
                "tail",
                "before",
                "before_id",
                "roots_only",
                "summary",
                "fold",
            )
        ],
        responses=s.CommentOutput(many=True),
    )
    def get(self, request: Request, issue_id: str) -> Response:
        params = selectors.comment_list_params_parse(request.query_params)
        page = selectors.comment_list(ctx=self.ctx, issue_ref=issue_id, params=params)
        headers = {}
        if page.next_before and page.next_before_id:
            headers["X-Multica-Next-Before"] = page.next_before
            headers["X-Multica-Next-Before-Id"] = page.next_before_id
        if page.truncated:
            headers["X-Comments-Truncated"] = "true"
        return Response(s.comment_page_wire(page), headers=headers)

    @extend_schema(request=s.CommentCreateInput, responses={201: s.CommentOutput})
    def post(self, request: Request, issue_id: str) -> Response:
        data = s.parse_body(s.CommentCreateInput, request.data)
        result = comment_services.comment_create(
            ctx=self.ctx,
            issue_ref=issue_id,
            content=data.get("content"),
            type=data.get("type") or None,
            parent_id=data.get("parent_id"),
            attachment_ids=data.get("attachment_ids"),
            suppress_agent_ids=data.get("suppress_agent_ids"),
        )
        return Response(result.wire(), status=201)


class CommentDetailView(WorkspaceAPIView):
    @extend_schema(request=s.CommentUpdateInput, responses=s.CommentOutput)
    def put(self, request: Request, comment_id: Any) -> Response:
        data = s.parse_body(s.CommentUpdateInput, request.data)
        result = comment_services.comment_update(
            ctx=self.ctx,
            comment_id=comment_id,
            content=data.get("content"),
            content_base=data.get("content_base"),
            expected_revision=data.get("expected_revision"),
            attachment_ids=data.get("attachment_ids"),
            suppress_agent_ids=data.get("suppress_agent_ids"),
        )
        return Response(result.wire())

    @extend_schema(responses={204: None})
    def delete(self, request: Request, comment_id: Any) -> Response:
        comment_services.comment_delete(ctx=self.ctx, comment_id=comment_id)
        return _no_content()


class CommentResolveView(WorkspaceAPIView):
    @extend_schema(request=None, responses=s.CommentOutput)
    def post(self, request: Request, comment_id: Any) -> Response:
        comment = comment_services.comment_resolve(ctx=self.ctx, comment_id=comment_id)
        return Response(comment_services.comment_wire(comment))

    @extend_schema(responses=s.CommentOutput)
    def delete(self, request: Request, comment_id: Any) -> Response:
        comment = comment_services.comment_unresolve(ctx=self.ctx, comment_id=comment_id)
        return Response(comment_services.comment_wire(comment))


class CommentReactionsView(WorkspaceAPIView):
    @extend_schema(request=s.EmojiInput, responses={201: s.ReactionOutput})
    def post(self, request: Request, comment_id: Any) -> Response:
        data = s.parse_body(s.EmojiInput, request.data)
        reaction, revision = comment_services.comment_reaction_add(
            ctx=self.ctx, comment_id=comment_id, emoji=data.get("emoji")
        )
        return Response(
            comment_services.reaction_wire(reaction, comment_revision=revision), status=201
        )

    @extend_schema(request=s.EmojiInput, responses={204: None})
    def delete(self, request: Request, comment_id: Any) -> Response:
        data = s.parse_body(s.EmojiInput, request.data)
        comment_services.comment_reaction_remove(
            ctx=self.ctx, comment_id=comment_id, emoji=data.get("emoji")
        )
        return _no_content()


class IssueTimelineView(WorkspaceAPIView):
    @extend_schema(
        parameters=[OpenApiParameter(n, str, required=False) for n in TIMELINE_PAGING_PARAMS],
        responses=s.TimelineEntryOutput(many=True),
    )
    def get(self, request: Request, issue_id: str) -> Response:
        timeline = selectors.timeline_get(ctx=self.ctx, issue_ref=issue_id)
        headers = {}
        if kinds := timeline.truncated_kinds:
            headers["X-Timeline-Truncated"] = kinds
        query = request.query_params
        if not any(query.get(name) for name in TIMELINE_PAGING_PARAMS):
            return Response(s.timeline_entries(timeline, ascending=True), headers=headers)
        # Legacy paged shape: one page holding everything, newest first, no cursors.
        entries = s.timeline_entries(timeline, ascending=False)
        body: dict[str, Any] = {
            "entries": entries,
            "next_cursor": None,
            "prev_cursor": None,
            "has_more_before": timeline.comments_truncated or timeline.activities_truncated,
            "has_more_after": False,
        }
        if anchor := query.get("around"):
            index = next((i for i, e in enumerate(entries) if e["id"] == anchor), None)
            if index is not None:
                body["target_index"] = index
        return Response(body, headers=headers)


class IssueSubscribersView(WorkspaceAPIView):
    @extend_schema(responses=s.SubscriberOutput(many=True))
    def get(self, request: Request, issue_id: str) -> Response:
        rows = selectors.subscriber_list(ctx=self.ctx, issue_ref=issue_id)
        return Response([subscriber_wire(row) for row in rows])


def _target(request: Request) -> dict[str, Any]:
    """Multica ignores an unreadable body here: the caller is the default target."""
    data = request.data if isinstance(request.data, dict) else {}
    serializer = s.SubscriberTargetInput(data=data)
    if not serializer.is_valid():
        return {}
    return {k: v for k, v in serializer.validated_data.items() if v}


class IssueSubscribeView(WorkspaceAPIView):
    @extend_schema(request=s.SubscriberTargetInput, responses=s.SubscribedOutput)
    def post(self, request: Request, issue_id: str) -> Response:
        target = _target(request)
        subscriber_services.issue_subscribe(
            ctx=self.ctx,
            issue_ref=issue_id,
            user_type=target.get("user_type"),
            user_id=target.get("user_id"),
        )
        return Response({"subscribed": True})


class IssueUnsubscribeView(WorkspaceAPIView):
    subtree = False

    @extend_schema(request=s.SubscriberTargetInput, responses=s.SubscribedOutput)
    def post(self, request: Request, issue_id: str) -> Response:
        target = _target(request)
        subscriber_services.issue_unsubscribe(
            ctx=self.ctx,
            issue_ref=issue_id,
            user_type=target.get("user_type"),
            user_id=target.get("user_id"),
            subtree=self.subtree,
        )
        return Response({"subscribed": False})


class IssueUnsubscribeSubtreeView(IssueUnsubscribeView):
    subtree = True
