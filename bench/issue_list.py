"""Benchmark: ``GET /api/issues?limit=50`` at 10,000 and 100,000 issues in one workspace.

Run by ``make bench`` as ``.venv/bin/python bench/issue_list.py``. Against its own database
(``multica_bench`` in the embedded PostgreSQL under ``.multica/bench``, or ``<db>_bench`` next to
``DATABASE_URL``), it migrates, COPYs issues into one workspace plus 9 noise workspaces (~10% of
issues labelled), then for each size starts the real server (uvicorn, the same ASGI application
as ``make run``) and drives it with 8 concurrent clients for ~10 s. The same page (the 50 rows by
position, with their labels) is then read with raw SQL through psycopg by 8 threads: the baseline.

Targets: p50 flat from 10k to 100k (≤ 1.3×) and p50 ≤ 10× the raw p50.
Options: ``--duration S`` (default 10), ``--clients N`` (8), ``--workers N`` (uvicorn processes;
default one per core, at most 2 — the perf notes' serving setup on this kind of machine).
"""

# Django is configured at run time, after the bench chooses its database: imports that need it
# are made inside the functions that run after setup.
# ruff: noqa: PLC0415

from __future__ import annotations

import argparse
import io
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

SIZES = (10_000, 100_000)
NOISE_WORKSPACES = 9
NOISE_ISSUES_EACH = 10_000
LABELS = 20
LABELLED_SHARE = 0.10
PAGE = 50
STATUSES = ("backlog", "todo", "in_progress", "in_review", "done", "blocked", "cancelled")
PRIORITIES = ("urgent", "high", "medium", "low", "none")


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


# --- environment and database ---------------------------------------------------------------


