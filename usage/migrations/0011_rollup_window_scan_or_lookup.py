"""The window primitive reads whole dirty hours but writes only dirty buckets (those queued, or
with a row written in the window), and picks how to read the rows of the dirty hours: with few hours (the steady
state: the last hour or two), an index range per hour and a primary-key lookup per row (0008);
with many (old tasks reassigned, a runtime deleted, a large backfill window), one pass with a
hash join to the tasks, which ``bench/usage.py`` measured several times faster there. Agents
and issues are joined to the per-task groups (the planner picks lookups or a hash by size). The
statement is otherwise 0008's (one statement, one snapshot, the exact (id, seq) drain); the
choice is made on a count taken just before it, which only affects speed.

``p_lookup_hours`` (default 48) is the largest number of dirty hours read by lookups."""

from django.db import migrations

TEMPLATE = """
    WITH
    queued AS (
        SELECT id, seq, bucket_hour, workspace_id, runtime_id, agent_id, project_id, provider,
               model
          FROM task_usage_hourly_dirty
         ORDER BY seq
         LIMIT $3
    ),
    -- An hour is dirty when one of its buckets is queued or one of its rows was written in the
    -- window; the whole hour is recomputed (buckets that did not change are left untouched).
    dirty_hours AS (
        SELECT task_usage_hour_bucket(tu.created_at) AS bucket_hour
          FROM task_usage tu
         WHERE $1 < $2
           AND ((tu.updated_at >= $1 AND tu.updated_at < $2)
                OR (tu.updated_at IS NULL AND tu.created_at >= $1 AND tu.created_at < $2))
        UNION
        SELECT bucket_hour FROM queued
    ),
%s    -- Grouped by task attributes first (a task has one agent and one issue, so distinct task
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
                   AS uncosted_cache_write_tokens,
               bool_or($1 < $2 AND ((updated_at >= $1 AND updated_at < $2)
                                    OR (updated_at IS NULL AND created_at >= $1
                                        AND created_at < $2))) AS touched
          FROM hour_rows
         WHERE (t).runtime_id IS NOT NULL
         GROUP BY 1, 2, 3, 4, 5, 6
    ),
    attributed AS MATERIALIZED (
        SELECT g.*, a.workspace_id, i.project_id
          FROM by_task g
          JOIN agent a ON a.id = g.agent_id
          LEFT JOIN issue i ON i.id = g.issue_id
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
               SUM(uncosted_cache_write_tokens)::bigint AS uncosted_cache_write_tokens,
               bool_or(touched) AS touched,
               COALESCE(project_id, '00000000-0000-0000-0000-000000000000'::uuid) AS pkey
          FROM attributed
         GROUP BY 1, 2, 3, 4, 5, 6, 7
    ),
    queued_keys AS MATERIALIZED (
        SELECT DISTINCT q.bucket_hour, q.workspace_id, q.runtime_id, q.agent_id,
               COALESCE(q.project_id, '00000000-0000-0000-0000-000000000000'::uuid) AS pkey, q.provider, q.model
          FROM queued q
    ),
    -- Only the dirty buckets are written: those with a row written in the window (touched) or
    -- queued; the other buckets of their hours were read but are left alone.
    to_write AS (
        SELECT r.* FROM recomputed r WHERE r.touched
        UNION ALL
        SELECT r.*
          FROM recomputed r
          JOIN queued_keys k USING (bucket_hour, workspace_id, runtime_id, agent_id, pkey,
                                    provider, model)
         WHERE NOT r.touched
    ),
    -- Queued buckets that recomputed to nothing.
    emptied AS (
        SELECT bucket_hour, workspace_id, runtime_id, agent_id, pkey, provider, model
          FROM queued_keys
        EXCEPT
        SELECT bucket_hour, workspace_id, runtime_id, agent_id, pkey, provider, model
          FROM recomputed
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
          FROM to_write
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
         USING emptied e
         WHERE h.bucket_hour = e.bucket_hour AND h.workspace_id = e.workspace_id
           AND h.runtime_id = e.runtime_id AND h.agent_id = e.agent_id
           AND COALESCE(h.project_id, '00000000-0000-0000-0000-000000000000'::uuid) = e.pkey
           AND h.provider = e.provider AND h.model = e.model
        RETURNING 1
    ),
    drained AS (
        DELETE FROM task_usage_hourly_dirty d
         USING queued q
         WHERE d.id = q.id AND d.seq = q.seq
        RETURNING 1
    )
    SELECT (SELECT COUNT(*) FROM upserted) + (SELECT COUNT(*) FROM deleted_empty)
"""

