"""Request and response shapes of comments, the timeline, subscribers, the inbox and
notification preferences (spec §3.5–§3.8).

Input serializers only check JSON types (a wrong type is ``invalid request body``); the rules
and Multica's sentences live in the services. Output is rendered by the services' ``*_wire``
functions, the same ones the event payloads use; the output serializers here describe those
shapes for the schema.
"""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from issues.models import ActivityLog, Comment
from issues.selectors_conversation import CommentPage, Timeline
from issues.services.comments import (
    attachment_wire,
    comment_wire,
    reaction_wire,
    summarize_content,
)
from multica_site.errors import ValidationError
from multica_site.wire import format_time, str_or_none

# --- input -----------------------------------------------------------------------------------


class StrictCharField(serializers.CharField):
    """A JSON string (or null); numbers and booleans are not quietly turned into text. NUL
    bytes are dropped (Multica strips them from stored text) rather than refused."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        kwargs.setdefault("allow_null", True)
        kwargs.setdefault("allow_blank", True)
        kwargs.setdefault("trim_whitespace", False)
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return data.replace("\x00", "")


class StrictIntegerField(serializers.IntegerField):
    def to_internal_value(self, data: Any) -> int:
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("invalid")
        return data


def _id_list() -> serializers.ListField:
    return serializers.ListField(
        child=StrictCharField(allow_null=False), required=False, allow_null=True
    )


class CommentCreateInput(serializers.Serializer):
    content = StrictCharField()
    type = StrictCharField()
    parent_id = StrictCharField()
    attachment_ids = _id_list()
    suppress_agent_ids = _id_list()


class CommentUpdateInput(serializers.Serializer):
    content = StrictCharField()
    content_base = StrictCharField()
    expected_revision = StrictIntegerField(required=False, allow_null=True)
    attachment_ids = _id_list()
    suppress_agent_ids = _id_list()


class EmojiInput(serializers.Serializer):
    emoji = StrictCharField()


class SubscriberTargetInput(serializers.Serializer):
    user_id = StrictCharField()
    user_type = StrictCharField()


class NotificationPreferencesInput(serializers.Serializer):
    preferences = serializers.DictField(child=StrictCharField(allow_null=False), allow_null=True)


def parse_body(serializer_class: type[serializers.Serializer], data: Any) -> dict[str, Any]:
    """The non-null fields of a JSON object body (absent and null mean the same: "not
    given"); anything malformed is 400 ``invalid request body``."""
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ValidationError("invalid request body")
    serializer = serializer_class(data=data)
    if not serializer.is_valid():
        raise ValidationError("invalid request body")
    return {k: v for k, v in serializer.validated_data.items() if v is not None}


# --- output ----------------------------------------------------------------------------------


class ReactionOutput(serializers.Serializer):
    id = serializers.UUIDField()
    comment_id = serializers.UUIDField()
    actor_type = serializers.CharField()
    actor_id = serializers.UUIDField()
    emoji = serializers.CharField()
    created_at = serializers.CharField()
    comment_revision = serializers.IntegerField(required=False)

    def to_representation(self, instance: Any) -> dict[str, Any]:
        return reaction_wire(instance, comment_revision=self.context.get("comment_revision", 0))


class CommentOutput(serializers.Serializer):
    id = serializers.UUIDField()
    issue_id = serializers.UUIDField()
    author_type = serializers.CharField()
    author_id = serializers.CharField()
    content = serializers.CharField()
    type = serializers.CharField()
    parent_id = serializers.UUIDField(allow_null=True)
    created_at = serializers.CharField()
    updated_at = serializers.CharField()
    revision = serializers.IntegerField()
    issue_revision = serializers.IntegerField(required=False)
    resolved_at = serializers.CharField(allow_null=True)
    resolved_by_type = serializers.CharField(allow_null=True)
    resolved_by_id = serializers.UUIDField(allow_null=True)
    source_task_id = serializers.UUIDField(required=False)
    reactions = ReactionOutput(many=True)
    attachments = serializers.ListField(child=serializers.DictField())
    reply_count = serializers.IntegerField(required=False)
    last_activity_at = serializers.CharField(required=False)
    content_truncated = serializers.BooleanField(required=False)
    thread_resolved = serializers.BooleanField(required=False)
    folded_count = serializers.IntegerField(required=False)
    trigger_outcomes = serializers.ListField(child=serializers.DictField(), required=False)

    def to_representation(self, instance: Any) -> dict[str, Any]:
        return comment_wire(instance)


def comment_page_wire(page: CommentPage) -> list[dict[str, Any]]:
    """A comment list with the annotations its mode asked for."""
    out = []
    for comment in page.comments:
        item = comment_wire(comment)
        if comment.id in page.root_stats:
            reply_count, last_activity = page.root_stats[comment.id]
            item["reply_count"] = reply_count
            item["last_activity_at"] = format_time(last_activity)
        if comment.id in page.fold_stats:
            item["thread_resolved"] = True
            item["folded_count"] = page.fold_stats[comment.id]
        if page.summary:
            item["content"], item["content_truncated"] = summarize_content(item["content"])
        out.append(item)
    return out


class TimelineEntryOutput(serializers.Serializer):
    type = serializers.ChoiceField(choices=["activity", "comment"])
    id = serializers.UUIDField()
    actor_type = serializers.CharField()
    actor_id = serializers.CharField()
    created_at = serializers.CharField()
    action = serializers.CharField(required=False)
    details = serializers.DictField(required=False)
    content = serializers.CharField(required=False)
    parent_id = serializers.UUIDField(required=False)
    updated_at = serializers.CharField(required=False)
    revision = serializers.IntegerField(required=False)
    comment_type = serializers.CharField(required=False)
    reactions = ReactionOutput(many=True, required=False)
    attachments = serializers.ListField(child=serializers.DictField(), required=False)
    resolved_at = serializers.CharField(required=False)
    resolved_by_type = serializers.CharField(required=False)
    resolved_by_id = serializers.UUIDField(required=False)
    source_task_id = serializers.UUIDField(required=False)


class TimelinePageOutput(serializers.Serializer):
    entries = TimelineEntryOutput(many=True)
    next_cursor = serializers.CharField(allow_null=True)
    prev_cursor = serializers.CharField(allow_null=True)
    has_more_before = serializers.BooleanField()
    has_more_after = serializers.BooleanField()
    target_index = serializers.IntegerField(required=False)


def _comment_entry(comment: Comment) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "type": "comment",
        "id": str(comment.id),
        "actor_type": comment.author_type,
        "actor_id": str(comment.author_id) if comment.author_id else "",
        "created_at": format_time(comment.created_at),
        "content": comment.content,
    }
    if comment.parent_id:
        entry["parent_id"] = str(comment.parent_id)
    entry["updated_at"] = format_time(comment.updated_at)
    if comment.revision:
        entry["revision"] = comment.revision
    entry["comment_type"] = comment.type
    reactions = [reaction_wire(r) for r in comment.reactions.all()]
    if reactions:
        entry["reactions"] = reactions
    attachments = [attachment_wire(a) for a in comment.attachments.all()]
    if attachments:
        entry["attachments"] = attachments
    optional = (
        ("resolved_at", format_time(comment.resolved_at)),
        ("resolved_by_type", comment.resolved_by_type),
        ("resolved_by_id", str_or_none(comment.resolved_by_id)),
        ("source_task_id", str_or_none(comment.source_task_id)),
    )
    entry.update({k: v for k, v in optional if v})
    return entry