def prepare_environment() -> None:
    """Settings and a separate database, before Django is configured."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "multica_site.settings.local")
    os.environ["DEBUG"] = "false"  # no query log in the server or here
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    url = os.environ.get("DATABASE_URL")
    if url:
        parts = urlsplit(url)
        bench_db = (parts.path.lstrip("/") or "multica") + "_bench"
        admin_url = urlunsplit(parts._replace(path="/postgres"))
        _ensure_database(admin_url, bench_db)
        os.environ["DATABASE_URL"] = urlunsplit(parts._replace(path="/" + bench_db))
    else:
        os.environ.setdefault("MULTICA_DATA_DIR", str(REPO / ".multica" / "bench"))
        os.environ["MULTICA_DB_NAME"] = "multica_bench"


def _ensure_database(admin_url: str, name: str) -> None:
    import psycopg

    with psycopg.connect(admin_url, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


def setup_django() -> None:
    import django
    from django.core.management import call_command

    django.setup()
    log("migrating the bench database")
    call_command("migrate", verbosity=0)


def raw_connect():
    import psycopg

    return psycopg.connect(os.environ["DATABASE_URL"], autocommit=True)


# --- data -------------------------------------------------------------------------------------


class Dataset:
    def __init__(self) -> None:
        self.user = None
        self.main = None
        self.noise: list = []
        self.labels: dict[uuid.UUID, list[uuid.UUID]] = {}  # workspace id -> its label ids
        self.counters: dict[uuid.UUID, int] = {}


def reset_and_seed_workspaces(data: Dataset) -> None:
    from django.db import connection

    from workspaces.models import User
    from workspaces.services.workspaces import workspace_create

    with connection.cursor() as cur:
        cur.execute('TRUNCATE "workspace", "user" CASCADE')
    data.user = User.objects.create_user("bench@example.com", name="Bench")
    data.main = workspace_create(user=data.user, name="Bench", slug="bench", issue_prefix="BEN")
    data.counters[data.main.id] = 0
    noise = []
    for i in range(NOISE_WORKSPACES):
        ws = workspace_create(user=data.user, name=f"Noise {i}", slug=f"noise-{i}")
        data.counters[ws.id] = 0
        noise.append(ws)
    data.noise = noise
    with connection.cursor() as cur:
        for ws in [data.main, *noise]:
            data.labels[ws.id] = []
            for n in range(LABELS):
                label_id = uuid.uuid4()
                cur.execute(
                    "INSERT INTO issue_label (id, workspace_id, resource_type, name, description,"
                    " color, created_at, updated_at) VALUES (%s, %s, 'issue', %s, '', '#3b82f6',"
                    " now(), now())",
                    [label_id, ws.id, f"label-{n}"],
                )
                data.labels[ws.id].append(label_id)


def copy_issues(data: Dataset, workspace_id: uuid.UUID, count: int, rng: random.Random) -> None:
    """COPY ``count`` issues into a workspace (numbers continue its counter), ~10% labelled."""
    from django.db import connection

    from issues.models import uuid7

    start = data.counters[workspace_id]
    base = datetime(2026, 1, 1, tzinfo=UTC)
    issues = io.StringIO()
    links = io.StringIO()
    labels = data.labels[workspace_id]
    creator = data.user.id
    for n in range(start + 1, start + count + 1):
        issue_id = uuid7()
        created = (base + timedelta(seconds=n * 7)).isoformat()
        status = STATUSES[n % len(STATUSES)]
        row = [
            str(issue_id), str(workspace_id), str(n), f"Bench issue {n} fix the thing",
            "\\N" if n % 3 else f"Description of issue {n}", status,
            PRIORITIES[n % len(PRIORITIES)], "\\N", "\\N", "member", str(creator), "\\N", "\\N",
            "[]", "[]", repr(float(-n)), "\\N", "\\N", "\\N", "{}", "{}", "1", created,
            "\\N", "\\N", "\\N", created, created,
        ]  # fmt: skip
        issues.write("\t".join(row) + "\n")
        if labels and rng.random() < LABELLED_SHARE:
            links.write(f"{issue_id}\t{rng.choice(labels)}\t{created}\n")
    columns = (
        "id, workspace_id, number, title, description, status, priority, assignee_type, "
        "assignee_id, creator_type, creator_id, parent_issue_id, project_id, "
        "acceptance_criteria, context_refs, position, stage, start_date, due_date, metadata, "
        "properties, revision, last_activity_at, origin_type, origin_id, first_executed_at, "
        "created_at, updated_at"
    )
    raw = connection.connection  # psycopg 3
    with raw.cursor() as cur:
        with cur.copy(f"COPY issue ({columns}) FROM STDIN") as copy:
            copy.write(issues.getvalue())
        if links.tell():
            with cur.copy("COPY issue_to_label (issue_id, label_id, created_at) FROM STDIN") as cp:
                cp.write(links.getvalue())
        cur.execute(
            "UPDATE workspace SET issue_counter = %s WHERE id = %s", [start + count, workspace_id]
        )
    data.counters[workspace_id] = start + count


def analyze() -> None:
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("VACUUM (ANALYZE) issue")
        cur.execute("VACUUM (ANALYZE) issue_to_label")


# --- server -----------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(port: int, workers: int) -> subprocess.Popen:
    cmd = [
        sys.executable, "-m", "uvicorn", "multica_site.asgi:application",
        "--host", "127.0.0.1", "--port", str(port), "--lifespan", "off",
        "--no-access-log", "--log-level", "warning", "--workers", str(workers),
    ]  # fmt: skip
    proc = subprocess.Popen(cmd, cwd=REPO, env=dict(os.environ), start_new_session=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return proc
        except OSError:
            time.sleep(0.2)
    stop_server(proc)
    raise SystemExit("server did not start listening within 60 s")


def stop_server(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


# --- load -------------------------------------------------------------------------------------


def run_threads(worker, clients: int, duration: float) -> tuple[list[float], float]:
    """Run ``worker(stop_at, out)`` in ``clients`` threads; return latencies (s) and wall time."""
    latencies: list[list[float]] = [[] for _ in range(clients)]
    errors: list[BaseException] = []
    start = time.perf_counter()
    stop_at = start + duration

    def target(i: int) -> None:
        try:
            worker(stop_at, latencies[i])
        except BaseException as exc:  # noqa: BLE001 - reported after the run
            errors.append(exc)

    threads = [threading.Thread(target=target, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]
    return [x for lat in latencies for x in lat], time.perf_counter() - start


def http_worker(base_url: str, token: str, workspace_id: str, expected_total: int):
    """One keep-alive connection per client through the standard library's ``http.client``:
    the load generator shares the server's cores, so it should cost as little as the raw
    baseline's client does (httpx spends several times more CPU per request)."""
    import http.client
    import json
    from urllib.parse import urlsplit

    host = urlsplit(base_url)
    headers = {"Authorization": f"Bearer {token}", "X-Workspace-ID": workspace_id}
    path = f"/api/issues?limit={PAGE}"
    total_marker = f'"total":{expected_total}}}'.encode()

    def work(stop_at: float, out: list[float]) -> None:
        checked = False
        conn = http.client.HTTPConnection(host.hostname, host.port, timeout=30)
        try:
            while True:
                t0 = time.perf_counter()
                if t0 >= stop_at:
                    return
                conn.request("GET", path, headers=headers)
                resp = conn.getresponse()
                content = resp.read()
                out.append(time.perf_counter() - t0)
                if resp.status != 200:
                    raise RuntimeError(f"GET /api/issues: {resp.status} {content[:200]!r}")
                # Decoding 35 KB of JSON per response would tax the load generator, which
                # shares the server's cores: check the whole page once, then its total.
                if not checked:
                    body = json.loads(content)
                    if len(body["issues"]) != PAGE or body["total"] != expected_total:
                        raise RuntimeError("unexpected page")
                    checked = True
                elif total_marker not in content:
                    raise RuntimeError("unexpected total")
        finally:
            conn.close()

    return work


