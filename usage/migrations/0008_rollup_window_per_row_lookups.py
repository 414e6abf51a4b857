"""The window primitive, reshaped so that its cost follows the rows it touches, not the table
(measured by ``bench/usage.py``; 0007's plan hashed all of ``agent_task_queue`` and compared
keys in nested loops over ``IS NOT DISTINCT FROM``):

* the unit of recomputation is the dirty *hour*: every bucket of an hour with a queued key or a
  row written in the window is recomputed from that hour's rows and replaced (unchanged buckets
  are left untouched, emptied ones deleted) — a superset of the dirty keys, so still exact;
* the rows of an hour come from one index range (a ``LATERAL`` fenced with ``OFFSET 0``) and
  each finds its task by primary key, whatever the planner's row estimates; rows are grouped
  by task attributes before agent (workspace) and issue (project) are looked up per group.

Same contract as 0007 otherwise: one statement, one snapshot, draining exactly the (id, seq)
queue rows it read."""

from django.db import migrations

WINDOW = """
CREATE TYPE task_usage_task_ref AS (runtime_id uuid, agent_id uuid, issue_id uuid);

CREATE OR REPLACE FUNCTION rollup_task_usage_hourly_window(
    p_from timestamptz, p_to timestamptz, p_queue_limit integer DEFAULT 100000
) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    v_rows bigint;
BEGIN
    WITH
    queued AS (
        SELECT id, seq, bucket_hour
          FROM task_usage_hourly_dirty
         ORDER BY seq
         LIMIT p_queue_limit
    ),
    -- An hour is dirty when one of its buckets is queued or one of its rows was written in the
    -- window; the whole hour is recomputed (buckets that did not change are left untouched).
    dirty_hours AS (
        SELECT task_usage_hour_bucket(tu.created_at) AS bucket_hour
          FROM task_usage tu
         WHERE p_from < p_to
           AND ((tu.updated_at >= p_from AND tu.updated_at < p_to)
                OR (tu.updated_at IS NULL AND tu.created_at >= p_from AND tu.created_at < p_to))
        UNION
        SELECT bucket_hour FROM queued
    ),
    -- The rows of the dirty hours, each with (runtime, agent, issue) of its task: an index
    -- range per hour and a primary-key lookup per row, whatever the planner guesses.
    hour_rows AS MATERIALIZED (
        SELECT tu.task_id, tu.created_at, tu.provider, tu.model, tu.input_tokens,
               tu.output_tokens, tu.cache_read_tokens, tu.cache_write_tokens, tu.cost_usd_ticks,
               (SELECT ROW(atq.runtime_id, atq.agent_id, atq.issue_id)::task_usage_task_ref
                  FROM agent_task_queue atq WHERE atq.id = tu.task_id) AS t
          FROM dirty_hours h
         CROSS JOIN LATERAL (
               SELECT * FROM task_usage tu
                WHERE tu.created_at >= h.bucket_hour
                  AND tu.created_at < h.bucket_hour + interval '1 hour'
               OFFSET 0) tu
    ),
    -- Grouped by task attributes first (a task has one agent and one issue, so distinct task
    -- counts add up across issues of one project), then workspace and project are looked up
    -- once per group, not per row.
    by_task AS MATERIALIZED (
        SELECT task_usage_hour_bucket(created_at) AS bucket_hour, (t).runtime_id AS runtime_id,
               (t).agent_id AS agent_id, (t).issue_id AS issue_id, provider, model,
               SUM(input_tokens)::bigint AS input_tokens,
               SUM(output_tokens)::bigint AS output_tokens,
               SUM(cache_read_tokens)::bigint AS cache_read_tokens,
               SUM(cache_write_tokens)::bigint AS cache_write_tokens,
               COUNT(DISTINCT task_id)::bigint AS task_count,
               COUNT(*)::bigint AS event_count,
               COALESCE(SUM(cost_usd_ticks), 0)::bigint AS cost_usd_ticks,
               COALESCE(SUM(input_tokens) FILTER (WHERE cost_usd_ticks IS NULL), 0)::bigint
                   AS uncosted_input_tokens,
               COALESCE(SUM(output_tokens) FILTER (WHERE cost_usd_ticks IS NULL), 0)::bigint
                   AS uncosted_output_tokens,
               COALESCE(SUM(cache_read_tokens) FILTER (WHERE cost_usd_ticks IS NULL), 0)::bigint
                   AS uncosted_cache_read_tokens,
               COALESCE(SUM(cache_write_tokens) FILTER (WHERE cost_usd_ticks IS NULL), 0)::bigint
                   AS uncosted_cache_write_tokens
          FROM hour_rows
         WHERE (t).runtime_id IS NOT NULL
         GROUP BY 1, 2, 3, 4, 5, 6
    ),
    attributed AS MATERIALIZED (
        SELECT g.*,
               (SELECT a.workspace_id FROM agent a WHERE a.id = g.agent_id) AS workspace_id,
               (SELECT i.project_id FROM issue i WHERE i.id = g.issue_id) AS project_id
          FROM by_task g
    ),
    recomputed AS (
        SELECT bucket_hour, workspace_id, runtime_id, agent_id, project_id, provider, model,
               SUM(input_tokens)::bigint AS input_tokens,
               SUM(output_tokens)::bigint AS output_tokens,
               SUM(cache_read_tokens)::bigint AS cache_read_tokens,
               SUM(cache_write_tokens)::bigint AS cache_write_tokens,
               SUM(task_count)::bigint AS task_count,
               SUM(event_count)::bigint AS event_count,
               SUM(cost_usd_ticks)::bigint AS cost_usd_ticks,
               SUM(uncosted_input_tokens)::bigint AS uncosted_input_tokens,
               SUM(uncosted_output_tokens)::bigint AS uncosted_output_tokens,
               SUM(uncosted_cache_read_tokens)::bigint AS uncosted_cache_read_tokens,
               SUM(uncosted_cache_write_tokens)::bigint AS uncosted_cache_write_tokens
          FROM attributed
         GROUP BY 1, 2, 3, 4, 5, 6, 7
    ),
    upserted AS (
        INSERT INTO task_usage_hourly AS h (
            bucket_hour, workspace_id, runtime_id, agent_id, project_id, provider, model,
            input_tokens, output_tokens, cache_read_tokens, cache_write_tokens,
            task_count, event_count, cost_usd_ticks,
            uncosted_input_tokens, uncosted_output_tokens,
            uncosted_cache_read_tokens, uncosted_cache_write_tokens, updated_at)
        SELECT bucket_hour, workspace_id, runtime_id, agent_id, project_id, provider, model,
               input_tokens, output_tokens, cache_read_tokens, cache_write_tokens,
               task_count, event_count, cost_usd_ticks,
               uncosted_input_tokens, uncosted_output_tokens,
               uncosted_cache_read_tokens, uncosted_cache_write_tokens, clock_timestamp()
          FROM recomputed
        ON CONFLICT ON CONSTRAINT uq_task_usage_hourly_key DO UPDATE
            SET input_tokens = EXCLUDED.input_tokens,
                output_tokens = EXCLUDED.output_tokens,
                cache_read_tokens = EXCLUDED.cache_read_tokens,
                cache_write_tokens = EXCLUDED.cache_write_tokens,
                task_count = EXCLUDED.task_count,
                event_count = EXCLUDED.event_count,
                cost_usd_ticks = EXCLUDED.cost_usd_ticks,
                uncosted_input_tokens = EXCLUDED.uncosted_input_tokens,
                uncosted_output_tokens = EXCLUDED.uncosted_output_tokens,
                uncosted_cache_read_tokens = EXCLUDED.uncosted_cache_read_tokens,
                uncosted_cache_write_tokens = EXCLUDED.uncosted_cache_write_tokens,
                updated_at = EXCLUDED.updated_at
          WHERE (h.input_tokens, h.output_tokens, h.cache_read_tokens, h.cache_write_tokens,
                 h.task_count, h.event_count, h.cost_usd_ticks,
                 h.uncosted_input_tokens, h.uncosted_output_tokens,
                 h.uncosted_cache_read_tokens, h.uncosted_cache_write_tokens)
                IS DISTINCT FROM
                (EXCLUDED.input_tokens, EXCLUDED.output_tokens, EXCLUDED.cache_read_tokens,
                 EXCLUDED.cache_write_tokens, EXCLUDED.task_count, EXCLUDED.event_count,
                 EXCLUDED.cost_usd_ticks, EXCLUDED.uncosted_input_tokens,
                 EXCLUDED.uncosted_output_tokens, EXCLUDED.uncosted_cache_read_tokens,
                 EXCLUDED.uncosted_cache_write_tokens)
        RETURNING 1
    ),
    deleted_empty AS (
        DELETE FROM task_usage_hourly h
         USING (
               SELECT x.id
                 FROM (SELECT DISTINCT bucket_hour FROM dirty_hours) d
                CROSS JOIN LATERAL (
                      SELECT b.* FROM task_usage_hourly b
                       WHERE b.bucket_hour = d.bucket_hour
                      OFFSET 0) x
                WHERE NOT EXISTS (
                      SELECT 1 FROM recomputed r
                       WHERE r.bucket_hour = x.bucket_hour AND r.workspace_id = x.workspace_id
                         AND r.runtime_id = x.runtime_id AND r.agent_id = x.agent_id
                         AND COALESCE(r.project_id, '00000000-0000-0000-0000-000000000000'::uuid)
                             = COALESCE(x.project_id, '00000000-0000-0000-0000-000000000000'::uuid)
                         AND r.provider = x.provider AND r.model = x.model)
               ) e
         WHERE h.id = e.id
        RETURNING 1
    ),
    drained AS (
        DELETE FROM task_usage_hourly_dirty d
         USING queued q
         WHERE d.id = q.id AND d.seq = q.seq
        RETURNING 1
    )
    -- (drained runs whether or not it is read: data-modifying CTEs always complete)
    SELECT (SELECT COUNT(*) FROM upserted) + (SELECT COUNT(*) FROM deleted_empty) INTO v_rows;
    RETURN v_rows;
END;
$$;
"""


def _previous() -> str:
    """0007's definition, restored on reverse."""
    import importlib  # noqa: PLC0415

    module = importlib.import_module("usage.migrations.0007_hourly_rollup_pipeline")
    src = module.FUNCTIONS
    start = src.index("CREATE OR REPLACE FUNCTION rollup_task_usage_hourly_window")
    return src[start:]


class Migration(migrations.Migration):
    dependencies = [
        ("usage", "0007_hourly_rollup_pipeline"),
    ]

    operations = [
        migrations.RunSQL(WINDOW, _previous() + "\nDROP TYPE IF EXISTS task_usage_task_ref;")
    ]
