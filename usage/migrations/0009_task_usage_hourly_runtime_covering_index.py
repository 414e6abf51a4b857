"""The runtime usage read (per day, provider and model over one runtime's buckets) served by an
index-only scan: the runtime index carries the columns the read sums. Concurrent, alone."""

from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("usage", "0008_rollup_window_per_row_lookups"),
    ]

    operations = [
        AddIndexConcurrently(
            model_name="taskusagehourly",
            index=models.Index(
                fields=["runtime_id", "bucket_hour"],
                include=[
                    "provider", "model", "input_tokens", "output_tokens", "cache_read_tokens",
                    "cache_write_tokens", "cost_usd_ticks", "uncosted_input_tokens",
                    "uncosted_output_tokens", "uncosted_cache_read_tokens",
                    "uncosted_cache_write_tokens",
                ],
                name="tuh_runtime_read",
            ),
        ),
    ]
