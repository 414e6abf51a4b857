"""The hourly rollup pipeline in SQL: the bucket function, the invalidation triggers and the
window primitive. The Python side (``usage/services/rollup.py``) takes the lock, picks the window,
moves the watermark and prunes.

Invariants:

* **One source for the workspace.** Triggers, discovery and recompute all take ``workspace_id``
  from the task's *agent* (``agent.workspace_id``), never from the issue or the task row: nothing
  forces those to agree, and a bucket keyed one way but recomputed another would be dropped.
* **Recompute and replace.** A dirty bucket is recomputed from every ``task_usage`` row of its
  hour and written over the old one (or deleted when nothing is left); a rerun, or the periodic
  job overlapping a backfill, converges on the same rows.
* **No lost invalidation.** Every enqueue stamps a fresh ``seq`` (and ``enqueued_at =
  GREATEST(old, new)``); a tick reads the queue and recomputes in one statement (one snapshot) and
  deletes exactly the (id, seq) pairs it read. An enqueue that commits while the tick runs either
  bumped ``seq`` (the delete skips the row) or inserted a row the tick never read.
* Writes to ``task_usage`` enqueue their own bucket (AFTER INSERT OR UPDATE), so discovery by
  ``updated_at`` is the second path (rows written with ``multica.usage_bulk_load = 'on'``, and
  rows from before the triggers), protected by the 5-minute safety lag.
"""

from django.db import migrations

ENQUEUE = """
    ON CONFLICT ON CONSTRAINT uq_task_usage_hourly_dirty_key DO UPDATE
        SET enqueued_at = GREATEST(d.enqueued_at, EXCLUDED.enqueued_at),
            seq = EXCLUDED.seq
"""

