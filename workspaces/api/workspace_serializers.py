"""Request and response shapes of ``/api/workspaces…`` and ``/api/invitations…`` (spec §2).

Input serializers only check JSON types; the rules and Multica's error sentences live in
:mod:`workspaces.services.workspaces`. Output serializers declare the fields for the schema and
render through the service's ``*_wire`` functions, the same ones the event payloads use.
"""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from workspaces.services.workspaces import invitation_wire, member_wire, workspace_wire


class StrictCharField(serializers.CharField):
    """A JSON string or null; numbers and booleans are not quietly turned into text.

    NUL bytes are dropped (Multica strips them from stored text) rather than refused.
    """

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data.replace("\x00", ""))


def _text(**kwargs: Any) -> serializers.CharField:
    kwargs.setdefault("required", False)
    kwargs.setdefault("allow_blank", True)
    kwargs.setdefault("allow_null", True)
    kwargs.setdefault("trim_whitespace", False)
    return StrictCharField(**kwargs)


# --- input ------------------------------------------------------------------------------------


class WorkspaceCreateInput(serializers.Serializer):
    name = _text(max_length=255)
    slug = _text(max_length=100)
    description = _text()
    context = _text()
    issue_prefix = _text(max_length=64)


class WorkspaceUpdateInput(serializers.Serializer):
    name = _text(max_length=255)
    description = _text()
    context = _text()
    settings = serializers.JSONField(required=False, allow_null=True)
    repos = serializers.JSONField(required=False, allow_null=True)
    issue_prefix = _text(max_length=64)
    avatar_url = _text()


class InvitationCreateInput(serializers.Serializer):
    email = _text(max_length=1024)
    role = _text(max_length=32)


class MemberUpdateInput(serializers.Serializer):
    role = _text(max_length=32)


# --- output -----------------------------------------------------------------------------------


class WorkspaceOutput(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()
    slug = serializers.CharField()
    description = serializers.CharField(allow_null=True)
    context = serializers.CharField(allow_null=True)
    settings = serializers.DictField()
    repos = serializers.ListField(child=serializers.DictField())
    issue_prefix = serializers.CharField()
    avatar_url = serializers.CharField(allow_null=True)
    created_at = serializers.CharField()
    updated_at = serializers.CharField()

    def to_representation(self, instance: Any) -> dict[str, Any]:
        return workspace_wire(instance)


class MemberWithUserOutput(serializers.Serializer):
    id = serializers.UUIDField()
    workspace_id = serializers.UUIDField()
    user_id = serializers.UUIDField()
    role = serializers.CharField()
    created_at = serializers.CharField()
    name = serializers.CharField()
    email = serializers.CharField()
    avatar_url = serializers.CharField(allow_null=True)

    def to_representation(self, instance: Any) -> dict[str, Any]:
        return member_wire(instance)


class InvitationOutput(serializers.Serializer):
    id = serializers.UUIDField()
    workspace_id = serializers.UUIDField()
    inviter_id = serializers.UUIDField()
    invitee_email = serializers.CharField()
    invitee_user_id = serializers.UUIDField(allow_null=True)
    role = serializers.CharField()
    status = serializers.CharField()
    created_at = serializers.CharField()
    updated_at = serializers.CharField()
    expires_at = serializers.CharField()
    inviter_name = serializers.CharField(required=False)
    inviter_email = serializers.CharField(required=False)
    workspace_name = serializers.CharField(required=False)

    def to_representation(self, instance: Any) -> dict[str, Any]:
        return invitation_wire(
            instance,
            with_inviter=self.context.get("with_inviter", False),
            with_workspace=self.context.get("with_workspace", False),
        )
