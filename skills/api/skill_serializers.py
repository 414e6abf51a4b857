"""Inputs and outputs of the skills routes.

Inputs are parsed as a JSON object and handed to the services, which own every rule and its
sentence (a value of the wrong JSON type is ``invalid request body``, as Go's decoder). The
serializers below describe the shapes for the OpenAPI schema; the wire dicts come from
:mod:`skills.wire`.
"""

from __future__ import annotations

from typing import Any

from rest_framework import serializers
from rest_framework.request import Request

from multica_site.errors import ValidationError


def json_object(request: Request) -> dict[str, Any]:
    data = {} if request.data is None else request.data
    if not isinstance(data, dict):
        raise ValidationError("invalid request body")
    return dict(data)


class SkillFileInput(serializers.Serializer):
    path = serializers.CharField()
    content = serializers.CharField(required=False, allow_blank=True)


class SkillCreateInput(serializers.Serializer):
    name = serializers.CharField()
    description = serializers.CharField(required=False, allow_blank=True)
    content = serializers.CharField(required=False, allow_blank=True)
    config = serializers.JSONField(required=False)
    files = SkillFileInput(many=True, required=False)


class SkillUpdateInput(SkillCreateInput):
    name = serializers.CharField(required=False)


class SkillImportInput(serializers.Serializer):
    file = serializers.FileField(help_text="a .skill or .zip bundle")
    on_conflict = serializers.ChoiceField(
        choices=["fail", "overwrite", "rename", "skip"], required=False
    )


class SkillSummaryOutput(serializers.Serializer):
    id = serializers.UUIDField()
    workspace_id = serializers.UUIDField()
    name = serializers.CharField()
    description = serializers.CharField()
    config = serializers.JSONField()
    created_by = serializers.UUIDField(allow_null=True)
    created_at = serializers.CharField()
    updated_at = serializers.CharField()


class AgentSkillOutput(SkillSummaryOutput):
    enabled = serializers.BooleanField()


class SkillFileOutput(serializers.Serializer):
    id = serializers.UUIDField()
    skill_id = serializers.UUIDField()
    path = serializers.CharField()
    content = serializers.CharField()
    created_at = serializers.CharField()
    updated_at = serializers.CharField()


class SkillWithFilesOutput(SkillSummaryOutput):
    content = serializers.CharField()
    files = SkillFileOutput(many=True)


class LocalSkillImportInput(serializers.Serializer):
    skill_key = serializers.CharField()
    name = serializers.CharField(required=False)
    description = serializers.CharField(required=False)
    action = serializers.ChoiceField(choices=["", "overwrite"], required=False)
    target_skill_id = serializers.UUIDField(required=False)
    supports_conflict = serializers.BooleanField(required=False)


class LocalSkillRequestOutput(serializers.Serializer):
    id = serializers.UUIDField()
    runtime_id = serializers.UUIDField()
    status = serializers.CharField()
    created_at = serializers.CharField()
    updated_at = serializers.CharField()