FUNCTIONS = f"""
-- The UTC hour of a timestamp, independent of the session time zone.
CREATE OR REPLACE FUNCTION task_usage_hour_bucket(ts timestamptz)
RETURNS timestamptz LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT date_trunc('hour', ts AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'
$$;

-- Enqueue the buckets of every usage row of one task, as if the task had these attributes.
CREATE OR REPLACE FUNCTION task_usage_hourly_enqueue_task(
    p_task_id uuid, p_runtime_id uuid, p_agent_id uuid, p_issue_id uuid
) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    IF p_runtime_id IS NULL THEN
        RETURN;  -- usage of a task without a runtime is not rolled up
    END IF;
    INSERT INTO task_usage_hourly_dirty AS d
        (bucket_hour, workspace_id, runtime_id, agent_id, project_id, provider, model, enqueued_at)
    SELECT DISTINCT task_usage_hour_bucket(tu.created_at), a.workspace_id, p_runtime_id,
           p_agent_id, i.project_id, tu.provider, tu.model, clock_timestamp()
      FROM task_usage tu
      JOIN agent a ON a.id = p_agent_id
      LEFT JOIN issue i ON i.id = p_issue_id
     WHERE tu.task_id = p_task_id
    {ENQUEUE};
END;
$$;

-- Enqueue the buckets of every usage row under one issue, with this project.
CREATE OR REPLACE FUNCTION task_usage_hourly_enqueue_issue(p_issue_id uuid, p_project_id uuid)
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO task_usage_hourly_dirty AS d
        (bucket_hour, workspace_id, runtime_id, agent_id, project_id, provider, model, enqueued_at)
    SELECT DISTINCT task_usage_hour_bucket(tu.created_at), a.workspace_id, atq.runtime_id,
           atq.agent_id, p_project_id, tu.provider, tu.model, clock_timestamp()
      FROM agent_task_queue atq
      JOIN agent a ON a.id = atq.agent_id
      JOIN task_usage tu ON tu.task_id = atq.id
     WHERE atq.issue_id = p_issue_id
       AND atq.runtime_id IS NOT NULL
    {ENQUEUE};
END;
$$;

-- Enqueue the bucket of one usage row. p_skip_workspace: a workspace being torn down, whose
-- buckets its teardown removes directly (see usage.services.rollup.workspace_teardown).
CREATE OR REPLACE FUNCTION task_usage_hourly_enqueue_row(
    p_task_id uuid, p_created_at timestamptz, p_provider text, p_model text,
    p_skip_workspace text
) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO task_usage_hourly_dirty AS d
        (bucket_hour, workspace_id, runtime_id, agent_id, project_id, provider, model, enqueued_at)
    SELECT task_usage_hour_bucket(p_created_at), a.workspace_id, atq.runtime_id, atq.agent_id,
           i.project_id, p_provider, p_model, clock_timestamp()
      FROM agent_task_queue atq
      JOIN agent a ON a.id = atq.agent_id
      LEFT JOIN issue i ON i.id = atq.issue_id
     WHERE atq.id = p_task_id
       AND atq.runtime_id IS NOT NULL
       AND (p_skip_workspace IS NULL OR a.workspace_id::text <> p_skip_workspace)
    {ENQUEUE};
END;
$$;

-- agent_task_queue: a task moving to another runtime, issue (project) or agent moves its usage
-- between buckets: enqueue the old and the new keys. A deleted task enqueues its old keys (its
-- usage rows, if still there, are about to go).
CREATE OR REPLACE FUNCTION task_usage_hourly_dirty_atq() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        IF OLD.runtime_id IS DISTINCT FROM NEW.runtime_id
           OR OLD.issue_id IS DISTINCT FROM NEW.issue_id
           OR OLD.agent_id IS DISTINCT FROM NEW.agent_id THEN
            PERFORM task_usage_hourly_enqueue_task(OLD.id, OLD.runtime_id, OLD.agent_id, OLD.issue_id);
            PERFORM task_usage_hourly_enqueue_task(NEW.id, NEW.runtime_id, NEW.agent_id, NEW.issue_id);
        END IF;
        RETURN NEW;
    END IF;
    PERFORM task_usage_hourly_enqueue_task(OLD.id, OLD.runtime_id, OLD.agent_id, OLD.issue_id);
    RETURN OLD;
END;
$$;

CREATE TRIGGER trg_atq_usage_hourly_dirty
BEFORE UPDATE OF runtime_id, issue_id, agent_id OR DELETE ON agent_task_queue
FOR EACH ROW EXECUTE FUNCTION task_usage_hourly_dirty_atq();

-- issue: deleted (captured while the issue is still readable, whatever order a cascade takes)
-- or moved to another project.
CREATE OR REPLACE FUNCTION task_usage_hourly_dirty_issue() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        IF OLD.project_id IS DISTINCT FROM NEW.project_id THEN
            PERFORM task_usage_hourly_enqueue_issue(OLD.id, OLD.project_id);
            PERFORM task_usage_hourly_enqueue_issue(NEW.id, NEW.project_id);
        END IF;
        RETURN NEW;
    END IF;
    PERFORM task_usage_hourly_enqueue_issue(OLD.id, OLD.project_id);
    RETURN OLD;
END;
$$;

CREATE TRIGGER trg_issue_usage_hourly_dirty_delete
BEFORE DELETE ON issue
FOR EACH ROW EXECUTE FUNCTION task_usage_hourly_dirty_issue();

CREATE TRIGGER trg_issue_usage_hourly_dirty_project
BEFORE UPDATE OF project_id ON issue
FOR EACH ROW EXECUTE FUNCTION task_usage_hourly_dirty_issue();

-- task_usage: a deleted row leaves nothing for the updated_at discovery to find.
CREATE OR REPLACE FUNCTION task_usage_hourly_dirty_tu_delete() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM task_usage_hourly_enqueue_row(
        OLD.task_id, OLD.created_at, OLD.provider, OLD.model,
        NULLIF(current_setting('multica.workspace_teardown', true), '')
    );
    RETURN OLD;
END;
$$;

CREATE TRIGGER trg_tu_usage_hourly_dirty_delete
BEFORE DELETE ON task_usage
FOR EACH ROW EXECUTE FUNCTION task_usage_hourly_dirty_tu_delete();

-- task_usage: every write enqueues its bucket (and the old one if the key columns moved).
CREATE OR REPLACE FUNCTION task_usage_hourly_dirty_tu_write() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('multica.usage_bulk_load', true) = 'on' THEN
        RETURN NULL;  -- bulk loads are rolled up by the backfill (discovery by updated_at)
    END IF;
    IF TG_OP = 'UPDATE' AND (
           OLD.task_id IS DISTINCT FROM NEW.task_id
           OR OLD.provider IS DISTINCT FROM NEW.provider
           OR OLD.model IS DISTINCT FROM NEW.model
           OR task_usage_hour_bucket(OLD.created_at)
              IS DISTINCT FROM task_usage_hour_bucket(NEW.created_at)) THEN
        PERFORM task_usage_hourly_enqueue_row(
            OLD.task_id, OLD.created_at, OLD.provider, OLD.model, NULL);
    END IF;
    PERFORM task_usage_hourly_enqueue_row(NEW.task_id, NEW.created_at, NEW.provider, NEW.model, NULL);
    RETURN NULL;
END;
$$;

CREATE TRIGGER trg_tu_usage_hourly_dirty_write
AFTER INSERT OR UPDATE ON task_usage
FOR EACH ROW EXECUTE FUNCTION task_usage_hourly_dirty_tu_write();

-- The window primitive: recompute every bucket that is dirty, i.e. has a task_usage row whose
-- updated_at (created_at for legacy NULL rows) falls in [p_from, p_to), or is queued (at most
-- p_queue_limit queue rows, oldest first). One statement, one snapshot. Returns the number of
-- buckets written or deleted (unchanged buckets are left alone, so a rerun returns 0).
-- Callers hold advisory lock 4246 for the transaction (usage.services.rollup).
CREATE OR REPLACE FUNCTION rollup_task_usage_hourly_window(
    p_from timestamptz, p_to timestamptz, p_queue_limit integer DEFAULT 100000
) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    v_rows bigint;
BEGIN
    WITH
    queued AS (
        SELECT id, seq, bucket_hour, workspace_id, runtime_id, agent_id, project_id, provider, model
          FROM task_usage_hourly_dirty
         ORDER BY seq
         LIMIT p_queue_limit
    ),
    from_updates AS (
        SELECT task_usage_hour_bucket(tu.created_at) AS bucket_hour, a.workspace_id,
               atq.runtime_id, atq.agent_id, i.project_id, tu.provider, tu.model
          FROM task_usage tu
          JOIN agent_task_queue atq ON atq.id = tu.task_id
          JOIN agent a ON a.id = atq.agent_id
          LEFT JOIN issue i ON i.id = atq.issue_id
         WHERE p_from < p_to
           AND atq.runtime_id IS NOT NULL
           AND ((tu.updated_at >= p_from AND tu.updated_at < p_to)
                OR (tu.updated_at IS NULL AND tu.created_at >= p_from AND tu.created_at < p_to))
    ),
    dirty_keys AS (
        SELECT bucket_hour, workspace_id, runtime_id, agent_id, project_id, provider, model
          FROM from_updates
        UNION
        SELECT bucket_hour, workspace_id, runtime_id, agent_id, project_id, provider, model
          FROM queued
    ),
    dirty_hours AS (
        SELECT DISTINCT bucket_hour FROM dirty_keys
    ),
    raw AS (
        SELECT task_usage_hour_bucket(tu.created_at) AS bucket_hour, a.workspace_id,
               atq.runtime_id, atq.agent_id, i.project_id, tu.provider, tu.model,
               SUM(tu.input_tokens)::bigint AS input_tokens,
               SUM(tu.output_tokens)::bigint AS output_tokens,
               SUM(tu.cache_read_tokens)::bigint AS cache_read_tokens,
               SUM(tu.cache_write_tokens)::bigint AS cache_write_tokens,
               COUNT(DISTINCT tu.task_id)::bigint AS task_count,
               COUNT(*)::bigint AS event_count,
               COALESCE(SUM(tu.cost_usd_ticks), 0)::bigint AS cost_usd_ticks,
               COALESCE(SUM(tu.input_tokens) FILTER (WHERE tu.cost_usd_ticks IS NULL), 0)::bigint
                   AS uncosted_input_tokens,
               COALESCE(SUM(tu.output_tokens) FILTER (WHERE tu.cost_usd_ticks IS NULL), 0)::bigint
                   AS uncosted_output_tokens,
               COALESCE(SUM(tu.cache_read_tokens) FILTER (WHERE tu.cost_usd_ticks IS NULL), 0)::bigint
                   AS uncosted_cache_read_tokens,
               COALESCE(SUM(tu.cache_write_tokens) FILTER (WHERE tu.cost_usd_ticks IS NULL), 0)::bigint
                   AS uncosted_cache_write_tokens
          FROM dirty_hours h
          JOIN task_usage tu ON tu.created_at >= h.bucket_hour
                            AND tu.created_at < h.bucket_hour + interval '1 hour'
          JOIN agent_task_queue atq ON atq.id = tu.task_id
          JOIN agent a ON a.id = atq.agent_id
          LEFT JOIN issue i ON i.id = atq.issue_id
         WHERE atq.runtime_id IS NOT NULL
         GROUP BY 1, 2, 3, 4, 5, 6, 7
    ),
    recomputed AS (
        SELECT r.*
          FROM raw r
          JOIN dirty_keys dk
            ON dk.bucket_hour = r.bucket_hour AND dk.workspace_id = r.workspace_id
           AND dk.runtime_id = r.runtime_id AND dk.agent_id = r.agent_id
           AND dk.project_id IS NOT DISTINCT FROM r.project_id
           AND dk.provider = r.provider AND dk.model = r.model
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
         USING dirty_keys dk
         WHERE h.bucket_hour = dk.bucket_hour AND h.workspace_id = dk.workspace_id
           AND h.runtime_id = dk.runtime_id AND h.agent_id = dk.agent_id
           AND h.project_id IS NOT DISTINCT FROM dk.project_id
           AND h.provider = dk.provider AND h.model = dk.model
           AND NOT EXISTS (
               SELECT 1 FROM recomputed r
                WHERE r.bucket_hour = dk.bucket_hour AND r.workspace_id = dk.workspace_id
                  AND r.runtime_id = dk.runtime_id AND r.agent_id = dk.agent_id
                  AND r.project_id IS NOT DISTINCT FROM dk.project_id
                  AND r.provider = dk.provider AND r.model = dk.model)
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

REVERSE = """
DROP TRIGGER IF EXISTS trg_tu_usage_hourly_dirty_write ON task_usage;
DROP TRIGGER IF EXISTS trg_tu_usage_hourly_dirty_delete ON task_usage;
DROP TRIGGER IF EXISTS trg_issue_usage_hourly_dirty_project ON issue;
DROP TRIGGER IF EXISTS trg_issue_usage_hourly_dirty_delete ON issue;
DROP TRIGGER IF EXISTS trg_atq_usage_hourly_dirty ON agent_task_queue;
DROP FUNCTION IF EXISTS rollup_task_usage_hourly_window(timestamptz, timestamptz, integer);
DROP FUNCTION IF EXISTS task_usage_hourly_dirty_tu_write();
DROP FUNCTION IF EXISTS task_usage_hourly_dirty_tu_delete();
DROP FUNCTION IF EXISTS task_usage_hourly_dirty_issue();
DROP FUNCTION IF EXISTS task_usage_hourly_dirty_atq();
DROP FUNCTION IF EXISTS task_usage_hourly_enqueue_row(uuid, timestamptz, text, text, text);
DROP FUNCTION IF EXISTS task_usage_hourly_enqueue_issue(uuid, uuid);
DROP FUNCTION IF EXISTS task_usage_hourly_enqueue_task(uuid, uuid, uuid, uuid);
DROP FUNCTION IF EXISTS task_usage_hour_bucket(timestamptz);
"""


class Migration(migrations.Migration):
    dependencies = [
        ("usage", "0006_hourly_rollup_schema"),
        ("issues", "0001_initial"),
    ]

    operations = [migrations.RunSQL(FUNCTIONS, REVERSE)]
