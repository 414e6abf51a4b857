"""Benchmark: claim throughput through ``POST /api/daemon/tasks/claim`` with 1, 4 and 16
concurrent daemons (batch 8) over 10,000 queued tasks on 50 runtimes, beside the claim
service's own SQL run through psycopg by the same number of threads (the baseline).

Run by ``make bench`` as ``.venv/bin/python bench/claim.py``, against the bench database that
``bench/issue_list.py`` uses. Each round re-queues every task, then the daemons claim until the
queue is empty; the figure is tasks claimed per second of wall time. Options: ``--tasks N``
(10,000), ``--runtimes N`` (50), ``--batch N`` (8), ``--workers N`` (uvicorn processes).

Then the latency from assigning an issue to an agent (``POST /api/issues`` with the agent as
assignee) to that runtime's daemon WebSocket receiving ``daemon:task_available`` (p50/p99 over
``--wakeups`` assignments, one at a time). Targets: the API at 16 daemons ≥ 25% of the
baseline's tasks/s; assignment-to-wakeup p99 < 50 ms.
"""

# ruff: noqa: PLC0415

from __future__ import annotations

import argparse
import os
import statistics
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
    """``daemons`` threads, each a daemon claiming for its share of the runtimes over one
    keep-alive connection (``http.client``: the load generator shares the server's cores and
    should cost as little as the baseline's client does)."""
    import http.client
    import json
    from urllib.parse import urlsplit

    url = urlsplit(base)
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    claimed = [0] * daemons

    def daemon(i: int, mine: list[str]) -> None:
        conn = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
        body = json.dumps({"daemon_id": "", "runtime_ids": mine, "max_tasks": batch})
        try:
            empty = 0
            while empty < 2:
                conn.request("POST", "/api/daemon/tasks/claim", body=body, headers=headers)
                resp = conn.getresponse()
                content = resp.read()
                if resp.status != 200:
                    raise RuntimeError(f"claim: {resp.status} {content[:200]!r}")
                got = len(json.loads(content)["tasks"])
                claimed[i] += got
                empty = 0 if got else empty + 1
        finally:
            conn.close()

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


def run_raw(runtime_ids: list[str], threads_n: int, batch: int) -> float:
    """The baseline: per claim, exactly the statements the claim service runs to pick, lease
    and mint tokens (imported from it, so the two never drift apart) — candidate agents, one
    lease statement per agent, one token INSERT — through psycopg (prepared after 5 uses, as
    the service's are), with the same token minting and hashing in Python."""
    import uuid
    from datetime import timedelta

    from django.utils import timezone

    from runtimes.services import claims
    from workspaces import tokens
    from workspaces.models import User

    owner_id = User.objects.get(email="bench@example.com").pk
    col = {name: i for i, name in enumerate(claims._TASK_ATTNAMES)}
    claimed = [0] * threads_n

    def worker(i: int, mine: list[str]) -> None:
        ids = [uuid.UUID(r) for r in mine]
        with raw_connect() as conn:
            empty = 0
            while empty < 2:
                leased: list = []
                with conn.transaction():
                    now = timezone.now()
                    agents = conn.execute(
                        claims._CANDIDATES_SQL, (ids, max(batch * 4, 16))
                    ).fetchall()
                    for agent_id, max_concurrent in agents:
                        if len(leased) >= batch:
                            break
                        params = {
                            "agent": agent_id, "max_concurrent": max_concurrent,
                            "limit": batch - len(leased), "runtimes": ids,
                            "now": now, "expires": now + timedelta(seconds=45),
                        }  # fmt: skip
                        leased += conn.execute(claims._CLAIM_AGENT_SQL, params).fetchall()
                    if leased:
                        columns: list[list] = [[] for _ in range(9)]
                        expires = now + timedelta(days=1)
                        for row in leased:
                            raw = tokens.mint_token(tokens.TASK_TOKEN_PREFIX)
                            values = (
                                uuid.uuid4(), tokens.hash_token(raw), row[col["id"]],
                                row[col["lease_epoch"]], row[col["agent_id"]],
                                row[col["workspace_id"]], owner_id, expires, now,
                            )  # fmt: skip
                            for column, value in zip(columns, values, strict=True):
                                column.append(value)
                        conn.execute(claims._MINT_TOKENS_SQL, columns)
                claimed[i] += len(leased)
                empty = 0 if leased else empty + 1

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


