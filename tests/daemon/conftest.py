"""A real server (uvicorn on the test database, restartable on a fixed port), a real Redis, and
real daemon processes (``python -m multica_cli.daemon``) with fake agent CLIs on their PATH."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.live_server import REPO, RedisServer, free_port, live_database_url, running_redis

FAKES = Path(__file__).parent / "fakes"


class Server:
    """uvicorn running the project's ASGI app; ``stop``/``start`` keep the same port."""

    def __init__(self, database_url: str, redis: RedisServer) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = dict(os.environ)
        self.env.update(
            DATABASE_URL=database_url,
            REDIS_URL=redis.url,
            DJANGO_SETTINGS_MODULE="tests.daemon.server_settings",
            DEBUG="false",
            DB_CONN_MAX_AGE="0",
            MULTICA_DATA_DIR=tempfile.mkdtemp(prefix="multica-dm-data-"),
            LOG_LEVEL="WARNING",
        )
        self.log = Path(tempfile.mkstemp(prefix="multica-dm-server-", suffix=".log")[1])
        self.proc: subprocess.Popen | None = None
        self.start()

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "multica_site.asgi:application", "--host",
             "127.0.0.1", "--port", str(self.port), "--lifespan", "off", "--log-level", "warning"],
            cwd=REPO, env=self.env, stdout=self.log.open("ab"), stderr=subprocess.STDOUT,
        )  # fmt: skip
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(self.log.read_text())
            try:
                if httpx.get(f"{self.url}/health", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.1)
        raise RuntimeError("server did not start:\n" + self.log.read_text())

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)


@pytest.fixture(scope="module")
def rt_redis():
    with running_redis() as server:
        yield server


@pytest.fixture(scope="module")
def server_db_url(django_db_setup, django_db_blocker) -> str:
    return live_database_url()


@pytest.fixture(scope="module")
def server(server_db_url, rt_redis):
    srv = Server(server_db_url, rt_redis)
    yield srv
    srv.stop()


class DaemonProc:
    """One daemon process with its own HOME (profile, daemon id, state dir, work dirs)."""

    def __init__(self, base: Path, server: Server, token: str, name: str = "d1",
                 slots: int = 4, env: dict[str, str] | None = None) -> None:  # fmt: skip
        self.home = base / name / "home"
        self.fake_state = base / "fake-state"
        self.home.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.log = base / name / "daemon.log"
        self.server = server
        self.slots = slots
        cfg = self.home / ".multica"
        cfg.mkdir(mode=0o700, exist_ok=True)
        (cfg / "config.json").write_text(json.dumps({"server_url": server.url, "token": token}))
        clean = {k: v for k, v in os.environ.items() if not k.startswith("MULTICA_")}
        clean.pop("DJANGO_SETTINGS_MODULE", None)
        self.env = {
            **clean,
            "HOME": str(self.home),
            # The fakes' `#!/usr/bin/env python3` finds this interpreter first.
            "PATH": os.pathsep.join(
                [str(FAKES), str(Path(sys.executable).parent), clean.get("PATH", "")]
            ),
            "FAKE_STATE_DIR": str(self.fake_state),
            "MULTICA_DAEMON_HEALTH_PORT": str(self.port),
            "MULTICA_DAEMON_STATUS_POLL_INTERVAL": "0.3",
            "MULTICA_DAEMON_PREPARE_LEASE_INTERVAL": "2",
            "MULTICA_DAEMON_REPORT_BACKOFF": "0.3",
            "MULTICA_DAEMON_REPORT_BACKOFF_CAP": "1",
            "MULTICA_DAEMON_CANCEL_GRACE": "2",
            "MULTICA_DAEMON_SHUTDOWN_GRACE": "5",
            "MULTICA_DAEMON_REREGISTER_INTERVAL": "1",
            **(env or {}),
        }
        self.proc: subprocess.Popen | None = None

    def start(self, *extra: str) -> DaemonProc:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "multica_cli.daemon", "--foreground",
             "--max-concurrent-tasks", str(self.slots), "--poll-interval", "2s",
             "--heartbeat-interval", "2s", *extra],
            cwd=REPO, env=self.env, stdout=self.log.open("ab"), stderr=subprocess.STDOUT,
        )  # fmt: skip
        self.wait_health(lambda h: h["status"] == "running" and h["workspaces"])
        return self

    def health(self) -> dict[str, Any]:
        return httpx.get(f"http://127.0.0.1:{self.port}/health", timeout=2).json()

    def wait_health(self, ok: Callable[[dict[str, Any]], bool], timeout: float = 30) -> dict:
        deadline = time.monotonic() + timeout
        last: Any = None
        while time.monotonic() < deadline:
            if self.proc and self.proc.poll() is not None:
                raise RuntimeError("daemon exited:\n" + self.log.read_text()[-4000:])
            try:
                last = self.health()
                if ok(last):
                    return last
            except httpx.HTTPError as exc:
                last = exc
            time.sleep(0.1)
        raise AssertionError(f"daemon health not reached: {last}\n{self.log.read_text()[-4000:]}")

    def shutdown(self, timeout: float = 30) -> int:
        assert self.proc is not None
        if self.proc.poll() is None:
            httpx.post(f"http://127.0.0.1:{self.port}/shutdown", timeout=5)
        return self.proc.wait(timeout)

    def kill9(self) -> None:
        assert self.proc is not None
        self.proc.kill()
        self.proc.wait(10)

    def cleanup(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)


