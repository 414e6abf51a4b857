"""``/api/agents/{id}/skills…`` (spec §5.4). Thin views over :mod:`agents.services.bindings`."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from agents.services import bindings as services
from multica_site.errors import ValidationError
from multica_site.views import WorkspaceAPIView
from skills.api.skill_serializers import AgentSkillOutput


class SkillIdsInput(serializers.Serializer):
    skill_ids = serializers.ListField(child=serializers.UUIDField())


class EnabledInput(serializers.Serializer):
    enabled = serializers.BooleanField()


def _body(request: Request) -> dict[str, Any]:
    data = {} if request.data is None else request.data
    if not isinstance(data, dict):
        raise ValidationError("invalid request body")
    return data


class AgentSkillsView(WorkspaceAPIView):
    @extend_schema(operation_id="agent_skills_list", responses=AgentSkillOutput(many=True))
    def get(self, request: Request, agent_id: Any) -> Response:
        return Response(services.agent_skills_for_member(ctx=self.ctx, agent_id=agent_id))

    @extend_schema(request=SkillIdsInput, responses=AgentSkillOutput(many=True))
    def put(self, request: Request, agent_id: Any) -> Response:
        skill_ids = _body(request).get("skill_ids")
        return Response(
            services.agent_skills_set(ctx=self.ctx, agent_id=agent_id, skill_ids=skill_ids)
        )


class AgentSkillsAddView(WorkspaceAPIView):
    @extend_schema(request=SkillIdsInput, responses=AgentSkillOutput(many=True))
    def post(self, request: Request, agent_id: Any) -> Response:
        skill_ids = _body(request).get("skill_ids")
        return Response(
            services.agent_skills_add(ctx=self.ctx, agent_id=agent_id, skill_ids=skill_ids)
        )


class AgentSkillEnabledView(WorkspaceAPIView):
    @extend_schema(request=EnabledInput, responses=AgentSkillOutput(many=True))
    def put(self, request: Request, agent_id: Any, skill_id: Any) -> Response:
        enabled = _body(request).get("enabled")
        return Response(
            services.agent_skill_set_enabled(
                ctx=self.ctx, agent_id=agent_id, skill_id=skill_id, enabled=enabled
            )
        )


class AgentSkillDetailView(WorkspaceAPIView):
    @extend_schema(responses=AgentSkillOutput(many=True))
    def delete(self, request: Request, agent_id: Any, skill_id: Any) -> Response:
        return Response(
            services.agent_skill_remove(ctx=self.ctx, agent_id=agent_id, skill_id=skill_id)
        )
