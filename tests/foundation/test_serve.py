"""``manage.py serve`` (what ``make run`` runs), end to end with real processes.

Starts the supervised stack on the embedded default in a fresh data directory, checks the pages
and the API through the one port, stops it with SIGINT and checks nothing is left running; then
starts it again on the same data directory and checks the data survived.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import psutil
import pytest

REPO = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str, data: dict | None = None) -> tuple[int, bytes]:
    if data is None:
        resp = httpx.get(url, timeout=10)
    else:
        resp = httpx.post(url, json=data, timeout=10)
    return resp.status_code, resp.content


class Stack:
    def __init__(self, data_dir: Path, port: int) -> None:
        env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
        env.pop("MULTICA_EMBEDDED_POSTGRES", None)
        env.pop("MULTICA_EMBEDDED_REDIS", None)
        env.update(
            MULTICA_DATA_DIR=str(data_dir),
            DJANGO_SETTINGS_MODULE="multica_site.settings.local",
            PYTHONUNBUFFERED="1",
        )
        self.log = data_dir.parent / f"serve-{time.monotonic_ns()}.log"
        self.out = self.log.open("wb")
        self.proc = subprocess.Popen(
            [sys.executable, "manage.py", "serve", "--port", str(port)],
            cwd=REPO, env=env, stdout=self.out, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
        self.port = port

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def wait_ready(self, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if "Multica is running at" in self.output():
                return
            if self.proc.poll() is not None:
                pytest.fail(f"serve exited early:\n{self.output()}")
            time.sleep(0.3)
        pytest.fail(f"serve not ready in {timeout}s:\n{self.output()}")

    def descendants(self) -> list[psutil.Process]:
        try:
            return psutil.Process(self.proc.pid).children(recursive=True)
        except psutil.NoSuchProcess:
            return []

    def stop(self) -> int:
        os.kill(self.proc.pid, signal.SIGINT)
        code = self.proc.wait(60)
        self.out.close()
        return code


def _postgres_running(data_dir: Path) -> bool:
    for proc in psutil.process_iter(["cmdline"]):
        cmd = " ".join(proc.info["cmdline"] or [])
        if "postgres" in cmd and f"-D {data_dir}" in cmd:
            return True
    return False


def test_serve_runs_the_stack_and_stops_cleanly(tmp_path):
    data_dir = tmp_path / "data"
    port = _free_port()
    stack = Stack(data_dir, port)
    try:
        stack.wait_ready()
        base = f"http://127.0.0.1:{port}"
        out = stack.output()
        assert "First run: created the owner account" in out
        email = re.search(r"email:\s+(\S+)", out).group(1)
        password = re.search(r"password:\s+(\S+)", out).group(1)
        assert (data_dir / "initial-owner.txt").stat().st_mode & 0o777 == 0o600

        assert _get(f"{base}/health") == (200, b'{"status":"ok"}\n')
        status, body = _get(f"{base}/login")
        assert status == 200
        assert b"Log in to Multica" in body
        status, body = _get(f"{base}/api/schema/")
        assert status == 200
        assert b"openapi" in body
        status, body = _get(f"{base}/auth/login", {"email": email, "password": password})
        assert status == 200, body
        assert json.loads(body)["user"]["email"] == email

        names = {" ".join(p.cmdline()) for p in stack.descendants()}
        assert any("uvicorn" in n for n in names)
        assert any("celery" in n and " worker" in n for n in names)
        assert any("celery" in n and " beat" in n for n in names)
        children = stack.descendants()
        assert _postgres_running(data_dir)
    finally:
        code = stack.stop()
    assert code == 0, stack.output()
    _gone, alive = psutil.wait_procs(children, timeout=10)
    assert not alive, f"orphans left: {alive}"
    assert not _postgres_running(data_dir)

    # Second start on the same data directory: nothing lost, no second bootstrap.
    stack = Stack(data_dir, port)
    try:
        stack.wait_ready()
        assert "First run" not in stack.output()
        status, body = _get(
            f"http://127.0.0.1:{port}/auth/login", {"email": email, "password": password}
        )
        assert status == 200, body
    finally:
        assert stack.stop() == 0
    assert not _postgres_running(data_dir)
