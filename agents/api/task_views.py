"""Task endpoints for the web (spec §7.3, §7.4). Thin: call one service or selector, render
with :mod:`agents.task_wire`. Every route is workspace-scoped."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from agents import selectors_tasks as selectors
from agents.services import dispatch, tasks
from agents.task_wire import task_message_wire, task_wire, tasks_wire
from multica_site.errors import ValidationError
from multica_site.views import WorkspaceAPIView


class AgentTaskOutput(serializers.Serializer):
    """``AgentTask`` (§7.2); documentation only, rendered by ``task_wire``."""

    id = serializers.UUIDField()
    agent_id = serializers.UUIDField()
    runtime_id = serializers.CharField()
    issue_id = serializers.CharField()
    workspace_id = serializers.UUIDField()
    status = serializers.CharField()
    priority = serializers.IntegerField()
    dispatched_at = serializers.CharField(allow_null=True)
    started_at = serializers.CharField(allow_null=True)
    completed_at = serializers.CharField(allow_null=True)
    result = serializers.JSONField(allow_null=True)
    error = serializers.CharField(allow_null=True)
    attempt = serializers.IntegerField()
    max_attempts = serializers.IntegerField()
    created_at = serializers.CharField()
    trigger_comment_id = serializers.UUIDField(required=False)
    coalesced_comment_ids = serializers.ListField(child=serializers.UUIDField(), required=False)
    delivered_comment_ids = serializers.ListField(child=serializers.UUIDField())
    kind = serializers.CharField()
    attribution = serializers.JSONField()


class TaskMessageOutput(serializers.Serializer):
    task_id = serializers.UUIDField()
    issue_id = serializers.UUIDField(required=False)
    seq = serializers.IntegerField()
    type = serializers.CharField()
    tool = serializers.CharField(required=False)
    content = serializers.CharField(required=False)
    input = serializers.JSONField(required=False)
    output = serializers.CharField(required=False)
    created_at = serializers.CharField(required=False)


class RerunInput(serializers.Serializer):
    task_id = serializers.CharField(required=False, allow_blank=True, allow_null=True)


def _body(request: Request) -> Mapping[str, Any]:
    data = {} if request.data is None else request.data
    if not isinstance(data, Mapping):
        raise ValidationError("invalid request body")
    return data


class IssueTaskRunsView(WorkspaceAPIView):
    @extend_schema(responses=AgentTaskOutput(many=True))
    def get(self, request: Request, issue_id: str) -> Response:
        return Response(tasks_wire(selectors.issue_task_runs(ctx=self.ctx, issue_ref=issue_id)))


class IssueActiveTaskView(WorkspaceAPIView):
    @extend_schema(
        responses=inline_serializer("ActiveTasks", {"tasks": AgentTaskOutput(many=True)})
    )
    def get(self, request: Request, issue_id: str) -> Response:
        active = selectors.issue_active_tasks(ctx=self.ctx, issue_ref=issue_id)
        return Response({"tasks": tasks_wire(active)})


class IssueTaskCancelView(WorkspaceAPIView):
    @extend_schema(request=None, responses=AgentTaskOutput)
    def post(self, request: Request, issue_id: str, task_id: Any) -> Response:
        task = tasks.task_cancel_for_issue(ctx=self.ctx, issue_ref=issue_id, task_id=task_id)
        return Response(task_wire(task))


class IssueRerunView(WorkspaceAPIView):
    @extend_schema(request=RerunInput, responses={202: AgentTaskOutput})
    def post(self, request: Request, issue_id: str) -> Response:
        task_id = _body(request).get("task_id")
        if task_id is not None and not isinstance(task_id, str):
            raise ValidationError("invalid request body")
        task = dispatch.issue_rerun(ctx=self.ctx, issue_ref=issue_id, task_id=task_id)
        return Response(task_wire(task), status=202)


class TaskCancelView(WorkspaceAPIView):
    @extend_schema(
        request=None,
        parameters=[
            OpenApiParameter(name, str, required=False)
            for name in ("expected_status", "chat_session_id", "queue_action")
        ],
        responses=AgentTaskOutput,
    )
    def post(self, request: Request, task_id: Any) -> Response:
        params = request.query_params
        task = tasks.task_cancel(
            ctx=self.ctx,
            task_id=task_id,
            expected_status=params.get("expected_status") or None,
            chat_session_id=params.get("chat_session_id"),
            queue_action=params.get("queue_action"),
        )
        return Response(task_wire(task))


class TaskMessagesView(WorkspaceAPIView):
    @extend_schema(
        parameters=[OpenApiParameter("since", int, required=False)],
        responses=TaskMessageOutput(many=True),
    )
    def get(self, request: Request, task_id: Any) -> Response:
        since = selectors.parse_since(request.query_params.get("since"))
        task, messages = selectors.task_messages(ctx=self.ctx, task_id=task_id, since=since)
        return Response([task_message_wire(m, issue_id=task.issue_id) for m in messages])
