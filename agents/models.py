"""Agents, their skill bindings and invocation targets, and the task queue (spec §5, §7).

``custom_env`` is encrypted at rest (``agents.fields.EncryptedJSONField``); its key names are
kept in clear in ``custom_env_keys`` for counts and audit rows, never the values.
"""

from __future__ import annotations

import uuid
from typing import ClassVar

from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import Q
from django.utils.timezone import now

from agents.fields import EncryptedJSONField
from issues.models import Issue, uuid7
from runtimes.models import AgentRuntime
from skills.models import Skill
from workspaces.models import User, Workspace


class Agent(models.Model):
    class Status(models.TextChoices):
        IDLE = "idle"
        WORKING = "working"
        BLOCKED = "blocked"
        ERROR = "error"
        OFFLINE = "offline"

    class Visibility(models.TextChoices):
        PRIVATE = "private"
        WORKSPACE = "workspace"

    class PermissionMode(models.TextChoices):
        PRIVATE = "private"
        PUBLIC_TO = "public_to"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    name = models.CharField(max_length=255)
    description = models.TextField(blank=True, default="")
    instructions = models.TextField(blank=True, default="")
    avatar_url = models.TextField(null=True, blank=True)
    runtime = models.ForeignKey(
        AgentRuntime, on_delete=models.RESTRICT, null=True, blank=True, related_name="agents"
    )
    runtime_mode = models.CharField(max_length=16, default="local")
    runtime_config = models.JSONField(default=dict, blank=True)
    custom_env = EncryptedJSONField(null=True, blank=True)
    custom_env_keys = models.JSONField(default=list, blank=True)
    custom_args = models.JSONField(default=list, blank=True)
    mcp_config = models.JSONField(null=True, blank=True)
    visibility = models.CharField(
        max_length=16, choices=Visibility.choices, default=Visibility.PRIVATE
    )
    permission_mode = models.CharField(
        max_length=16, choices=PermissionMode.choices, default=PermissionMode.PRIVATE
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.OFFLINE)
    max_concurrent_tasks = models.IntegerField(default=6)
    model = models.CharField(max_length=255, null=True, blank=True)
    thinking_level = models.CharField(max_length=64, null=True, blank=True)
    service_tier = models.CharField(max_length=64, null=True, blank=True)
    owner = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    kind = models.CharField(max_length=16, default="user")
    system_key = models.CharField(max_length=64, null=True, blank=True)
    disabled_runtime_skills = models.JSONField(default=list, blank=True)
    archived_at = models.DateTimeField(null=True, blank=True)
    archived_by = models.UUIDField(null=True, blank=True)
    created_at = models.DateTimeField(default=now)
    updated_at = models.DateTimeField(auto_now=True)
    skills = models.ManyToManyField(Skill, through="AgentSkill", related_name="agents")

    class Meta:
        db_table = "agent"
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["workspace", "name"], name="agent_ws_name_uniq"),
            models.CheckConstraint(
                condition=Q(max_concurrent_tasks__gte=1) & Q(max_concurrent_tasks__lte=50),
                name="agent_max_concurrent_range",
            ),
        ]
        indexes: ClassVar = [models.Index(fields=["workspace", "created_at"], name="agent_ws")]

    def __str__(self) -> str:
        return self.name


class AgentInvocationTarget(models.Model):
    class TargetType(models.TextChoices):
        WORKSPACE = "workspace"
        MEMBER = "member"
        TEAM = "team"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    agent = models.ForeignKey(Agent, on_delete=models.CASCADE, related_name="invocation_targets")
    target_type = models.CharField(max_length=16, choices=TargetType.choices)
    target_id = models.UUIDField()
    created_by = models.UUIDField(null=True, blank=True)
    created_at = models.DateTimeField(default=now)

    class Meta:
        db_table = "agent_invocation_target"
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["agent", "target_type", "target_id"], name="agent_target_uniq"
            )
        ]


class AgentSkill(models.Model):
    agent = models.ForeignKey(Agent, on_delete=models.CASCADE, related_name="skill_bindings")
    skill = models.ForeignKey(Skill, on_delete=models.CASCADE, related_name="agent_bindings")
    enabled = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=now)

    class Meta:
        db_table = "agent_skill"
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["agent", "skill"], name="agent_skill_uniq")
        ]


ACTIVE_TASK_STATUSES = ("queued", "dispatched", "waiting_local_directory", "running")
TERMINAL_TASK_STATUSES = ("completed", "failed", "cancelled")


