"""The board: statuses, issues, labels, projects, comments, activity, subscribers, inbox,
attachments (spec §3, §4, §10). Constraints only; behaviour lives in services.

Polymorphic actors are stored as ``(<role>_type, <role>_id)`` pairs: ``member`` ids are user ids,
``agent`` ids are agent ids (no foreign key: either table may hold the row).
"""

from __future__ import annotations

import uuid
from typing import ClassVar

import uuid6
from django.db import models
from django.db.models import F, Func, Q, Value
from django.db.models.functions import Lower, Trim
from django.utils.timezone import now

from workspaces.models import User, Workspace


def uuid7() -> uuid.UUID:
    """Time-ordered ids for rows the server mints in volume (issues, comments, activity…)."""
    return uuid.UUID(int=uuid6.uuid7().int)


class StatusCategory(models.TextChoices):
    BACKLOG = "backlog"
    TODO = "todo"
    IN_PROGRESS = "in_progress"
    IN_REVIEW = "in_review"
    DONE = "done"
    BLOCKED = "blocked"
    CANCELLED = "cancelled"


class Priority(models.TextChoices):
    URGENT = "urgent"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"
    NONE = "none"


class IssueStatus(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=32)
    name = models.CharField(max_length=64)
    description = models.CharField(max_length=256, blank=True, default="")
    category = models.CharField(max_length=16, choices=StatusCategory.choices)
    color = models.CharField(max_length=7)
    is_system = models.BooleanField(default=False)
    position = models.FloatField(default=0)
    archived_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "issue_status"
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["workspace", "key"], name="issue_status_ws_key_uniq")
        ]

    def __str__(self) -> str:
        return self.key


class Project(models.Model):
    class Status(models.TextChoices):
        PLANNED = "planned"
        IN_PROGRESS = "in_progress"
        PAUSED = "paused"
        COMPLETED = "completed"
        CANCELLED = "cancelled"

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    title = models.CharField(max_length=255)
    description = models.TextField(null=True, blank=True)
    icon = models.CharField(max_length=64, null=True, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PLANNED)
    priority = models.CharField(max_length=8, choices=Priority.choices, default=Priority.NONE)
    lead_type = models.CharField(max_length=8, null=True, blank=True)
    lead_id = models.UUIDField(null=True, blank=True)
    start_date = models.DateField(null=True, blank=True)
    due_date = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField(default=now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "project"
        indexes: ClassVar = [models.Index(fields=["workspace", "created_at"], name="project_ws")]

    def __str__(self) -> str:
        return self.title


class Label(models.Model):
    class ResourceType(models.TextChoices):
        ISSUE = "issue"
        AGENT = "agent"
        SKILL = "skill"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    resource_type = models.CharField(
        max_length=8, choices=ResourceType.choices, default=ResourceType.ISSUE
    )
    name = models.CharField(max_length=128)
    description = models.TextField(blank=True, default="")
    color = models.CharField(max_length=7)
    created_at = models.DateTimeField(default=now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "issue_label"
        constraints: ClassVar = [
            models.UniqueConstraint(
                "workspace", "resource_type", Lower("name"), name="label_ws_type_name_uniq"
            )
        ]

    def __str__(self) -> str:
        return self.name


def normalized_title() -> Lower:
    """``lower(trim(regexp_replace(title, '[[:space:]]+', ' ', 'g')))``: the title as the
    active-duplicate guard compares it (whitespace runs collapsed, case folded). One definition
    for the index and the query, so the planner matches them."""
    collapsed = Func(
        F("title"),
        Value(r"[[:space:]]+"),
        Value(" "),
        Value("g"),
        function="regexp_replace",
        output_field=models.TextField(),
    )
    return Lower(Trim(collapsed))


class Issue(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    number = models.IntegerField()
    title = models.TextField()
    description = models.TextField(null=True, blank=True)
    status = models.CharField(max_length=32, default="backlog")
    priority = models.CharField(max_length=8, choices=Priority.choices, default=Priority.NONE)
    assignee_type = models.CharField(max_length=8, null=True, blank=True)
    assignee_id = models.UUIDField(null=True, blank=True)
    creator_type = models.CharField(max_length=8)
    creator_id = models.UUIDField()
    parent_issue = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="children"
    )
    project = models.ForeignKey(
        Project, on_delete=models.SET_NULL, null=True, blank=True, related_name="issues"
    )
    acceptance_criteria = models.JSONField(default=list, blank=True)
    context_refs = models.JSONField(default=list, blank=True)
    position = models.FloatField(default=0)
    stage = models.IntegerField(null=True, blank=True)
    start_date = models.DateField(null=True, blank=True)
    due_date = models.DateField(null=True, blank=True)
    metadata = models.JSONField(default=dict, blank=True)
    properties = models.JSONField(default=dict, blank=True)
    revision = models.BigIntegerField(default=1)
    last_activity_at = models.DateTimeField(null=True, blank=True)
    origin_type = models.CharField(max_length=32, null=True, blank=True)
    origin_id = models.UUIDField(null=True, blank=True)
    first_executed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=now)
    updated_at = models.DateTimeField(default=now)
    labels = models.ManyToManyField(Label, through="IssueLabel", related_name="issues")

    class Meta:
        db_table = "issue"
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["workspace", "number"], name="issue_ws_number_uniq"),
            models.CheckConstraint(
                condition=Q(stage__isnull=True) | Q(stage__gte=1), name="issue_stage_gte_1"
            ),
        ]
        indexes: ClassVar = [
            models.Index(fields=["workspace", "position", "id"], name="issue_ws_position"),
            models.Index(fields=["workspace", "status", "position"], name="issue_ws_status_pos"),
            models.Index(fields=["workspace", "-created_at", "-id"], name="issue_ws_created"),
            models.Index(
                fields=["workspace", "assignee_type", "assignee_id"], name="issue_ws_assignee"
            ),
            models.Index(fields=["workspace", "creator_id"], name="issue_ws_creator"),
            models.Index(fields=["workspace", "project"], name="issue_ws_project"),
            models.Index(fields=["parent_issue"], name="issue_parent"),
            # The active-duplicate guard on create: an index probe, not a workspace scan.
            models.Index(F("workspace"), normalized_title(), name="issue_ws_norm_title"),
        ]

    def __str__(self) -> str:
        return f"#{self.number} {self.title}"


