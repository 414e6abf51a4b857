"""The hourly rollup: buckets, the dirty queue (and the sequence behind its ``seq``), and the
single-row watermark state, which starts at 1970-01-01."""

import django.db.models.functions.datetime
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('usage', '0005_task_usage_created_at_legacy_index'),
    ]

    operations = [
        migrations.RunSQL(
            "CREATE SEQUENCE task_usage_hourly_dirty_seq",
            "DROP SEQUENCE task_usage_hourly_dirty_seq",
        ),
        migrations.CreateModel(
            name='TaskUsageHourly',
            fields=[
                ('id', models.BigAutoField(primary_key=True, serialize=False)),
                ('bucket_hour', models.DateTimeField()),
                ('workspace_id', models.UUIDField()),
                ('runtime_id', models.UUIDField()),
                ('agent_id', models.UUIDField()),
                ('project_id', models.UUIDField(blank=True, null=True)),
                ('provider', models.CharField(max_length=64)),
                ('model', models.CharField(max_length=255)),
                ('input_tokens', models.BigIntegerField(default=0)),
                ('output_tokens', models.BigIntegerField(default=0)),
                ('cache_read_tokens', models.BigIntegerField(default=0)),
                ('cache_write_tokens', models.BigIntegerField(default=0)),
                ('task_count', models.BigIntegerField(default=0)),
                ('event_count', models.BigIntegerField(default=0)),
                ('cost_usd_ticks', models.BigIntegerField(default=0)),
                ('uncosted_input_tokens', models.BigIntegerField(blank=True, null=True)),
                ('uncosted_output_tokens', models.BigIntegerField(blank=True, null=True)),
                ('uncosted_cache_read_tokens', models.BigIntegerField(blank=True, null=True)),
                ('uncosted_cache_write_tokens', models.BigIntegerField(blank=True, null=True)),
                ('updated_at', models.DateTimeField(db_default=django.db.models.functions.datetime.Now())),
            ],
            options={
                'db_table': 'task_usage_hourly',
                'indexes': [models.Index(models.F('workspace_id'), models.OrderBy(models.F('bucket_hour'), descending=True), name='tuh_ws_time'), models.Index(models.F('runtime_id'), models.OrderBy(models.F('bucket_hour'), descending=True), name='tuh_runtime_time'), models.Index(models.F('workspace_id'), models.F('agent_id'), models.OrderBy(models.F('bucket_hour'), descending=True), name='tuh_ws_agent_time'), models.Index(models.F('workspace_id'), models.F('project_id'), models.OrderBy(models.F('bucket_hour'), descending=True), condition=models.Q(('project_id__isnull', False)), name='tuh_ws_project_time')],
                'constraints': [models.UniqueConstraint(fields=('bucket_hour', 'workspace_id', 'runtime_id', 'agent_id', 'project_id', 'provider', 'model'), name='uq_task_usage_hourly_key', nulls_distinct=False)],
            },
        ),
        migrations.CreateModel(
            name='TaskUsageHourlyDirty',
            fields=[
                ('id', models.BigAutoField(primary_key=True, serialize=False)),
                ('bucket_hour', models.DateTimeField()),
                ('workspace_id', models.UUIDField()),
                ('runtime_id', models.UUIDField()),
                ('agent_id', models.UUIDField()),
                ('project_id', models.UUIDField(blank=True, null=True)),
                ('provider', models.CharField(max_length=64)),
                ('model', models.CharField(max_length=255)),
                ('enqueued_at', models.DateTimeField(db_default=django.db.models.functions.datetime.Now())),
                ('seq', models.BigIntegerField(db_default=models.Func(models.Value('task_usage_hourly_dirty_seq'), function='nextval'))),
            ],
            options={
                'db_table': 'task_usage_hourly_dirty',
                'indexes': [models.Index(fields=['enqueued_at'], name='tuh_dirty_enqueued'), models.Index(fields=['seq'], name='tuh_dirty_seq')],
                'constraints': [models.UniqueConstraint(fields=('bucket_hour', 'workspace_id', 'runtime_id', 'agent_id', 'project_id', 'provider', 'model'), name='uq_task_usage_hourly_dirty_key', nulls_distinct=False)],
            },
        ),
        migrations.CreateModel(
            name='TaskUsageRollupState',
            fields=[
                ('id', models.SmallIntegerField(default=1, primary_key=True, serialize=False)),
                ('watermark_at', models.DateTimeField()),
                ('last_run_started_at', models.DateTimeField(blank=True, null=True)),
                ('last_run_finished_at', models.DateTimeField(blank=True, null=True)),
                ('last_run_rows', models.BigIntegerField(default=0)),
                ('last_error', models.TextField(blank=True, null=True)),
            ],
            options={
                'db_table': 'task_usage_hourly_rollup_state',
                'constraints': [models.CheckConstraint(condition=models.Q(('id', 1)), name='tuh_state_one_row')],
            },
        ),
        migrations.RunSQL(
            "INSERT INTO task_usage_hourly_rollup_state (id, watermark_at, last_run_rows)"
            " VALUES (1, '1970-01-01 00:00:00+00', 0) ON CONFLICT DO NOTHING",
            migrations.RunSQL.noop,
        ),
    ]