class AgentTask(models.Model):
    """``agent_task_queue``: one attempt of one run of an agent (spec §7.1)."""

    class Status(models.TextChoices):
        DEFERRED = "deferred"
        QUEUED = "queued"
        DISPATCHED = "dispatched"
        WAITING_LOCAL_DIRECTORY = "waiting_local_directory"
        RUNNING = "running"
        COMPLETED = "completed"
        FAILED = "failed"
        CANCELLED = "cancelled"

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    agent = models.ForeignKey(Agent, on_delete=models.CASCADE, related_name="tasks")
    issue = models.ForeignKey(
        Issue, on_delete=models.CASCADE, null=True, blank=True, related_name="tasks"
    )
    runtime = models.ForeignKey(
        AgentRuntime, on_delete=models.SET_NULL, null=True, blank=True, related_name="tasks"
    )
    status = models.CharField(max_length=32, choices=Status.choices, default=Status.QUEUED)
    priority = models.IntegerField(default=0)
    dispatched_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    result = models.JSONField(null=True, blank=True)
    error = models.TextField(null=True, blank=True)
    failure_reason = models.CharField(max_length=128, null=True, blank=True)
    context = models.JSONField(null=True, blank=True)
    session_id = models.CharField(max_length=255, null=True, blank=True)
    work_dir = models.TextField(null=True, blank=True)
    trigger_comment_id = models.UUIDField(null=True, blank=True)
    coalesced_comment_ids = ArrayField(models.UUIDField(), default=list, blank=True)
    delivered_comment_ids = ArrayField(models.UUIDField(), default=list, blank=True)
    trigger_summary = models.TextField(null=True, blank=True)
    handoff_note = models.TextField(null=True, blank=True)
    attempt = models.IntegerField(default=1)
    max_attempts = models.IntegerField(default=2)
    parent_task_id = models.UUIDField(null=True, blank=True)
    retry_of_task_id = models.UUIDField(null=True, blank=True)
    rerun_of_task_id = models.UUIDField(null=True, blank=True)
    force_fresh_session = models.BooleanField(default=False)
    initiator_user_id = models.UUIDField(null=True, blank=True)
    originator_user_id = models.UUIDField(null=True, blank=True)
    wait_reason = models.TextField(null=True, blank=True)
    fire_at = models.DateTimeField(null=True, blank=True)
    prepare_lease_expires_at = models.DateTimeField(null=True, blank=True)
    # Fencing: bumped on every (re)claim; reports carrying an older epoch are refused.
    lease_epoch = models.IntegerField(default=0)
    created_at = models.DateTimeField(default=now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "agent_task_queue"
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["issue", "agent"],
                condition=Q(status__in=("queued", "dispatched")),
                name="task_one_pending_per_issue_agent",
            )
        ]
        indexes: ClassVar = [
            models.Index(
                "runtime", models.F("priority").desc(), "created_at",
                condition=Q(status="queued"), name="task_claim_queue",
            ),
            # Lost claim responses (redelivery) and the sweeper's dispatch timeout.
            models.Index(
                "runtime", "dispatched_at",
                condition=Q(status="dispatched", started_at__isnull=True),
                name="task_dispatched_unstarted",
            ),
            # Deferred tasks coming due on a claimer's runtimes.
            models.Index(
                "runtime", "fire_at", condition=Q(status="deferred"), name="task_deferred_due"
            ),
            models.Index(fields=["workspace", "-created_at"], name="task_ws_created"),
            models.Index(fields=["agent", "status"], name="task_agent_status"),
            models.Index(fields=["issue", "-created_at"], name="task_issue_created"),
        ]  # fmt: skip

    def __str__(self) -> str:
        return f"task {self.id} ({self.status})"


class TaskMessage(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    task = models.ForeignKey(AgentTask, on_delete=models.CASCADE, related_name="messages")
    seq = models.IntegerField()
    type = models.CharField(max_length=16)  # text | thinking | tool_use | tool_result | error
    tool = models.CharField(max_length=255, null=True, blank=True)
    content = models.TextField(null=True, blank=True)
    input = models.JSONField(null=True, blank=True)
    output = models.TextField(null=True, blank=True)
    created_at = models.DateTimeField(default=now)

    class Meta:
        db_table = "task_message"
        indexes: ClassVar = [models.Index(fields=["task", "seq"], name="task_message_seq")]
