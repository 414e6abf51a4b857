"""``tuh_runtime_time`` is covered by ``tuh_runtime_read`` (0009). Dropped concurrently, alone."""

from django.contrib.postgres.operations import RemoveIndexConcurrently
from django.db import migrations


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("usage", "0009_task_usage_hourly_runtime_covering_index"),
    ]

    operations = [
        RemoveIndexConcurrently(model_name="taskusagehourly", name="tuh_runtime_time"),
    ]
