"""Partial indexes for the claim's redelivery and deferred-promotion reads, built
concurrently (no write lock on the task queue), so the migration is not atomic."""

from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("agents", "0001_initial"),
    ]

    operations = [
        AddIndexConcurrently(
            model_name="agenttask",
            index=models.Index(
                models.F("runtime"),
                models.F("dispatched_at"),
                condition=models.Q(status="dispatched", started_at__isnull=True),
                name="task_dispatched_unstarted",
            ),
        ),
        AddIndexConcurrently(
            model_name="agenttask",
            index=models.Index(
                models.F("runtime"),
                models.F("fire_at"),
                condition=models.Q(status="deferred"),
                name="task_deferred_due",
            ),
        ),
    ]
