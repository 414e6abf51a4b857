"""Benchmark: claim throughput through ``POST /api/daemon/tasks/claim`` with 1, 4 and 16
concurrent daemons (batch 8) over 10,000 queued tasks on 50 runtimes, beside the same claim SQL
run through psycopg by the same number of threads (the baseline).

Run by ``make bench`` as ``.venv/bin/python bench/claim.py``, against the bench database that
``bench/issue_list.py`` uses. Each round re-queues every task, then the daemons claim until the
queue is empty; the figure is tasks claimed per second of wall time. Options: ``--tasks N``
(10,000), ``--runtimes N`` (50), ``--batch N`` (8), ``--workers N`` (uvicorn processes).

Not measured yet: assignment → ``daemon:task_available`` latency (needs the daemon socket).
"""

# ruff: noqa: PLC0415

from __future__ import annotations

import argparse
import os
import sys
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.issue_list import (  # noqa: E402 - the path is set first
    free_port,
    log,
    prepare_environment,
    raw_connect,
    setup_django,
    start_server,
    stop_server,
)

AGENT_MAX = 50


def seed(tasks: int, runtimes: int) -> tuple[str, list[str]]:
    """One workspace, ``runtimes`` fresh runtimes, agents of ≤50 tasks on distinct issues."""
    from django.db import connection
    from django.utils import timezone

    from agents.models import Agent, AgentTask
    from issues.models import Issue
    from runtimes.models import AgentRuntime
    from workspaces import tokens
    from workspaces.models import PersonalAccessToken, User
    from workspaces.services.workspaces import workspace_create

    with connection.cursor() as cur:
        cur.execute('TRUNCATE "workspace", "user" CASCADE')
    user = User.objects.create_user("bench@example.com", name="Bench")
    ws = workspace_create(user=user, name="Bench", slug="bench", issue_prefix="BEN")
    raw = tokens.mint_token(tokens.PAT_PREFIX)
    PersonalAccessToken.objects.create(
        user=user, name="bench", token_hash=tokens.hash_token(raw), token_prefix=raw[:12]
    )
    rts = [
        AgentRuntime.objects.create(
            workspace=ws, owner=user, daemon_id=f"bench-{i}", name=f"rt {i}", provider="claude",
            status="online", last_seen_at=timezone.now(),
        )
        for i in range(runtimes)
    ]  # fmt: skip
    issues = [
        Issue(workspace=ws, number=n + 1, title=f"bench {n}", creator_type="member",
              creator_id=user.id, position=float(n))
        for n in range(AGENT_MAX)
    ]  # fmt: skip
    Issue.objects.bulk_create(issues)
    agents = [
        Agent.objects.create(
            workspace=ws, runtime=rts[i % runtimes], name=f"a{i}", owner=user,
            max_concurrent_tasks=AGENT_MAX,
        )
        for i in range((tasks + AGENT_MAX - 1) // AGENT_MAX)
    ]  # fmt: skip
    rows = []
    for i in range(tasks):
        agent = agents[i // AGENT_MAX]
        rows.append(
            AgentTask(
                workspace=ws, agent=agent, issue=issues[i % AGENT_MAX], runtime_id=agent.runtime_id
            )
        )
    AgentTask.objects.bulk_create(rows, batch_size=2000)
    with connection.cursor() as cur:
        cur.execute("VACUUM (ANALYZE) agent_task_queue")
    return raw, [str(r.pk) for r in rts]


def requeue() -> None:
    with raw_connect() as conn:
        conn.execute("DELETE FROM task_token")
        conn.execute(
            "UPDATE agent_task_queue SET status = 'queued', lease_epoch = 0, dispatched_at = NULL,"
            " prepare_lease_expires_at = NULL"
        )
        conn.execute("UPDATE agent_runtime SET last_seen_at = now(), status = 'online'")


def _shares(runtime_ids: list[str], n: int) -> list[list[str]]:
    return [runtime_ids[i::n] for i in range(n)]


def run_http(base: str, token: str, runtime_ids: list[str], daemons: int, batch: int) -> float:
    import httpx

    claimed = [0] * daemons

    def daemon(i: int, mine: list[str]) -> None:
        with httpx.Client(base_url=base, timeout=30) as client:
            headers = {"Authorization": f"Bearer {token}"}
            empty = 0
            while empty < 2:
                body = {"daemon_id": "", "runtime_ids": mine, "max_tasks": batch}
                resp = client.post("/api/daemon/tasks/claim", json=body, headers=headers)
                resp.raise_for_status()
                got = len(resp.json()["tasks"])
                claimed[i] += got
                empty = 0 if got else empty + 1

    start = time.perf_counter()
    threads = [
        threading.Thread(target=daemon, args=(i, share))
        for i, share in enumerate(_shares(runtime_ids, daemons))
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sum(claimed) / (time.perf_counter() - start)


RAW_CANDIDATES = """
SELECT t.agent_id FROM agent_task_queue t WHERE t.status = 'queued' AND t.runtime_id = ANY(%s)
GROUP BY t.agent_id ORDER BY max(t.priority) DESC, min(t.created_at) LIMIT %s"""
RAW_PICK = """
SELECT t.id FROM agent_task_queue t
WHERE t.status = 'queued' AND t.agent_id = %s AND t.runtime_id = ANY(%s)
  AND NOT EXISTS (SELECT 1 FROM agent_task_queue s WHERE s.agent_id = t.agent_id
      AND s.status IN ('dispatched', 'running', 'waiting_local_directory')
      AND s.issue_id IS NOT DISTINCT FROM t.issue_id)
ORDER BY t.priority DESC, t.created_at, t.id LIMIT %s FOR UPDATE SKIP LOCKED"""


def run_raw(runtime_ids: list[str], threads_n: int, batch: int) -> float:
    import uuid

    claimed = [0] * threads_n

    def worker(i: int, mine: list[str]) -> None:
        ids = [uuid.UUID(r) for r in mine]
        with raw_connect() as conn:
            empty = 0
            while empty < 2:
                got = 0
                with conn.transaction():
                    agents = [
                        r[0] for r in conn.execute(RAW_CANDIDATES, (ids, batch * 4)).fetchall()
                    ]
                    for agent_id in agents:
                        if got >= batch:
                            break
                        row = conn.execute(
                            "SELECT max_concurrent_tasks FROM agent WHERE id = %s"
                            " FOR UPDATE SKIP LOCKED",
                            (agent_id,),
                        ).fetchone()
                        if row is None:
                            continue
                        active = conn.execute(
                            "SELECT count(*) FROM agent_task_queue WHERE agent_id = %s AND status"
                            " IN ('dispatched', 'running', 'waiting_local_directory')",
                            (agent_id,),
                        ).fetchone()[0]
                        slots = min(batch - got, row[0] - active)
                        if slots <= 0:
                            continue
                        picked = [
                            r[0] for r in conn.execute(RAW_PICK, (agent_id, ids, slots)).fetchall()
                        ]
                        if picked:
                            conn.execute(
                                "UPDATE agent_task_queue SET status = 'dispatched',"
                                " dispatched_at = now(), lease_epoch = lease_epoch + 1"
                                " WHERE id = ANY(%s)",
                                (picked,),
                            )
                            got += len(picked)
                claimed[i] += got
                empty = 0 if got else empty + 1

    start = time.perf_counter()
    threads = [
        threading.Thread(target=worker, args=(i, share))
        for i, share in enumerate(_shares(runtime_ids, threads_n))
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sum(claimed) / (time.perf_counter() - start)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=10_000)
    parser.add_argument("--runtimes", type=int, default=50)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1))
    parser.add_argument("--levels", default="1,4,16")
    args = parser.parse_args()
    prepare_environment()
    setup_django()
    log(f"seeding {args.tasks} tasks on {args.runtimes} runtimes")
    token, runtime_ids = seed(args.tasks, args.runtimes)
    port = free_port()
    proc = start_server(port, args.workers)
    try:
        for level in (int(x) for x in args.levels.split(",")):
            requeue()
            http = run_http(f"http://127.0.0.1:{port}", token, runtime_ids, level, args.batch)
            requeue()
            raw = run_raw(runtime_ids, level, args.batch)
            log(
                f"{level:>2} daemons, batch {args.batch}: HTTP {http:,.0f} tasks/s, "
                f"raw SQL {raw:,.0f} tasks/s ({http / raw:.0%} of raw)"
            )
    finally:
        stop_server(proc)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
