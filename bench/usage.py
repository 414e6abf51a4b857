"""Benchmark: runtime usage over 90 days at 10^5, 10^6 and 10^7 ``task_usage`` rows, read from
the hourly rollup and by the raw aggregation, and one rollup tick with 1,000 dirty buckets.

Run by ``make bench`` as ``.venv/bin/python bench/usage.py``. Each size has its own database
(``multica_bench_usage_<size>`` in the embedded PostgreSQL under ``.multica/bench``, or next to
``DATABASE_URL``), built once and kept: a later run finds the data and only measures.

Data (set-based, ``generate_series``): one workspace, 8 runtimes with 2 agents each, tasks spread
uniformly over the 120 days before an anchor instant and inserted in time order (as a live
system writes them), two usage rows per task (two models).
The measured runtime is the busiest: it runs a quarter of all tasks, on issues without a
project, so it has 4 bucket keys per hour (2 agents × 2 models); the other runtimes' tasks are
spread over 5 projects. The rollup is built by the real backfill (``rollup.backfill``).

Measured in one process through Django's connection, as the endpoint runs them:
* ``runtime_usage_daily_rows`` for the busy runtime, ``days=90``, UTC — from the rollup (the best
  median of 100 reads over rounds that interleave the sizes) and by the raw aggregation of
  ``task_usage`` (median of 3–5): the baseline;
* ``rollup_tick`` after touching 1,000 buckets of the last day (what a tick meets in steady
  state), and after touching 1,000 buckets scattered over the whole history
  (the worst case, e.g. old tasks reassigned: a tick recomputes every row of each dirty hour),
  each restored afterwards. Reads are measured after a ``VACUUM`` of the rollup (autovacuum's
  job), so they are index-only scans.

Targets: rollup read ≤ 1.5× from 10^5 to 10^7 rows, and ≥ 50× faster than raw at 10^7.
Options: ``--sizes 100000,1000000`` (while iterating), ``--rebuild`` (drop the cached data).
"""

# Django is configured at run time, after the bench chooses its database: imports that need it
# are made inside the functions that run after setup.
# ruff: noqa: PLC0415

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

SIZES = (100_000, 1_000_000, 10_000_000)
RUNTIMES = 8
AGENTS_PER_RUNTIME = 2
PROJECTS = 5
ISSUES = 200
SPAN_DAYS = 120
ROWS_PER_TASK = 2
MODELS = ("claude-sonnet-4", "claude-haiku-4")
DIRTY_BUCKETS = 1_000
ROUNDS = 3
SCATTERED_MAX = 10_000_000  # the scattered tick reads every row of ~1,000 hours
READ_DAYS = 90


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def db_name(size: int) -> str:
    return f"multica_bench_usage_{size}"


# --- environment and databases --------------------------------------------------------------


def prepare_environment(first: str) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "multica_site.settings.local")
    os.environ["DEBUG"] = "false"
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    url = os.environ.get("DATABASE_URL")
    if url:
        parts = urlsplit(url)
        os.environ["DATABASE_URL"] = urlunsplit(parts._replace(path="/" + first))
    else:
        os.environ.setdefault("MULTICA_DATA_DIR", str(REPO / ".multica" / "bench"))
        os.environ["MULTICA_DB_NAME"] = first


def use_database(name: str) -> None:
    """Point Django's default connection at ``name`` (created if missing) and migrate it."""
    import psycopg
    from django.core.management import call_command
    from django.db import connections

    conn = connections["default"]
    conn.close()
    params = conn.get_connection_params()
    params.pop("cursor_factory", None)
    params.pop("context", None)
    params["dbname"] = "postgres"
    with psycopg.connect(**params, autocommit=True) as admin:
        if not admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            admin.execute(f'CREATE DATABASE "{name}"')
    conn.settings_dict["NAME"] = name
    call_command("migrate", verbosity=0)


