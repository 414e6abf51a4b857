"""Token accounting (server contract §6.3).

* :class:`TaskUsage` (``task_usage``) is the ground truth: one row per (task, provider, model),
  upserted by the daemon's usage report; counters overwrite and ``updated_at`` moves on every
  write.
* :class:`TaskUsageHourly` (``task_usage_hourly``) is a derived rollup keyed by (UTC hour,
  workspace, runtime, agent, project, provider, model). Every bucket is recomputed from
  ``task_usage`` and replaced, never incremented, so recomputing twice changes nothing.
* :class:`TaskUsageHourlyDirty` (``task_usage_hourly_dirty``) is the queue of buckets to
  recompute, filled by triggers (``usage/migrations/0007_hourly_rollup_pipeline.py``).
* :class:`TaskUsageRollupState` (``task_usage_hourly_rollup_state``) is the single-row watermark.

The rollup tables carry plain UUID columns rather than foreign keys: they are caches of
``task_usage`` that the rollup job owns, and a bucket whose runtime, agent or issue disappears is
removed by recomputing it (the triggers enqueue it), not by a cascade.
"""

from __future__ import annotations

import uuid
from typing import ClassVar

from django.db import models
from django.db.models import Q
from django.db.models.functions import Now
from django.utils.timezone import now

from agents.models import AgentTask

DIRTY_SEQ = "task_usage_hourly_dirty_seq"
HOURLY_KEY = (
    "bucket_hour", "workspace_id", "runtime_id", "agent_id", "project_id", "provider", "model",
)  # fmt: skip


class TaskUsage(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    task = models.ForeignKey(
        AgentTask, on_delete=models.CASCADE, related_name="usage_rows", db_index=False
    )
    provider = models.CharField(max_length=64, default="")
    model = models.CharField(max_length=255)
    input_tokens = models.BigIntegerField(default=0)
    output_tokens = models.BigIntegerField(default=0)
    cache_read_tokens = models.BigIntegerField(default=0)
    cache_write_tokens = models.BigIntegerField(default=0)
    # Provider-reported cost in 1e-10 USD; NULL unless the provider priced the usage (> 0).
    cost_usd_ticks = models.BigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(default=now)
    # NULL on rows written before the column existed (the rollup falls back to created_at).
    updated_at = models.DateTimeField(null=True, blank=True, db_default=Now())

    class Meta:
        db_table = "task_usage"
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["task", "provider", "model"], name="task_usage_task_provider_model_uniq"
            )
        ]
        indexes: ClassVar = [
            models.Index(fields=["updated_at"], name="task_usage_updated_at"),
            models.Index(fields=["created_at"], name="task_usage_created_at"),
            models.Index(
                fields=["created_at"],
                condition=Q(updated_at__isnull=True),
                name="task_usage_created_legacy",
            ),
        ]

    def __str__(self) -> str:
        return f"usage {self.task_id} {self.provider}/{self.model}"


class TaskUsageHourly(models.Model):
    id = models.BigAutoField(primary_key=True)
    bucket_hour = models.DateTimeField()  # UTC, truncated to the hour
    workspace_id = models.UUIDField()  # the agent's workspace
    runtime_id = models.UUIDField()
    agent_id = models.UUIDField()
    project_id = models.UUIDField(null=True, blank=True)  # via the task's issue
    provider = models.CharField(max_length=64)
    model = models.CharField(max_length=255)
    input_tokens = models.BigIntegerField(default=0)
    output_tokens = models.BigIntegerField(default=0)
    cache_read_tokens = models.BigIntegerField(default=0)
    cache_write_tokens = models.BigIntegerField(default=0)
    task_count = models.BigIntegerField(default=0)  # distinct tasks
    event_count = models.BigIntegerField(default=0)  # task_usage rows
    cost_usd_ticks = models.BigIntegerField(default=0)
    # NULL on legacy buckets: readers COALESCE them to the plain token columns.
    uncosted_input_tokens = models.BigIntegerField(null=True, blank=True)
    uncosted_output_tokens = models.BigIntegerField(null=True, blank=True)
    uncosted_cache_read_tokens = models.BigIntegerField(null=True, blank=True)
    uncosted_cache_write_tokens = models.BigIntegerField(null=True, blank=True)
    updated_at = models.DateTimeField(db_default=Now())

    class Meta:
        db_table = "task_usage_hourly"
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=list(HOURLY_KEY), nulls_distinct=False, name="uq_task_usage_hourly_key"
            )
        ]
        indexes: ClassVar = [
            models.Index("workspace_id", models.F("bucket_hour").desc(), name="tuh_ws_time"),
            # The runtime usage read: an index-only scan over one runtime's buckets.
            models.Index(
                fields=["runtime_id", "bucket_hour"],
                include=[
                    "provider", "model", "input_tokens", "output_tokens", "cache_read_tokens",
                    "cache_write_tokens", "cost_usd_ticks", "uncosted_input_tokens",
                    "uncosted_output_tokens", "uncosted_cache_read_tokens",
                    "uncosted_cache_write_tokens",
                ],
                name="tuh_runtime_read",
            ),
            models.Index(
                "workspace_id", "agent_id", models.F("bucket_hour").desc(),
                name="tuh_ws_agent_time",
            ),
            models.Index(
                "workspace_id", "project_id", models.F("bucket_hour").desc(),
                condition=Q(project_id__isnull=False), name="tuh_ws_project_time",
            ),
        ]  # fmt: skip

    def __str__(self) -> str:
        return f"{self.bucket_hour:%Y-%m-%d %H}h {self.provider}/{self.model}"


class TaskUsageHourlyDirty(models.Model):
    """A bucket to recompute. ``seq`` is re-drawn on every enqueue: the rollup drains exactly the
    (id, seq) pairs it read, so an invalidation that lands while a tick runs always survives."""

    id = models.BigAutoField(primary_key=True)
    bucket_hour = models.DateTimeField()
    workspace_id = models.UUIDField()
    runtime_id = models.UUIDField()
    agent_id = models.UUIDField()
    project_id = models.UUIDField(null=True, blank=True)
    provider = models.CharField(max_length=64)
    model = models.CharField(max_length=255)
    enqueued_at = models.DateTimeField(db_default=Now())
    seq = models.BigIntegerField(
        db_default=models.Func(models.Value(DIRTY_SEQ), function="nextval")
    )

    class Meta:
        db_table = "task_usage_hourly_dirty"
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=list(HOURLY_KEY),
                nulls_distinct=False,
                name="uq_task_usage_hourly_dirty_key",
            )
        ]
        indexes: ClassVar = [
            models.Index(fields=["enqueued_at"], name="tuh_dirty_enqueued"),
            models.Index(fields=["seq"], name="tuh_dirty_seq"),
        ]

    def __str__(self) -> str:
        return f"dirty {self.bucket_hour:%Y-%m-%d %H}h {self.provider}/{self.model}"


class TaskUsageRollupState(models.Model):
    id = models.SmallIntegerField(primary_key=True, default=1)
    watermark_at = models.DateTimeField()
    last_run_started_at = models.DateTimeField(null=True, blank=True)
    last_run_finished_at = models.DateTimeField(null=True, blank=True)
    last_run_rows = models.BigIntegerField(default=0)
    last_error = models.TextField(null=True, blank=True)

    class Meta:
        db_table = "task_usage_hourly_rollup_state"
        constraints: ClassVar = [
            models.CheckConstraint(condition=Q(id=1), name="tuh_state_one_row")
        ]

    def __str__(self) -> str:
        return f"rollup watermark {self.watermark_at}"
