"""Input and output serializers of labels, projects and attachments.

Inputs are plain serializers with strict types: a field of the wrong JSON type is
``invalid request body`` (as Go's decoder in Multica); the services own every other rule and its
sentence. Outputs delegate to :mod:`issues.wire_catalog`, the one definition of each shape, and
declare their fields for the OpenAPI schema.
"""

from __future__ import annotations

from typing import Any

from rest_framework import serializers
from rest_framework.fields import ProhibitNullCharactersValidator
from rest_framework.request import Request

from issues.wire_catalog import attachment_wire, label_wire, project_wire
from multica_site.errors import ValidationError


class StrictCharField(serializers.CharField):
    """A JSON string (numbers and booleans are refused, not coerced); ``null`` allowed."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        kwargs.setdefault("allow_null", True)
        kwargs.setdefault("allow_blank", True)
        kwargs.setdefault("trim_whitespace", False)
        super().__init__(**kwargs)
        # NUL bytes are the services' business (refused in names, stripped from text).
        self.validators = [
            v for v in self.validators if not isinstance(v, ProhibitNullCharactersValidator)
        ]

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


def parse_body(serializer_class: type[serializers.Serializer], request: Request) -> dict[str, Any]:
    """The body's known keys, as sent (present ``null`` kept as ``None``; absent keys absent)."""
    data = {} if request.data is None else request.data
    if not isinstance(data, dict):
        raise ValidationError("invalid request body")
    serializer = serializer_class(data=data)
    if not serializer.is_valid():
        raise ValidationError("invalid request body")
    return dict(serializer.validated_data)


# --- labels -----------------------------------------------------------------------------------


class LabelCreateInput(serializers.Serializer):
    resource_type = StrictCharField()
    name = StrictCharField()
    description = StrictCharField()
    color = StrictCharField()


class LabelUpdateInput(serializers.Serializer):
    name = StrictCharField()
    description = StrictCharField()
    color = StrictCharField()


class LabelOutput(serializers.Serializer):
    id = serializers.UUIDField()
    workspace_id = serializers.UUIDField()
    resource_type = serializers.ChoiceField(choices=["issue", "agent", "skill"])
    name = serializers.CharField()
    description = serializers.CharField()
    color = serializers.CharField()
    usage_count = serializers.IntegerField()
    created_at = serializers.CharField()
    updated_at = serializers.CharField()

    def to_representation(self, instance: Any) -> dict[str, Any]:
        return label_wire(instance)


class LabelListOutput(serializers.Serializer):
    labels = LabelOutput(many=True)
    total = serializers.IntegerField()


# --- projects ---------------------------------------------------------------------------------


class ProjectCreateInput(serializers.Serializer):
    title = StrictCharField()
    description = StrictCharField()
    icon = StrictCharField()
    status = StrictCharField()
    priority = StrictCharField()
    lead_type = StrictCharField()
    lead_id = StrictCharField()
    start_date = StrictCharField()
    due_date = StrictCharField()
    resources = serializers.ListField(child=serializers.DictField(), required=False)


class ProjectUpdateInput(serializers.Serializer):
    title = StrictCharField()
    description = StrictCharField()
    icon = StrictCharField()
    status = StrictCharField()
    priority = StrictCharField()
    lead_type = StrictCharField()
    lead_id = StrictCharField()
    start_date = StrictCharField()
    due_date = StrictCharField()


class ProjectOutput(serializers.Serializer):
    id = serializers.UUIDField()
    workspace_id = serializers.UUIDField()
    title = serializers.CharField()
    description = serializers.CharField(allow_null=True)
    icon = serializers.CharField(allow_null=True)
    status = serializers.CharField()
    priority = serializers.CharField()
    lead_type = serializers.CharField(allow_null=True)
    lead_id = serializers.UUIDField(allow_null=True)
    start_date = serializers.DateField(allow_null=True)
    due_date = serializers.DateField(allow_null=True)
    created_at = serializers.CharField()
    updated_at = serializers.CharField()
    issue_count = serializers.IntegerField()
    done_count = serializers.IntegerField()
    resource_count = serializers.IntegerField()

    def to_representation(self, instance: Any) -> dict[str, Any]:
        return project_wire(instance)


class ProjectListOutput(serializers.Serializer):
    projects = ProjectOutput(many=True)
    total = serializers.IntegerField()


class ProjectSearchOutput(ProjectOutput):
    match_source = serializers.ChoiceField(choices=["title", "description"])
    matched_snippet = serializers.CharField(required=False)

    def to_representation(self, instance: Any) -> dict[str, Any]:
        body = project_wire(instance)
        body["match_source"] = instance.match_source
        if getattr(instance, "matched_snippet", None):
            body["matched_snippet"] = instance.matched_snippet
        return body


class ProjectSearchListOutput(serializers.Serializer):
    projects = ProjectSearchOutput(many=True)
    total = serializers.IntegerField()


# --- attachments ------------------------------------------------------------------------------


class UploadFileInput(serializers.Serializer):
    file = serializers.FileField()
    issue_id = serializers.CharField(required=False)
    comment_id = serializers.CharField(required=False)


class AttachmentOutput(serializers.Serializer):
    id = serializers.UUIDField()
    workspace_id = serializers.UUIDField()
    issue_id = serializers.UUIDField(allow_null=True)
    comment_id = serializers.UUIDField(allow_null=True)
    chat_session_id = serializers.UUIDField(allow_null=True)
    chat_message_id = serializers.UUIDField(allow_null=True)
    uploader_type = serializers.CharField()
    uploader_id = serializers.UUIDField()
    filename = serializers.CharField()
    url = serializers.CharField()
    download_url = serializers.CharField()
    markdown_url = serializers.CharField()
    content_type = serializers.CharField()
    size_bytes = serializers.IntegerField()
    created_at = serializers.CharField()

    def to_representation(self, instance: Any) -> dict[str, Any]:
        return attachment_wire(instance)