class IssueLabel(models.Model):
    issue = models.ForeignKey(Issue, on_delete=models.CASCADE)
    label = models.ForeignKey(Label, on_delete=models.CASCADE)
    created_at = models.DateTimeField(default=now)

    class Meta:
        db_table = "issue_to_label"
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["issue", "label"], name="issue_label_uniq")
        ]


class IssueReaction(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    issue = models.ForeignKey(Issue, on_delete=models.CASCADE, related_name="reactions")
    actor_type = models.CharField(max_length=8)
    actor_id = models.UUIDField()
    emoji = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=now)

    class Meta:
        db_table = "issue_reaction"
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["issue", "actor_type", "actor_id", "emoji"], name="issue_reaction_uniq"
            )
        ]


class Comment(models.Model):
    class Type(models.TextChoices):
        COMMENT = "comment"
        STATUS_CHANGE = "status_change"
        PROGRESS_UPDATE = "progress_update"
        SYSTEM = "system"

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    issue = models.ForeignKey(Issue, on_delete=models.CASCADE, related_name="comments")
    author_type = models.CharField(max_length=8)
    author_id = models.UUIDField(null=True, blank=True)
    content = models.TextField()
    type = models.CharField(max_length=16, choices=Type.choices, default=Type.COMMENT)
    parent = models.ForeignKey(
        "self", on_delete=models.CASCADE, null=True, blank=True, related_name="replies"
    )
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by_type = models.CharField(max_length=8, null=True, blank=True)
    resolved_by_id = models.UUIDField(null=True, blank=True)
    source_task_id = models.UUIDField(null=True, blank=True)
    revision = models.BigIntegerField(default=1)
    created_at = models.DateTimeField(default=now)
    updated_at = models.DateTimeField(default=now)

    class Meta:
        db_table = "comment"
        indexes: ClassVar = [
            models.Index(fields=["issue", "created_at", "id"], name="comment_issue_created"),
            models.Index(fields=["workspace", "created_at"], name="comment_ws_created"),
        ]

    def __str__(self) -> str:
        return f"comment {self.id}"