RAW_PAGE = """
SELECT id, workspace_id, title, description, status, priority, assignee_type, assignee_id,
       creator_type, creator_id, parent_issue_id, position, start_date, due_date, created_at,
       updated_at, last_activity_at, number, project_id, metadata, stage, properties, revision
FROM issue WHERE workspace_id = %s
ORDER BY position ASC, created_at DESC, id DESC LIMIT 50
"""
RAW_LABELS = """
SELECT il.issue_id, l.id, l.workspace_id, l.resource_type, l.name, l.description, l.color,
       l.created_at, l.updated_at
FROM issue_label l JOIN issue_to_label il ON il.label_id = l.id
WHERE il.issue_id = ANY(%s) AND l.workspace_id = %s AND l.resource_type = 'issue'
ORDER BY il.issue_id, lower(l.name)
"""


def raw_worker(workspace_id: uuid.UUID):
    def work(stop_at: float, out: list[float]) -> None:
        with raw_connect() as conn:
            while True:
                t0 = time.perf_counter()
                if t0 >= stop_at:
                    return
                rows = conn.execute(RAW_PAGE, (workspace_id,)).fetchall()
                conn.execute(RAW_LABELS, ([r[0] for r in rows], workspace_id)).fetchall()
                out.append(time.perf_counter() - t0)

    return work


def summarize(latencies: list[float], wall: float) -> dict[str, float]:
    ordered = sorted(latencies)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return {
        "n": len(ordered),
        "p50": statistics.median(ordered) * 1000,
        "p99": p99 * 1000,
        "rps": len(ordered) / wall,
    }


def show(label: str, stats: dict[str, float]) -> None:
    log(
        f"{label}: p50 {stats['p50']:.2f} ms, p99 {stats['p99']:.2f} ms, "
        f"{stats['rps']:.0f} req/s ({stats['n']} requests)"
    )


# --- main -------------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1))
    args = parser.parse_args()

    began = time.monotonic()
    prepare_environment()
    setup_django()
    from workspaces.tokens import issue_jwt

    rng = random.Random(42)
    data = Dataset()
    log("seeding workspaces and labels")
    reset_and_seed_workspaces(data)
    log(f"COPY {NOISE_WORKSPACES} noise workspaces x {NOISE_ISSUES_EACH:,} issues")
    for ws in data.noise:
        copy_issues(data, ws.id, NOISE_ISSUES_EACH, rng)
    token = issue_jwt(data.user)
    results = {}
    for size in SIZES:
        missing = size - data.counters[data.main.id]
        log(f"COPY {missing:,} issues into the main workspace (total {size:,})")
        copy_issues(data, data.main.id, missing, rng)
        analyze()
        port = free_port()
        log(f"starting uvicorn on :{port} ({args.workers} worker(s))")
        server = start_server(port, args.workers)
        try:
            work = http_worker(f"http://127.0.0.1:{port}", token, str(data.main.id), size)
            run_threads(work, args.clients, 3.0)  # warm-up: connections, imports, caches
            log(f"{size:,}: {args.clients} clients, GET /api/issues?limit={PAGE} for "
                f"{args.duration:.0f} s")  # fmt: skip
            api = summarize(*run_threads(work, args.clients, args.duration))
        finally:
            stop_server(server)
        show(f"{size:,} API", api)
        run_threads(raw_worker(data.main.id), args.clients, 1.0)
        raw = summarize(*run_threads(raw_worker(data.main.id), args.clients, args.duration))
        show(f"{size:,} raw SQL (psycopg)", raw)
        log(f"{size:,}: API p50 / raw p50 = {api['p50'] / raw['p50']:.1f}x")
        results[size] = (api, raw)

    small, large = (results[s] for s in SIZES)
    flat = large[0]["p50"] / small[0]["p50"]
    ratio = max(api["p50"] / raw["p50"] for api, raw in results.values())
    print()
    print("== GET /api/issues?limit=50 (8 clients) ==")
    print(f"{'issues':>8} {'p50 ms':>8} {'p99 ms':>8} {'req/s':>7} {'raw p50':>8} {'ratio':>6}")
    for size, (api, raw) in results.items():
        print(
            f"{size:>8,} {api['p50']:>8.2f} {api['p99']:>8.2f} {api['rps']:>7.0f} "
            f"{raw['p50']:>8.2f} {api['p50'] / raw['p50']:>5.1f}x"
        )
    print(f"p50 10k→100k: {flat:.2f}x (target ≤ 1.3x): {'OK' if flat <= 1.3 else 'MISSED'}")
    print(f"p50 vs raw: ≤ {ratio:.1f}x (target ≤ 10x): {'OK' if ratio <= 10 else 'MISSED'}")
    print(f"total runtime {time.monotonic() - began:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
