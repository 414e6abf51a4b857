"""``/api/agents`` (spec §5.2, §5.3). Thin views: parse, call one service or selector, render.

Env views never log or echo bodies; ``sensitive_post_parameters`` keeps request bodies out of
Django's error reports for every write here.
"""

from __future__ import annotations

from typing import Any

from django.utils.decorators import method_decorator
from django.views.decorators.debug import sensitive_post_parameters, sensitive_variables
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from agents import access, selectors
from agents.api import agent_serializers as s
from agents.models import Agent
from agents.services import agents as services
from agents.services import env as env_services
from agents.wire import agent_wire
from multica_site.views import WorkspaceAPIView

sensitive_body = method_decorator(sensitive_post_parameters(), name="dispatch")


def _render_tasks(tasks: list[Any]) -> list[dict[str, Any]]:
    """``[AgentTask]`` through the dispatch area's wire (agents/task_wire.py) when present."""
    try:
        from agents.task_wire import tasks_wire  # noqa: PLC0415 - another area's module
    except ImportError:
        return [_task_wire_minimal(t) for t in tasks]
    return tasks_wire(tasks)


def _task_wire_minimal(task: Any) -> dict[str, Any]:
    from multica_site.wire import format_time, str_or_none  # noqa: PLC0415

    return {
        "id": str(task.id),
        "agent_id": str(task.agent_id),
        "runtime_id": str(task.runtime_id) if task.runtime_id else "",
        "issue_id": str(task.issue_id) if task.issue_id else "",
        "workspace_id": str(task.workspace_id),
        "status": task.status,
        "priority": task.priority,
        "dispatched_at": format_time(task.dispatched_at),
        "started_at": format_time(task.started_at),
        "completed_at": format_time(task.completed_at),
        "result": task.result,
        "error": task.error,
        "attempt": task.attempt,
        "max_attempts": task.max_attempts,
        "created_at": format_time(task.created_at),
        "trigger_comment_id": str_or_none(task.trigger_comment_id),
        "delivered_comment_ids": [str(c) for c in task.delivered_comment_ids or []],
    }


def render_agent(ctx, agent: Agent, *, read: bool) -> dict[str, Any]:
    """Reads redact ``mcp_config`` for whoever may not see it; write responses (managers only)
    redact it for agent actors."""
    redact = not access.can_view_agent_secrets(ctx, agent) if read else ctx.actor.type == "agent"
    return agent_wire(agent, redact_mcp=redact)


@sensitive_body
class AgentListView(WorkspaceAPIView):
    @extend_schema(
        operation_id="agents_list",
        parameters=[OpenApiParameter("include_archived", str, enum=["true"])],
        responses=s.AgentSchema(many=True),
    )
    def get(self, request: Request) -> Response:
        include = request.query_params.get("include_archived") == "true"
        agents = selectors.agent_list(self.ctx, include_archived=include)
        return Response([render_agent(self.ctx, a, read=True) for a in agents])

    @extend_schema(request=s.AgentWriteSchema, responses={201: s.AgentSchema})
    @sensitive_variables("data")
    def post(self, request: Request) -> Response:
        data = s.parse_agent_body(request, allowed=s.CREATE_FIELDS)
        agent = services.agent_create(ctx=self.ctx, data=data)
        return Response(render_agent(self.ctx, agent, read=False), status=201)


@sensitive_body
class AgentDetailView(WorkspaceAPIView):
    @extend_schema(responses=s.AgentSchema)
    def get(self, request: Request, agent_id: Any) -> Response:
        agent = selectors.agent_get_for_view(self.ctx, agent_id)
        return Response(render_agent(self.ctx, agent, read=True))

    @extend_schema(request=s.AgentWriteSchema, responses=s.AgentSchema)
    @sensitive_variables("data")
    def put(self, request: Request, agent_id: Any) -> Response:
        data = s.parse_agent_body(request, allowed=s.UPDATE_FIELDS)
        agent = services.agent_update(ctx=self.ctx, agent_id=agent_id, data=data)
        return Response(render_agent(self.ctx, agent, read=False))


@sensitive_body
class AgentEnvView(WorkspaceAPIView):
    @extend_schema(operation_id="agents_env_get", responses=s.AgentEnvSchema)
    @sensitive_variables("body")
    def get(self, request: Request, agent_id: Any) -> Response:
        body = env_services.agent_env_get(ctx=self.ctx, agent_id=agent_id)
        return Response(body, headers={"Cache-Control": "no-store"})

    @extend_schema(request=s.AgentEnvWriteSchema, responses=s.AgentEnvSchema)
    @sensitive_variables("env", "body")
    def put(self, request: Request, agent_id: Any) -> Response:
        env = s.parse_env_body(request)
        body = env_services.agent_env_update(ctx=self.ctx, agent_id=agent_id, custom_env=env)
        return Response(body, headers={"Cache-Control": "no-store"})


class AgentArchiveView(WorkspaceAPIView):
    @extend_schema(request=None, responses=s.AgentSchema)
    def post(self, request: Request, agent_id: Any) -> Response:
        agent = services.agent_archive(ctx=self.ctx, agent_id=agent_id)
        return Response(render_agent(self.ctx, agent, read=False))


class AgentRestoreView(WorkspaceAPIView):
    @extend_schema(request=None, responses=s.AgentSchema)
    def post(self, request: Request, agent_id: Any) -> Response:
        agent = services.agent_restore(ctx=self.ctx, agent_id=agent_id)
        return Response(render_agent(self.ctx, agent, read=False))


class AgentCancelTasksView(WorkspaceAPIView):
    @extend_schema(request=None, responses=s.CancelledSchema)
    def post(self, request: Request, agent_id: Any) -> Response:
        return Response({"cancelled": services.agent_cancel_tasks(ctx=self.ctx, agent_id=agent_id)})


class AgentTaskListView(WorkspaceAPIView):
    @extend_schema(operation_id="agents_tasks_list", responses={200: dict})
    def get(self, request: Request, agent_id: Any) -> Response:
        agent = selectors.agent_get_for_view(self.ctx, agent_id)
        return Response(_render_tasks(selectors.agent_tasks(self.ctx, agent)))
