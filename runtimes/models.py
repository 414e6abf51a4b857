"""Runtimes: one row per (workspace, daemon, provider) registered by a daemon (spec §6.1)."""

from __future__ import annotations

import uuid
from typing import ClassVar

from django.db import models
from django.db.models import Q
from django.utils.timezone import now

from workspaces.models import User, Workspace


class AgentRuntime(models.Model):
    class Status(models.TextChoices):
        ONLINE = "online"
        OFFLINE = "offline"

    class Visibility(models.TextChoices):
        PRIVATE = "private"
        PUBLIC = "public"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    daemon_id = models.CharField(max_length=255, null=True, blank=True)
    legacy_daemon_id = models.CharField(max_length=255, null=True, blank=True)
    name = models.CharField(max_length=255)
    custom_name = models.CharField(max_length=100, null=True, blank=True)
    runtime_mode = models.CharField(max_length=16, default="local")
    provider = models.CharField(max_length=64)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.OFFLINE)
    device_info = models.CharField(max_length=512, blank=True, default="")
    metadata = models.JSONField(default=dict, blank=True)
    # X-Client-Capabilities of the daemon that registered or last spoke for this runtime.
    client_capabilities = models.JSONField(default=list, blank=True)
    owner = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    visibility = models.CharField(
        max_length=16, choices=Visibility.choices, default=Visibility.PRIVATE
    )
    profile_id = models.UUIDField(null=True, blank=True)
    last_seen_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "agent_runtime"
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["workspace", "daemon_id", "provider"],
                condition=Q(profile_id__isnull=True),
                name="runtime_ws_daemon_provider_uniq",
            ),
            models.UniqueConstraint(
                fields=["workspace", "daemon_id", "profile_id"],
                condition=Q(profile_id__isnull=False),
                name="runtime_ws_daemon_profile_uniq",
            ),
        ]
        indexes: ClassVar = [
            models.Index(fields=["workspace", "created_at"], name="runtime_ws"),
            models.Index(fields=["status", "last_seen_at"], name="runtime_status_seen"),
        ]

    def __str__(self) -> str:
        return self.custom_name or self.name


class DaemonToken(models.Model):
    """``mdt_`` + 40 hex: a daemon's credential, scoped to one workspace and one daemon id.
    Stored as the SHA-256 of the whole token; the first 12 characters are kept for display."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    daemon_id = models.CharField(max_length=255)
    name = models.CharField(max_length=255, blank=True, default="")
    token_hash = models.CharField(max_length=64, unique=True)
    token_prefix = models.CharField(max_length=12)
    created_by = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    expires_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=now)

    class Meta:
        db_table = "daemon_token"
        indexes: ClassVar = [
            models.Index(fields=["workspace", "daemon_id"], name="daemon_token_ws")
        ]

    def __str__(self) -> str:
        return f"{self.daemon_id} ({self.token_prefix}…)"


class TaskToken(models.Model):
    """``mat_`` + 40 hex: the agent's credential inside one task attempt. Bound to the task,
    its lease epoch, the agent and the workspace; deleted in the transaction that ends the
    attempt (and on reclaim), so a zombie process cannot act after its lease."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    token_hash = models.CharField(max_length=64, unique=True)
    task = models.ForeignKey("agents.AgentTask", on_delete=models.CASCADE, related_name="tokens")
    lease_epoch = models.IntegerField()
    agent = models.ForeignKey("agents.Agent", on_delete=models.CASCADE, related_name="+")
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")  # runtime owner
    expires_at = models.DateTimeField()
    created_at = models.DateTimeField(default=now)

    class Meta:
        db_table = "task_token"

    def __str__(self) -> str:
        return f"token of task {self.task_id}"


class TaskReport(models.Model):
    """Idempotency for terminal reports (complete / fail / cancel-ack): the first accepted
    report per (task, kind, Idempotency-Key) and its response, replayed on retries."""

    id = models.BigAutoField(primary_key=True)
    task = models.ForeignKey("agents.AgentTask", on_delete=models.CASCADE, related_name="reports")
    kind = models.CharField(max_length=16)
    idempotency_key = models.CharField(max_length=255)
    request_hash = models.CharField(max_length=64)
    status_code = models.IntegerField()
    response = models.JSONField()
    created_at = models.DateTimeField(default=now)

    class Meta:
        db_table = "task_report"
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["task", "kind", "idempotency_key"], name="task_report_key_uniq"
            )
        ]