LOOKUP_ROWS = """
    -- The rows of the dirty hours, each with (runtime, agent, issue) of its task: an index
    -- range per hour and a primary-key lookup per row, whatever the planner guesses.
    hour_rows AS MATERIALIZED (
        SELECT tu.task_id, tu.created_at, tu.provider, tu.model, tu.input_tokens,
               tu.output_tokens, tu.cache_read_tokens, tu.cache_write_tokens, tu.cost_usd_ticks,
               tu.updated_at,
               (SELECT ROW(atq.runtime_id, atq.agent_id, atq.issue_id)::task_usage_task_ref
                  FROM agent_task_queue atq WHERE atq.id = tu.task_id) AS t
          FROM dirty_hours h
         CROSS JOIN LATERAL (
               SELECT * FROM task_usage tu
                WHERE tu.created_at >= h.bucket_hour
                  AND tu.created_at < h.bucket_hour + interval '1 hour'
               OFFSET 0) tu
    ),
"""

SCAN_ROWS = """
    -- Many dirty hours: one pass over task_usage with a hash join to the tasks beats a lookup
    -- per row.
    hour_rows AS MATERIALIZED (
        SELECT tu.task_id, tu.created_at, tu.provider, tu.model, tu.input_tokens,
               tu.output_tokens, tu.cache_read_tokens, tu.cache_write_tokens, tu.cost_usd_ticks,
               tu.updated_at,
               ROW(atq.runtime_id, atq.agent_id, atq.issue_id)::task_usage_task_ref AS t
          FROM task_usage tu
          JOIN agent_task_queue atq ON atq.id = tu.task_id
         WHERE task_usage_hour_bucket(tu.created_at) IN (SELECT bucket_hour FROM dirty_hours)
    ),
"""

FUNCTION = (
    """
DROP FUNCTION IF EXISTS rollup_task_usage_hourly_window(timestamptz, timestamptz, integer);

CREATE OR REPLACE FUNCTION rollup_task_usage_hourly_window(
    p_from timestamptz, p_to timestamptz, p_queue_limit integer DEFAULT 100000,
    p_lookup_hours integer DEFAULT 48
) RETURNS bigint LANGUAGE plpgsql AS $fn$
DECLARE
    v_rows bigint;
    v_hours bigint;
BEGIN
    SELECT count(*) INTO v_hours FROM (
        SELECT task_usage_hour_bucket(tu.created_at)
          FROM task_usage tu
         WHERE p_from < p_to
           AND ((tu.updated_at >= p_from AND tu.updated_at < p_to)
                OR (tu.updated_at IS NULL AND tu.created_at >= p_from AND tu.created_at < p_to))
        UNION
        SELECT bucket_hour FROM (
            SELECT bucket_hour FROM task_usage_hourly_dirty ORDER BY seq LIMIT p_queue_limit) q
    ) h;
    EXECUTE format($tpl$"""
    + TEMPLATE
    + """$tpl$, CASE WHEN v_hours > p_lookup_hours THEN $rows$"""
    + SCAN_ROWS
    + """$rows$ ELSE $rows$"""
    + LOOKUP_ROWS
    + """$rows$ END)
       INTO v_rows
      USING p_from, p_to, p_queue_limit;
    RETURN v_rows;
END;
$fn$;
"""
)

REVERSE = """
DROP FUNCTION IF EXISTS rollup_task_usage_hourly_window(timestamptz, timestamptz, integer, integer);
"""


def _previous() -> str:
    import importlib  # noqa: PLC0415

    module = importlib.import_module("usage.migrations.0008_rollup_window_per_row_lookups")
    return REVERSE + module.WINDOW.split("CREATE TYPE task_usage_task_ref", 1)[1].split(";", 1)[1]


class Migration(migrations.Migration):
    dependencies = [
        ("usage", "0010_drop_task_usage_hourly_runtime_time"),
    ]

    operations = [migrations.RunSQL(FUNCTION, _previous())]
