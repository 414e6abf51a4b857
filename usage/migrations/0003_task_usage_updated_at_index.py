"""Index for the rollup's discovery by ``updated_at``: built concurrently, alone, outside a
transaction, so writes to ``task_usage`` are never blocked."""

from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("usage", "0002_task_usage_updated_at"),
    ]

    operations = [
        AddIndexConcurrently(
            model_name="taskusage",
            index=models.Index(fields=["updated_at"], name="task_usage_updated_at"),
        ),
    ]