def _activity_entry(activity: ActivityLog) -> dict[str, Any]:
    return {
        "type": "activity",
        "id": str(activity.id),
        "actor_type": activity.actor_type or "",
        "actor_id": str(activity.actor_id) if activity.actor_id else "",
        "created_at": format_time(activity.created_at),
        "action": activity.action,
        "details": activity.details if activity.details is not None else {},
    }


def timeline_entries(timeline: Timeline, *, ascending: bool) -> list[dict[str, Any]]:
    """Comments and activity merged on (created_at, id) as Multica sorts them."""
    entries = [_comment_entry(c) for c in timeline.comments]
    entries += [_activity_entry(a) for a in timeline.activities]
    entries.sort(key=lambda e: (e["created_at"], e["id"]), reverse=not ascending)
    return entries


class SubscriberOutput(serializers.Serializer):
    issue_id = serializers.UUIDField()
    user_type = serializers.CharField()
    user_id = serializers.UUIDField()
    reason = serializers.CharField()
    created_at = serializers.CharField()


class SubscribedOutput(serializers.Serializer):
    subscribed = serializers.BooleanField()


class InboxItemOutput(serializers.Serializer):
    id = serializers.UUIDField()
    workspace_id = serializers.UUIDField()
    recipient_type = serializers.CharField()
    recipient_id = serializers.UUIDField()
    type = serializers.CharField()
    severity = serializers.CharField()
    issue_id = serializers.UUIDField(allow_null=True)
    title = serializers.CharField()
    body = serializers.CharField(allow_null=True)
    read = serializers.BooleanField()
    archived = serializers.BooleanField()
    created_at = serializers.CharField()
    issue_status = serializers.CharField(allow_null=True)
    actor_type = serializers.CharField(allow_null=True)
    actor_id = serializers.UUIDField(allow_null=True)
    details = serializers.DictField(allow_null=True)


class CountOutput(serializers.Serializer):
    count = serializers.IntegerField()


class WorkspaceUnreadOutput(serializers.Serializer):
    workspace_id = serializers.UUIDField()
    count = serializers.IntegerField()


class NotificationPreferencesOutput(serializers.Serializer):
    workspace_id = serializers.UUIDField()
    preferences = serializers.DictField(child=serializers.CharField())
