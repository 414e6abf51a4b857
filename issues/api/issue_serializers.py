"""Input shapes of the issue and status endpoints: JSON types only. Meaning (ids, dates, enums)
is checked by the services, with Multica's sentences; a wrong JSON type is ``invalid request
body``, as Go's decoder answers."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers


class StrictCharField(serializers.CharField):
    """A JSON string; numbers and booleans are not coerced."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        kwargs.setdefault("allow_null", True)
        kwargs.setdefault("allow_blank", True)
        kwargs.setdefault("trim_whitespace", False)
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return data


class StrictFloatField(serializers.FloatField):
    def to_internal_value(self, data: Any) -> float:
        if isinstance(data, bool) or not isinstance(data, int | float):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictIntegerField(serializers.IntegerField):
    def to_internal_value(self, data: Any) -> int:
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("invalid")
        return int(data)


OPTIONAL = {"required": False, "allow_null": True}


def id_list() -> serializers.ListField:
    return serializers.ListField(child=StrictCharField(allow_null=False), **OPTIONAL)


class IssueCreateInput(serializers.Serializer):
    title = StrictCharField()
    description = StrictCharField()
    status = StrictCharField()
    priority = StrictCharField()
    assignee_type = StrictCharField()
    assignee_id = StrictCharField()
    parent_issue_id = StrictCharField()
    project_id = StrictCharField()
    stage = StrictIntegerField(**OPTIONAL)
    start_date = StrictCharField()
    due_date = StrictCharField()
    attachment_ids = id_list()
    label_ids = id_list()
    allow_duplicate = serializers.BooleanField(required=False, default=False)


class IssueUpdateInput(serializers.Serializer):
    """PUT fields; a key present with ``null`` clears a nullable field."""

    title = StrictCharField()
    description = StrictCharField()
    status = StrictCharField()
    priority = StrictCharField()
    assignee_type = StrictCharField()
    assignee_id = StrictCharField()
    position = StrictFloatField(**OPTIONAL)
    start_date = StrictCharField()
    due_date = StrictCharField()
    parent_issue_id = StrictCharField()
    project_id = StrictCharField()
    stage = StrictIntegerField(**OPTIONAL)
    attachment_ids = id_list()
    expected_revision = StrictIntegerField(**OPTIONAL)
    title_base = StrictCharField()
    description_base = StrictCharField()
    suppress_run = serializers.BooleanField(required=False, default=False)
    handoff_note = StrictCharField()

    CONTROL_FIELDS = (
        "attachment_ids", "expected_revision", "title_base", "description_base", "suppress_run",
        "handoff_note",
    )  # fmt: skip


class IssueBatchUpdateInput(serializers.Serializer):
    issue_ids = id_list()
    updates = serializers.DictField(required=False, default=dict)


class IssueBatchDeleteInput(serializers.Serializer):
    issue_ids = id_list()


class LabelAttachInput(serializers.Serializer):
    label_id = StrictCharField()


class ReactionInput(serializers.Serializer):
    emoji = StrictCharField()


class StatusCreateInput(serializers.Serializer):
    key = StrictCharField()
    name = StrictCharField()
    description = StrictCharField()
    category = StrictCharField()
    color = StrictCharField()


class StatusUpdateInput(serializers.Serializer):
    name = StrictCharField()
    description = StrictCharField()
    color = StrictCharField()
    position = StrictFloatField(**OPTIONAL)


class StatusReorderInput(serializers.Serializer):
    category = StrictCharField()
    ids = id_list()
