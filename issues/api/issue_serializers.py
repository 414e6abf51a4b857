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


# --- response shapes (documentation: responses are rendered by ``issues.wire``) ----------------


class IssueLabelOutput(serializers.Serializer):
    id = serializers.UUIDField()
    workspace_id = serializers.UUIDField()
    resource_type = serializers.CharField()
    name = serializers.CharField()
    description = serializers.CharField()
    color = serializers.CharField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class IssueReactionOutput(serializers.Serializer):
    id = serializers.UUIDField()
    issue_id = serializers.UUIDField()
    actor_type = serializers.CharField()
    actor_id = serializers.UUIDField()
    emoji = serializers.CharField()
    created_at = serializers.DateTimeField()
    issue_revision = serializers.IntegerField(required=False)


class IssueOutput(serializers.Serializer):
    """The ``Issue`` object (spec §3.1)."""

    id = serializers.UUIDField()
    workspace_id = serializers.UUIDField()
    number = serializers.IntegerField()
    identifier = serializers.CharField()
    title = serializers.CharField()
    description = serializers.CharField(allow_null=True)
    status = serializers.CharField()
    status_category = serializers.CharField()
    priority = serializers.CharField()
    assignee_type = serializers.CharField(allow_null=True)
    assignee_id = serializers.UUIDField(allow_null=True)
    creator_type = serializers.CharField()
    creator_id = serializers.UUIDField()
    parent_issue_id = serializers.UUIDField(allow_null=True)
    project_id = serializers.UUIDField(allow_null=True)
    position = serializers.FloatField()
    stage = serializers.IntegerField(allow_null=True)
    start_date = serializers.DateField(allow_null=True)
    due_date = serializers.DateField(allow_null=True)
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    revision = serializers.IntegerField()
    last_activity_at = serializers.DateTimeField(allow_null=True)
    metadata = serializers.DictField()
    properties = serializers.DictField()
    labels = IssueLabelOutput(many=True, required=False)
    reactions = IssueReactionOutput(many=True, required=False)
    attachments = serializers.ListField(child=serializers.DictField(), required=False)


class IssueListOutput(serializers.Serializer):
    issues = IssueOutput(many=True)
    total = serializers.IntegerField()


class IssuesOutput(serializers.Serializer):
    issues = IssueOutput(many=True)


class SearchIssueOutput(IssueOutput):
    match_source = serializers.ChoiceField(choices=["title", "description", "comment"])
    matched_snippet = serializers.CharField(required=False)
    matched_description_snippet = serializers.CharField(required=False)
    matched_comment_snippet = serializers.CharField(required=False)


class SearchOutput(serializers.Serializer):
    issues = SearchIssueOutput(many=True)
    total = serializers.IntegerField()


class IssueGroupOutput(serializers.Serializer):
    id = serializers.CharField()
    assignee_type = serializers.CharField(allow_null=True)
    assignee_id = serializers.UUIDField(allow_null=True)
    issues = IssueOutput(many=True)
    total = serializers.IntegerField()


class GroupedOutput(serializers.Serializer):
    groups = IssueGroupOutput(many=True)


class ChildProgressEntry(serializers.Serializer):
    parent_issue_id = serializers.UUIDField()
    total = serializers.IntegerField()
    done = serializers.IntegerField()
    visible_total = serializers.IntegerField()
    visible_done = serializers.IntegerField()
    hidden_total = serializers.IntegerField()


class ChildProgressOutput(serializers.Serializer):
    progress = ChildProgressEntry(many=True)


class LabelsOutput(serializers.Serializer):
    labels = IssueLabelOutput(many=True)
    issue_revision = serializers.IntegerField(required=False)


class UpdatedCountOutput(serializers.Serializer):
    updated = serializers.IntegerField()


class DeletedCountOutput(serializers.Serializer):
    deleted = serializers.IntegerField()


class StatusOutput(serializers.Serializer):
    id = serializers.UUIDField()
    workspace_id = serializers.UUIDField()
    key = serializers.CharField()
    name = serializers.CharField()
    description = serializers.CharField()
    category = serializers.CharField()
    color = serializers.CharField()
    is_system = serializers.BooleanField()
    position = serializers.FloatField()
    archived_at = serializers.DateTimeField(allow_null=True)
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class StatusCatalogOutput(serializers.Serializer):
    statuses = StatusOutput(many=True)
    categories = serializers.ListField(child=serializers.CharField())
    total = serializers.IntegerField()
