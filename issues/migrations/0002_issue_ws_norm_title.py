"""The active-duplicate guard's index: (workspace, normalized title), built concurrently (no
write lock on the issue table), so the migration is not atomic."""

from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models
from django.db.models.functions import Lower, Trim


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("issues", "0001_initial"),
        ("workspaces", "0002_workspace_event_seq"),
    ]

    operations = [
        AddIndexConcurrently(
            model_name="issue",
            index=models.Index(
                models.F("workspace"),
                Lower(
                    Trim(
                        models.Func(
                            models.F("title"),
                            models.Value("[[:space:]]+"),
                            models.Value(" "),
                            models.Value("g"),
                            function="regexp_replace",
                            output_field=models.TextField(),
                        )
                    )
                ),
                name="issue_ws_norm_title",
            ),
        ),
    ]
