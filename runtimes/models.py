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