def fake_runs(base: Path) -> list[dict[str, Any]]:
    path = base / "fake-state" / "runs.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


class Board:
    """The web API of the live server as the workspace owner."""

    def __init__(self, server: Server, token: str, workspace_id: str) -> None:
        self.http = httpx.Client(
            base_url=server.url,
            headers={"Authorization": f"Bearer {token}", "X-Workspace-ID": workspace_id},
            timeout=30,
        )

    def call(self, method: str, path: str, want: int = 200, **kw: Any) -> Any:
        response = self.http.request(method, path, **kw)
        assert response.status_code == want, f"{method} {path}: {response.text}"
        return response.json() if response.content else None

    def agent(self, runtime_id: str, name: str, **extra: Any) -> dict[str, Any]:
        body = {"name": name, "runtime_id": runtime_id, "visibility": "workspace", **extra}
        return self.call("POST", "/api/agents", 201, json=body)

    def issue(self, title: str, agent_id: str | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {"title": title, "status": "todo"}
        if agent_id:
            body.update(assignee_type="agent", assignee_id=agent_id)
        return self.call("POST", "/api/issues", 201, json=body)


@pytest.fixture
def world(db, make_user, make_workspace, server, tmp_path):
    """An owner, a workspace, the owner's PAT for the daemon, and a Board client."""
    from workspaces.services.auth import token_create
    from workspaces.tokens import issue_jwt

    owner = make_user("owner@example.com", name="Owner")
    workspace = make_workspace(owner=owner, slug="acme", name="Acme")
    _, pat = token_create(user=owner, name="daemon")
    daemons: list[DaemonProc] = []

    class World:
        pass

    w = World()
    w.owner, w.workspace, w.pat, w.base, w.server = owner, workspace, pat, tmp_path, server
    w.board = Board(server, issue_jwt(owner), str(workspace.id))

    def daemon(name: str = "d1", **kw: Any) -> DaemonProc:
        d = DaemonProc(tmp_path, server, pat, name=name, **kw)
        daemons.append(d)
        return d

    w.daemon = daemon
    yield w
    for d in daemons:
        d.cleanup()
    w.board.http.close()
    settle_server_transactions()


def settle_server_transactions(timeout: float = 10.0) -> None:
    """Wait until the server process has no transaction in flight on the test database, so
    the flush after this test does not race (deadlock) with a request the daemons left."""
    from django.db import connection

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND pid <> pg_backend_pid() AND backend_type = 'client backend' "
                "AND state <> 'idle'"
            )
            if cursor.fetchone()[0] == 0:
                return
        time.sleep(0.05)