# --- assignment -> daemon:task_available --------------------------------------------------------


def wakeup_latency(
    base: str, token: str, runtime_id: str, samples: int
) -> tuple[list[float], list[float]]:
    """Seconds from sending ``POST /api/issues`` assigned to an agent on ``runtime_id`` to the
    runtime's daemon socket receiving ``daemon:task_available``, one assignment at a time; and,
    for reference, the seconds until that request's own response arrived."""
    import json

    import httpx
    from websockets.sync.client import connect

    from agents.models import Agent

    agent = Agent.objects.filter(runtime_id=runtime_id).first()
    ws_url = base.replace("http://", "ws://") + f"/api/daemon/ws?runtime_ids={runtime_id}"
    headers = {"Authorization": f"Bearer {token}"}
    latencies: list[float] = []
    responses: list[float] = []
    with (
        httpx.Client(base_url=base, headers=headers, timeout=30) as client,
        connect(ws_url, additional_headers=headers, open_timeout=10) as sock,
    ):
        workspace_id = str(agent.workspace_id)
        for n in range(samples + 5):  # the first 5 warm up
            body = {"title": f"wake {n}", "assignee_type": "agent", "assignee_id": str(agent.pk)}
            started = time.perf_counter()
            resp = client.post("/api/issues", json=body, headers={"X-Workspace-ID": workspace_id})
            resp.raise_for_status()
            answered = time.perf_counter() - started
            while True:
                frame = json.loads(sock.recv(timeout=10))
                if frame.get("type") == "daemon:task_available":
                    break
            if n >= 5:
                latencies.append(time.perf_counter() - started)
                responses.append(answered)
    return latencies, responses


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=10_000)
    parser.add_argument("--runtimes", type=int, default=50)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1))
    parser.add_argument("--levels", default="1,4,16")
    parser.add_argument("--wakeups", type=int, default=200)
    args = parser.parse_args()
    prepare_environment()
    setup_django()
    log(f"seeding {args.tasks} tasks on {args.runtimes} runtimes")
    token, runtime_ids = seed(args.tasks, args.runtimes)
    port = free_port()
    proc = start_server(port, args.workers)
    results = []
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
            results.append((level, http, raw))
        requeue()
        log(f"assignment -> daemon:task_available, {args.wakeups} assignments")
        wake, answered = wakeup_latency(
            f"http://127.0.0.1:{port}", token, runtime_ids[0], args.wakeups
        )
        wake.sort()
    finally:
        stop_server(proc)
    p50 = statistics.median(wake) * 1000
    p99 = wake[min(len(wake) - 1, int(len(wake) * 0.99))] * 1000
    print()
    print(f"== claims of {args.batch}: {args.tasks:,} tasks on {args.runtimes} runtimes ==")
    print(f"{'daemons':>8} {'HTTP/s':>8} {'raw/s':>8} {'ratio':>6}")
    for level, http, raw in results:
        print(f"{level:>8} {http:>8,.0f} {raw:>8,.0f} {http / raw:>6.0%}")
    top = max(results, key=lambda r: r[0])
    verdict = "OK" if top[1] / top[2] >= 0.25 else "MISSED"
    print(f"API at {top[0]} daemons: {top[1] / top[2]:.0%} of raw (target >= 25%): {verdict}")
    print(
        f"assignment -> daemon:task_available: p50 {p50:.1f} ms, p99 {p99:.1f} ms "
        f"(target p99 < 50 ms): {'OK' if p99 < 50 else 'MISSED'}"
    )
    print(
        f"  for reference, the POST /api/issues response itself: "
        f"p50 {statistics.median(answered) * 1000:.1f} ms"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
