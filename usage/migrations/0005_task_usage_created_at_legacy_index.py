"""Partial index for rows written before ``updated_at`` existed (discovered by ``created_at``).
Concurrent, alone."""

from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("usage", "0004_task_usage_created_at_index"),
    ]

    operations = [
        AddIndexConcurrently(
            model_name="taskusage",
            index=models.Index(
                condition=models.Q(("updated_at__isnull", True)),
                fields=["created_at"],
                name="task_usage_created_legacy",
            ),
        ),
    ]
