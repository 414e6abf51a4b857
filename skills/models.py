"""Skills: reusable SKILL.md content plus supporting files (spec §8.1)."""

from __future__ import annotations

import uuid
from typing import ClassVar

from django.db import models
from django.utils.timezone import now

from workspaces.models import User, Workspace


class Skill(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    name = models.CharField(max_length=255)
    description = models.TextField(blank=True, default="")
    content = models.TextField(blank=True, default="")  # the SKILL.md body
    config = models.JSONField(default=dict, blank=True)
    created_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "skill"
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["workspace", "name"], name="skill_ws_name_uniq")
        ]

    def __str__(self) -> str:
        return self.name


class SkillFile(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    skill = models.ForeignKey(Skill, on_delete=models.CASCADE, related_name="files")
    path = models.CharField(max_length=512)  # relative, no "..", never SKILL.md
    content = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(default=now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "skill_file"
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["skill", "path"], name="skill_file_path_uniq")
        ]

    def __str__(self) -> str:
        return self.path


class LocalSkillRequest(models.Model):
    """A browser's request to list or import a runtime's local skills (spec §8.3).

    The daemon sees pending requests in its heartbeat and posts the result back.
    """

    class Kind(models.TextChoices):
        LIST = "list"
        IMPORT = "import"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    runtime = models.ForeignKey(
        "runtimes.AgentRuntime", on_delete=models.CASCADE, related_name="local_skill_requests"
    )
    kind = models.CharField(max_length=8, choices=Kind.choices)
    status = models.CharField(max_length=16, default="pending")
    params = models.JSONField(default=dict, blank=True)
    result = models.JSONField(null=True, blank=True)
    error = models.TextField(null=True, blank=True)
    requested_by = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(default=now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "local_skill_request"
        indexes: ClassVar = [
            models.Index(fields=["runtime", "status", "created_at"], name="local_skill_pending")
        ]