class CommentMention(models.Model):
    """A parsed ``[@Label](mention://<type>/<id>)`` of a comment (or an issue description)."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    comment = models.ForeignKey(Comment, on_delete=models.CASCADE, related_name="mentions")
    target_type = models.CharField(max_length=8)  # member | agent | squad | issue | all
    target_id = models.UUIDField(null=True, blank=True)  # null for @all
    label = models.CharField(max_length=255, blank=True, default="")

    class Meta:
        db_table = "comment_mention"
        indexes: ClassVar = [
            models.Index(fields=["workspace", "target_type", "target_id"], name="mention_target")
        ]


class CommentReaction(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    comment = models.ForeignKey(Comment, on_delete=models.CASCADE, related_name="reactions")
    actor_type = models.CharField(max_length=8)
    actor_id = models.UUIDField()
    emoji = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=now)

    class Meta:
        db_table = "comment_reaction"
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["comment", "actor_type", "actor_id", "emoji"], name="comment_reaction_uniq"
            )
        ]


class ActivityLog(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    issue = models.ForeignKey(
        Issue, on_delete=models.CASCADE, null=True, blank=True, related_name="activity"
    )
    actor_type = models.CharField(max_length=8, null=True, blank=True)
    actor_id = models.UUIDField(null=True, blank=True)
    action = models.CharField(max_length=64)
    details = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=now)

    class Meta:
        db_table = "activity_log"
        indexes: ClassVar = [
            models.Index(fields=["issue", "created_at", "id"], name="activity_issue_created"),
            models.Index(fields=["workspace", "created_at"], name="activity_ws_created"),
        ]


class IssueSubscriber(models.Model):
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    issue = models.ForeignKey(Issue, on_delete=models.CASCADE, related_name="subscribers")
    user_type = models.CharField(max_length=8)
    user_id = models.UUIDField()
    reason = models.CharField(max_length=16)
    unsubscribed_at = models.DateTimeField(null=True, blank=True)
    opt_out_scope = models.CharField(max_length=8, null=True, blank=True)  # issue | subtree
    created_at = models.DateTimeField(default=now)

    class Meta:
        db_table = "issue_subscriber"
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["issue", "user_type", "user_id"], name="issue_subscriber_uniq"
            )
        ]


class InboxItem(models.Model):
    class Severity(models.TextChoices):
        ACTION_REQUIRED = "action_required"
        ATTENTION = "attention"
        INFO = "info"

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    recipient_type = models.CharField(max_length=8, default="member")
    recipient_id = models.UUIDField()
    type = models.CharField(max_length=32)
    severity = models.CharField(max_length=16, choices=Severity.choices, default=Severity.INFO)
    issue = models.ForeignKey(
        Issue, on_delete=models.CASCADE, null=True, blank=True, related_name="inbox_items"
    )
    title = models.TextField(blank=True, default="")
    body = models.TextField(null=True, blank=True)
    read = models.BooleanField(default=False)
    archived = models.BooleanField(default=False)
    actor_type = models.CharField(max_length=8, null=True, blank=True)
    actor_id = models.UUIDField(null=True, blank=True)
    details = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(default=now)

    class Meta:
        db_table = "inbox_item"
        indexes: ClassVar = [
            models.Index(
                fields=["workspace", "recipient_id", "archived", "-created_at"],
                name="inbox_recipient",
            ),
        ]


class NotificationPreference(models.Model):
    """Per-member mutes by group (assignments, status_changes, comments, mentions, updates,
    agent_activity)."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    preferences = models.JSONField(default=dict, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "notification_preference"
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["workspace", "user"], name="notification_pref_uniq")
        ]


def attachment_upload_to(instance: Attachment, filename: str) -> str:
    # Storage keys are generated server-side; the client's filename is kept only as metadata.
    return f"attachments/{instance.workspace_id}/{instance.id}"


class Attachment(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    issue = models.ForeignKey(
        Issue, on_delete=models.SET_NULL, null=True, blank=True, related_name="attachments"
    )
    comment = models.ForeignKey(
        Comment, on_delete=models.SET_NULL, null=True, blank=True, related_name="attachments"
    )
    task_id = models.UUIDField(null=True, blank=True)
    uploader_type = models.CharField(max_length=8)
    uploader_id = models.UUIDField()
    filename = models.CharField(max_length=255)
    file = models.FileField(upload_to=attachment_upload_to, max_length=512)
    content_type = models.CharField(max_length=255, default="application/octet-stream")
    size_bytes = models.BigIntegerField(default=0)
    created_at = models.DateTimeField(default=now)

    class Meta:
        db_table = "attachment"
        indexes: ClassVar = [
            models.Index(fields=["workspace", "issue"], name="attachment_ws_issue"),
            models.Index(fields=["workspace", "comment"], name="attachment_ws_comment"),
        ]

    def __str__(self) -> str:
        return self.filename
