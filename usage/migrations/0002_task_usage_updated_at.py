"""``task_usage.updated_at``, online: a nullable column with no default is a catalogue-only
``ALTER`` (no rewrite, no backfill of the hot table); the default is set by a second
catalogue-only ``ALTER`` so that only new rows get it. Existing rows keep NULL and the rollup
discovers them by ``created_at`` (see the partial index of 0005)."""

import django.db.models.functions.datetime
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("usage", "0001_task_usage"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.RunSQL(
                    "ALTER TABLE task_usage ADD COLUMN updated_at timestamptz NULL",
                    "ALTER TABLE task_usage DROP COLUMN updated_at",
                ),
                migrations.RunSQL(
                    "ALTER TABLE task_usage ALTER COLUMN updated_at SET DEFAULT now()",
                    "ALTER TABLE task_usage ALTER COLUMN updated_at DROP DEFAULT",
                ),
            ],
            state_operations=[
                migrations.AddField(
                    model_name="taskusage",
                    name="updated_at",
                    field=models.DateTimeField(
                        blank=True,
                        db_default=django.db.models.functions.datetime.Now(),
                        null=True,
                    ),
                ),
            ],
        ),
    ]
