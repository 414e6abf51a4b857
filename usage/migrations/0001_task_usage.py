"""``task_usage``: one row per (task, provider, model), as the daemon reports it."""

import uuid

import django.db.models.deletion
import django.utils.timezone
from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("agents", "0001_initial"),
    ]

    operations = [
        migrations.CreateModel(
            name="TaskUsage",
            fields=[
                ("id", models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False)),
                ("provider", models.CharField(default="", max_length=64)),
                ("model", models.CharField(max_length=255)),
                ("input_tokens", models.BigIntegerField(default=0)),
                ("output_tokens", models.BigIntegerField(default=0)),
                ("cache_read_tokens", models.BigIntegerField(default=0)),
                ("cache_write_tokens", models.BigIntegerField(default=0)),
                ("cost_usd_ticks", models.BigIntegerField(blank=True, null=True)),
                ("created_at", models.DateTimeField(default=django.utils.timezone.now)),
                (
                    "task",
                    models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="usage_rows",
                        to="agents.agenttask",
                    ),
                ),
            ],
            options={"db_table": "task_usage"},
        ),
        migrations.AddConstraint(
            model_name="taskusage",
            constraint=models.UniqueConstraint(
                fields=("task", "provider", "model"), name="task_usage_task_provider_model_uniq"
            ),
        ),
    ]