def switch_database(name: str) -> None:
    """Point Django's default connection at an existing, migrated database."""
    from django.db import connections

    conn = connections["default"]
    conn.close()
    conn.settings_dict["NAME"] = name


def drop_database(name: str) -> None:
    import psycopg
    from django.db import connections

    conn = connections["default"]
    conn.close()
    params = conn.get_connection_params()
    params.pop("cursor_factory", None)
    params.pop("context", None)
    params["dbname"] = "postgres"
    with psycopg.connect(**params, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# --- data -------------------------------------------------------------------------------------


def cached(size: int) -> dict | None:
    """The dataset of this database if it is complete (rows generated and rolled up)."""
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("SELECT to_regclass('bench_usage_meta')")
        if cur.fetchone()[0] is None:
            return None
        cur.execute("SELECT anchor, runtime_id, rows, complete FROM bench_usage_meta")
        row = cur.fetchone()
    if row is None or not row[3] or row[2] != size:
        return None
    with connection.cursor() as cur:  # the usage tables may have been rebuilt since
        cur.execute("SELECT count(*) FROM task_usage")
        rows = cur.fetchone()[0]
        cur.execute("SELECT EXISTS (SELECT 1 FROM task_usage_hourly)")
        rolled_up = cur.fetchone()[0]
    if rows != size or not rolled_up:
        return None
    return {"anchor": row[0], "runtime_id": row[1]}


def build(size: int) -> dict:
    """Generate ``size`` usage rows set-based, then roll them up with the real backfill."""
    from django.db import connection
    from django.utils import timezone

    from agents.models import Agent
    from issues.models import Issue, Project
    from runtimes.models import AgentRuntime
    from usage.services import rollup
    from workspaces.models import User
    from workspaces.services.workspaces import workspace_create

    began = time.monotonic()
    with connection.cursor() as cur:
        cur.execute('TRUNCATE "workspace", "user" CASCADE')
        cur.execute("TRUNCATE task_usage_hourly, task_usage_hourly_dirty")
        cur.execute("DROP TABLE IF EXISTS bench_usage_meta")
        cur.execute(
            "CREATE TABLE bench_usage_meta (anchor timestamptz, runtime_id uuid, rows bigint,"
            " complete boolean)"
        )
    anchor = timezone.now().replace(minute=0, second=0, microsecond=0)
    user = User.objects.create_user("bench@example.com", name="Bench")
    ws = workspace_create(user=user, name="Bench", slug="bench", issue_prefix="BEN")
    runtimes = [
        AgentRuntime.objects.create(
            workspace=ws, daemon_id=f"bench-{n}", name=f"claude (bench-{n})", provider="claude",
            owner=user,
        )
        for n in range(RUNTIMES)
    ]  # fmt: skip
    agents = [
        Agent.objects.create(workspace=ws, name=f"agent-{r}-{a}", runtime=runtimes[r], owner=user)
        for r in range(RUNTIMES)
        for a in range(AGENTS_PER_RUNTIME)
    ]
    projects = [Project.objects.create(workspace=ws, title=f"P{n}") for n in range(PROJECTS)]
    issues = Issue.objects.bulk_create(
        Issue(
            workspace=ws, number=n + 1, title=f"bench {n}", creator_type="member",
            creator_id=user.id, project=projects[n % PROJECTS],
        )
        for n in range(ISSUES)
    )  # fmt: skip
    tasks = size // ROWS_PER_TASK
    log(f"generating {tasks:,} tasks and {size:,} usage rows over {SPAN_DAYS} days")
    with connection.cursor() as cur:
        cur.execute("SET synchronous_commit = off")
        cur.execute("SET maintenance_work_mem = '512MB'")
        # Bulk load: plain indexes are rebuilt afterwards, and (when the role may) foreign-key
        # checks are skipped — the generated rows reference rows made just above.
        cur.execute(
            """
            SELECT indexname, indexdef FROM pg_indexes
             WHERE tablename IN ('agent_task_queue', 'task_usage')
               AND indexname NOT IN (SELECT conname FROM pg_constraint)
            """
        )
        rebuilt = cur.fetchall()
        for name, _ in rebuilt:
            cur.execute(f'DROP INDEX "{name}"')
        cur.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
        if cur.fetchone()[0]:
            cur.execute("SET session_replication_role = replica")
        cur.execute(
            """
            INSERT INTO agent_task_queue (
                id, workspace_id, agent_id, issue_id, runtime_id, status, priority, attempt,
                max_attempts, force_fresh_session, lease_epoch, coalesced_comment_ids,
                delivered_comment_ids, created_at, updated_at, started_at, completed_at)
            SELECT uuidv7(), %(ws)s, a.agents[x.r * 2 + 1 + (g / 8) %% 2],
                   CASE WHEN x.r = 0 THEN NULL ELSE a.issues[1 + g %% %(issues)s] END,
                   a.runtimes[x.r + 1], 'completed', 0, 1, 2, false, 1, '{}', '{}',
                   x.at, x.at, x.at, x.at + interval '10 minutes'
              FROM generate_series(0, %(tasks)s - 1) g
             CROSS JOIN (SELECT %(agents)s::uuid[] AS agents, %(issues_ids)s::uuid[] AS issues,
                                %(runtimes)s::uuid[] AS runtimes) a
             CROSS JOIN LATERAL (
                 SELECT CASE WHEN g %% 4 = 0 THEN 0 ELSE 1 + g %% %(others)s END AS r,
                        %(anchor)s::timestamptz - %(span)s * interval '1 day'
                          * (1 - (g + random()) / %(tasks)s) AS at
             ) x
            """,
            {
                "ws": ws.id, "tasks": tasks, "issues": ISSUES, "others": RUNTIMES - 1,
                "agents": [a.id for a in agents], "issues_ids": [i.id for i in issues],
                "runtimes": [r.id for r in runtimes], "anchor": anchor, "span": SPAN_DAYS,
            },
        )  # fmt: skip
        log(f"  tasks in {time.monotonic() - began:.0f} s")
        # Bulk load: the rows' own trigger is skipped; the backfill finds them by updated_at.
        cur.execute("ALTER TABLE task_usage DISABLE TRIGGER trg_tu_usage_hourly_dirty_write")
        try:
            cur.execute(
                """
                INSERT INTO task_usage (
                    id, task_id, provider, model, input_tokens, output_tokens,
                    cache_read_tokens, cache_write_tokens, cost_usd_ticks, created_at, updated_at)
                SELECT uuidv7(), t.id, 'claude', m.model, (random() * 5000)::int,
                       (random() * 800)::int, (random() * 20000)::int, (random() * 300)::int,
                       NULL, t.completed_at, t.completed_at
                  FROM agent_task_queue t
                 CROSS JOIN unnest(%(models)s::text[]) AS m(model)
                 WHERE t.workspace_id = %(ws)s
                """,
                {"models": list(MODELS), "ws": ws.id},
            )
        finally:
            cur.execute("ALTER TABLE task_usage ENABLE TRIGGER trg_tu_usage_hourly_dirty_write")
        cur.execute("SET session_replication_role = DEFAULT")
        log(f"  usage rows in {time.monotonic() - began:.0f} s; rebuilding {len(rebuilt)} indexes")
        for _, definition in rebuilt:
            cur.execute(definition)
        log(f"  indexes in {time.monotonic() - began:.0f} s; analyzing")
        cur.execute("VACUUM (ANALYZE) agent_task_queue")
        cur.execute("VACUUM (ANALYZE) task_usage")
    log("rolling up with the backfill (30-day slices)")
    t0 = time.monotonic()
    written, _ = rollup.backfill(step=timedelta(days=30))
    log(f"  {written:,} buckets in {time.monotonic() - t0:.0f} s")
    with connection.cursor() as cur:
        cur.execute("VACUUM (ANALYZE) task_usage_hourly")
        cur.execute(
            "INSERT INTO bench_usage_meta VALUES (%s, %s, %s, true)", [anchor, runtimes[0].id, size]
        )
    log(f"built {size:,} in {time.monotonic() - began:.0f} s")
    return {"anchor": anchor, "runtime_id": runtimes[0].id}


# --- measurements ---------------------------------------------------------------------------


def timed(fn, repeat: int) -> tuple[float, object]:
    result = fn()  # warm-up (plans, caches)
    samples = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        samples.append(time.perf_counter() - t0)
    return statistics.median(samples) * 1000, result


def measure_rollup(data: dict) -> tuple[float, object]:
    from usage import selectors

    win = selectors.window(
        {"days": str(READ_DAYS), "tz": "UTC"}, default_days=READ_DAYS, now=data["anchor"]
    )
    rid = data["runtime_id"]
    return timed(lambda: selectors.runtime_usage_daily_rows(rid, win, source="rollup"), 100)


def measure_reads(data: dict, size: int) -> dict:
    from django.db import connection

    from usage import selectors

    win = selectors.window(
        {"days": str(READ_DAYS), "tz": "UTC"}, default_days=READ_DAYS, now=data["anchor"]
    )
    rid = data["runtime_id"]
    rollup_ms, rolled = measure_rollup(data)
    raw_ms, raw = timed(
        lambda: selectors.runtime_usage_daily_rows(rid, win, source="raw"),
        5 if size < 10_000_000 else 3,
    )
    if rolled != raw:
        raise SystemExit(f"{size:,}: the rollup and the raw aggregation disagree")
    with connection.cursor() as cur:
        cur.execute(
            "SELECT count(*) FROM task_usage_hourly WHERE runtime_id = %s AND bucket_hour >= %s",
            [rid, win.since],
        )
        buckets = cur.fetchone()[0]
        cur.execute(
            "SELECT count(*) FROM task_usage tu JOIN agent_task_queue t ON t.id = tu.task_id"
            " WHERE t.runtime_id = %s AND tu.created_at >= %s",
            [rid, win.since],
        )
        events = cur.fetchone()[0]
    return {"rollup": rollup_ms, "raw": raw_ms, "buckets": buckets, "events": events,
            "days": len(rolled)}  # fmt: skip


TOUCH = """
WITH picked AS (
    SELECT DISTINCT ON (task_usage_hour_bucket(tu.created_at), t.runtime_id, t.agent_id,
                        i.project_id, tu.model)
           tu.id
      FROM task_usage tu
      JOIN agent_task_queue t ON t.id = tu.task_id
      LEFT JOIN issue i ON i.id = t.issue_id
     WHERE tu.created_at >= %(from)s AND tu.created_at < %(to)s
     ORDER BY task_usage_hour_bucket(tu.created_at), t.runtime_id, t.agent_id, i.project_id,
              tu.model, hashtext(tu.id::text)
)
UPDATE task_usage SET input_tokens = input_tokens + 1
 WHERE id IN (SELECT id FROM picked ORDER BY hashtext(id::text) LIMIT %(n)s)
RETURNING id
"""


def vacuum_rollup() -> None:
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("VACUUM (ANALYZE) task_usage_hourly")


def measure_tick(data: dict, scattered: bool) -> tuple[float, int]:
    """Touch 1,000 distinct buckets (the triggers enqueue them), time one tick, restore."""
    from django.db import connection

    from usage.models import TaskUsageRollupState
    from usage.services import rollup

    anchor = data["anchor"]
    span = timedelta(days=SPAN_DAYS if scattered else 1)
    # The watermark already covers history: the tick's work is the queue.
    TaskUsageRollupState.objects.update(watermark_at=anchor)
    with connection.cursor() as cur:
        cur.execute("DELETE FROM task_usage_hourly_dirty")
        cur.execute(TOUCH, {"from": anchor - span, "to": anchor, "n": DIRTY_BUCKETS})
        touched = [r[0] for r in cur.fetchall()]
        cur.execute("SELECT count(*) FROM task_usage_hourly_dirty")
        queued = cur.fetchone()[0]
    t0 = time.perf_counter()
    result = rollup.rollup_tick(now=anchor + timedelta(minutes=5))
    elapsed = (time.perf_counter() - t0) * 1000
    assert result is not None
    with connection.cursor() as cur:  # restore the figures (and the rollup) for the next run
        cur.execute(
            "UPDATE task_usage SET input_tokens = input_tokens - 1 WHERE id = ANY(%s::uuid[])",
            [[str(t) for t in touched]],
        )
    rollup.rollup_tick(now=anchor + timedelta(minutes=5))
    return elapsed, queued


# --- main -------------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default=",".join(str(s) for s in SIZES))
    parser.add_argument("--rebuild", action="store_true")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]

    began = time.monotonic()
    prepare_environment(db_name(sizes[0]))
    import django

    django.setup()
    results = {}
    for size in sizes:
        if args.rebuild:
            drop_database(db_name(size))
        use_database(db_name(size))
        data = cached(size)
        if data is None:
            data = build(size)
        else:
            log(f"{size:,}: using the cached dataset in {db_name(size)}")
        tick_recent, queued_recent = measure_tick(data, scattered=False)
        tick_scattered, queued_scattered = (
            measure_tick(data, scattered=True) if size <= SCATTERED_MAX else (float("nan"), 0)
        )
        vacuum_rollup()  # what autovacuum does between ticks: the read is index-only again
        reads = measure_reads(data, size)
        log(
            f"{size:,}: rollup {reads['rollup']:.2f} ms ({reads['buckets']:,} buckets), raw "
            f"{reads['raw']:.1f} ms ({reads['events']:,} rows); tick {tick_recent:.0f} ms "
            f"({queued_recent} buckets of the last day), {tick_scattered:.0f} ms "
            f"({queued_scattered} scattered)"
        )
        results[size] = (reads, tick_recent, tick_scattered)

    # Rollup reads again, the sizes interleaved over several rounds, keeping each size's best
    # median: a burst of load from other work on the machine then cannot decide the ratio.
    for _ in range(ROUNDS):
        for size, (reads, _, _) in results.items():
            switch_database(db_name(size))
            data = cached(size)
            reads["rollup"] = min(reads["rollup"], measure_rollup(data)[0])

    print()
    print(f"== runtime usage, {READ_DAYS} days, busiest runtime (rollup vs raw aggregation) ==")
    print(
        f"{'rows':>11} {'rollup ms':>10} {'buckets':>8} {'raw ms':>9} {'rows read':>10} "
        f"{'raw/rollup':>10} {'tick (day)':>11} {'tick (scat.)':>12}"
    )
    for size, (reads, recent, scattered) in results.items():
        print(
            f"{size:>11,} {reads['rollup']:>10.2f} {reads['buckets']:>8,} {reads['raw']:>9.1f} "
            f"{reads['events']:>10,} {reads['raw'] / reads['rollup']:>9.0f}x "
            f"{recent:>9.0f} ms {scattered:>9.0f} ms"
        )
    small, large = results[min(results)][0], results[max(results)][0]
    flat = large["rollup"] / small["rollup"]
    speedup = large["raw"] / large["rollup"]
    print(
        f"rollup read {min(results):,}→{max(results):,} rows: {flat:.2f}x (target ≤ 1.5x): "
        f"{'OK' if flat <= 1.5 else 'MISSED'}"
    )
    print(
        f"rollup vs raw at {max(results):,} rows: {speedup:.0f}x faster (target ≥ 50x): "
        f"{'OK' if speedup >= 50 else 'MISSED'}"
    )
    print(f"total runtime {time.monotonic() - began:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
