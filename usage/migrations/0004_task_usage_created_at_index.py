"""Index on ``created_at``: the rollup recomputes a bucket from the rows of its hour, and the raw
reads (by agent, by hour, the fallback) cut their window on it. Concurrent, alone."""

from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("usage", "0003_task_usage_updated_at_index"),
    ]

    operations = [
        AddIndexConcurrently(
            model_name="taskusage",
            index=models.Index(fields=["created_at"], name="task_usage_created_at"),
        ),
    ]
