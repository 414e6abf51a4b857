"""Request parsing for the agent routes, with Go's decoding rules: a field of the wrong JSON type
is ``400 invalid request body``; ``null`` is the same as absent except where the service needs to
tell them apart (``mcp_config``), so the parsed dict keeps present-``null`` keys as ``None``.
"""

from __future__ import annotations

from typing import Any

from rest_framework import serializers
from rest_framework.request import Request

from multica_site.errors import ValidationError

INVALID_BODY = "invalid request body"
INT32_MAX = 2**31 - 1


def _fail() -> ValidationError:
    return ValidationError(INVALID_BODY)


def _string(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    raise _fail()


def _int32(value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool):
        raise _fail()
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if not isinstance(value, int) or not -INT32_MAX - 1 <= value <= INT32_MAX:
        raise _fail()
    return value


def _strings(value: Any) -> list[str] | None:
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise _fail()
    return value


def _string_map(value: Any) -> dict[str, str] | None:
    if value is None:
        return None
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise _fail()
    return dict(value)


def _targets(value: Any) -> list[dict[str, Any]] | None:
    if value is None:
        return None
    if not isinstance(value, list):
        raise _fail()
    out = []
    for item in value:
        if not isinstance(item, dict):
            raise _fail()
        out.append(
            {
                "target_type": _string(item.get("target_type")) or "",
                "target_id": _string(item.get("target_id")),
            }
        )
    return out


def _any(value: Any) -> Any:
    return value


FIELD_PARSERS = {
    "name": _string,
    "description": _string,
    "instructions": _string,
    "avatar_url": _string,
    "runtime_id": _string,
    "runtime_config": _any,
    "custom_env": _string_map,
    "custom_args": _strings,
    "mcp_config": _any,
    "visibility": _string,
    "permission_mode": _string,
    "invocation_targets": _targets,
    "max_concurrent_tasks": _int32,
    "model": _string,
    "thinking_level": _string,
    "service_tier": _string,
    "skill_ids": _strings,
    "template": _string,
    "status": _string,
}
CREATE_FIELDS = frozenset(FIELD_PARSERS) - {"status"}
UPDATE_FIELDS = frozenset(FIELD_PARSERS) - {"skill_ids", "template"}


def _body(request: Request) -> dict[str, Any]:
    data = {} if request.data is None else request.data
    if not isinstance(data, dict):
        raise _fail()
    return data


def parse_agent_body(request: Request, *, allowed: frozenset[str]) -> dict[str, Any]:
    """Known keys as sent (present ``null`` kept as ``None``). ``custom_env`` is reported on
    update even though it is refused there, so the service can answer its own 400."""
    data = _body(request)
    out: dict[str, Any] = {}
    for key, value in data.items():
        if key == "custom_env" and key not in allowed:
            out[key] = value
        elif key in allowed:
            out[key] = FIELD_PARSERS[key](value)
    return out


def parse_env_body(request: Request) -> dict[str, str]:
    data = _body(request)
    env = _string_map(data.get("custom_env"))
    return env if env is not None else {}


# --- OpenAPI shapes (documentation only; the wire is built by agents.wire) ---------------------


class InvocationTargetSchema(serializers.Serializer):
    target_type = serializers.ChoiceField(choices=["workspace", "member", "team"])
    target_id = serializers.CharField(allow_null=True)


class AgentSkillSummarySchema(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()
    description = serializers.CharField()
    enabled = serializers.BooleanField()


class AgentWriteSchema(serializers.Serializer):
    name = serializers.CharField(required=False)
    description = serializers.CharField(required=False)
    instructions = serializers.CharField(required=False)
    avatar_url = serializers.CharField(required=False, allow_null=True)
    runtime_id = serializers.UUIDField(required=False)
    runtime_config = serializers.JSONField(required=False)
    custom_env = serializers.DictField(child=serializers.CharField(), required=False)
    custom_args = serializers.ListField(child=serializers.CharField(), required=False)
    mcp_config = serializers.JSONField(required=False, allow_null=True)
    visibility = serializers.ChoiceField(choices=["private", "workspace"], required=False)
    permission_mode = serializers.ChoiceField(choices=["private", "public_to"], required=False)
    invocation_targets = InvocationTargetSchema(many=True, required=False)
    max_concurrent_tasks = serializers.IntegerField(required=False, min_value=1, max_value=50)
    model = serializers.CharField(required=False)
    thinking_level = serializers.CharField(required=False)
    service_tier = serializers.CharField(required=False)
    skill_ids = serializers.ListField(child=serializers.UUIDField(), required=False)
    status = serializers.CharField(required=False)


class AgentSchema(serializers.Serializer):
    id = serializers.UUIDField()
    workspace_id = serializers.UUIDField()
    runtime_id = serializers.CharField()
    runtime_bound = serializers.BooleanField()
    name = serializers.CharField()
    description = serializers.CharField()
    instructions = serializers.CharField()
    avatar_url = serializers.CharField(allow_null=True)
    runtime_mode = serializers.CharField()
    runtime_config = serializers.JSONField()
    custom_args = serializers.ListField(child=serializers.CharField())
    mcp_config = serializers.JSONField(allow_null=True)
    has_custom_env = serializers.BooleanField()
    custom_env_key_count = serializers.IntegerField()
    mcp_config_redacted = serializers.BooleanField()
    visibility = serializers.CharField()
    permission_mode = serializers.CharField()
    invocation_targets = InvocationTargetSchema(many=True)
    status = serializers.CharField()
    max_concurrent_tasks = serializers.IntegerField()
    model = serializers.CharField()
    thinking_level = serializers.CharField()
    service_tier = serializers.CharField()
    owner_id = serializers.UUIDField(allow_null=True)
    skills = AgentSkillSummarySchema(many=True)
    disabled_runtime_skills = serializers.ListField(child=serializers.JSONField())
    created_at = serializers.CharField()
    updated_at = serializers.CharField()
    archived_at = serializers.CharField(allow_null=True)
    archived_by = serializers.UUIDField(allow_null=True)


class AgentEnvSchema(serializers.Serializer):
    agent_id = serializers.UUIDField()
    custom_env = serializers.DictField(child=serializers.CharField())


class AgentEnvWriteSchema(serializers.Serializer):
    custom_env = serializers.DictField(child=serializers.CharField())


class CancelledSchema(serializers.Serializer):
    cancelled = serializers.IntegerField()
