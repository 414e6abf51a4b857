"""``manage.py serve``: what ``make run`` runs.

Migrates, creates the first owner and workspace on an empty database, then runs the web server
(uvicorn: HTTP and WebSockets on one port), a Celery worker and Celery beat as one supervised
group. Ctrl-C (SIGINT) or SIGTERM stops the children, then the embedded servers this process
started. If any child dies, the others are stopped too and the command exits non-zero: a half
running stack is worse than a stopped one.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import socket
import subprocess
import sys
import time
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from multica_site import embedded

PR_SET_PDEATHSIG = 1
STOP_TIMEOUT = 10.0


def _die_with_parent() -> None:  # pragma: no cover - runs in the child between fork and exec
    """Linux: the child gets SIGTERM if the supervisor itself is killed (no orphans)."""
    with contextlib.suppress(Exception):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


class Command(BaseCommand):
    help = "Run web (uvicorn), Celery worker and Celery beat as one supervised group."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--host", default=os.environ.get("MULTICA_HOST", "127.0.0.1"))
        parser.add_argument("--port", type=int, default=int(os.environ.get("MULTICA_PORT", "8080")))
        parser.add_argument("--no-worker", action="store_true", help="do not start a Celery worker")
        parser.add_argument("--no-beat", action="store_true", help="do not start Celery beat")
        parser.add_argument("--skip-migrate", action="store_true")

    def handle(self, *args: Any, **opts: Any) -> None:
        host, port = opts["host"], opts["port"]
        if not opts["skip_migrate"]:
            self.stdout.write("Applying migrations…")
            call_command("migrate", interactive=False, verbosity=0)
        call_command("collectstatic", interactive=False, verbosity=0)
        call_command("bootstrap", url=self._url(host, port))

        children = self._spawn(host, port, worker=not opts["no_worker"], beat=not opts["no_beat"])
        stopping = {"signal": None}

        def on_signal(signum: int, _frame: Any) -> None:
            stopping["signal"] = signum

        signal.signal(signal.SIGINT, on_signal)
        signal.signal(signal.SIGTERM, on_signal)
        exit_code = 0
        try:
            if self._wait_until_listening(host, port, children, stopping):
                self.stdout.write(
                    self.style.SUCCESS(f"\nMultica is running at {self._url(host, port)}")
                    + "\n  health:  /health   API docs: /api/docs/   admin: /admin/"
                    + "\n  Press Ctrl-C to stop.\n"
                )
            while stopping["signal"] is None:
                dead = [(name, p) for name, p in children.items() if p.poll() is not None]
                if dead:
                    name, proc = dead[0]
                    self.stderr.write(f"{name} exited with code {proc.returncode}; stopping.")
                    exit_code = 1
                    break
                time.sleep(0.2)
        finally:
            self._stop(children)
            embedded.stop_all()
            self.stdout.write("Stopped.")
        if exit_code:
            raise CommandError("a supervised process exited unexpectedly", returncode=exit_code)

    @staticmethod
    def _url(host: str, port: int) -> str:
        shown = "localhost" if host in ("127.0.0.1", "0.0.0.0", "::") else host  # noqa: S104
        return f"http://{shown}:{port}"

    def _spawn(self, host: str, port: int, *, worker: bool, beat: bool) -> dict[str, Any]:
        py = sys.executable
        commands = {
            "web": [
                py, "-m", "uvicorn", "multica_site.asgi:application",
                "--host", host, "--port", str(port), "--lifespan", "off",
                "--ws-max-size", str(64 * 1024), "--proxy-headers",
            ],
        }  # fmt: skip
        if worker:
            commands["worker"] = [
                py, "-m", "celery", "-A", "multica_site", "worker", "--loglevel", "INFO",
                "--concurrency", "2", "--without-gossip", "--without-mingle",
            ]  # fmt: skip
        if beat:
            commands["beat"] = [
                py, "-m", "celery", "-A", "multica_site", "beat", "--loglevel", "INFO",
                "--schedule", settings.CELERY_BEAT_SCHEDULE_FILENAME,
            ]  # fmt: skip
        env = dict(os.environ)  # carries DATABASE_URL / REDIS_URL of the embedded servers
        env.setdefault("DJANGO_SETTINGS_MODULE", "multica_site.settings.local")
        children: dict[str, Any] = {}
        for name, cmd in commands.items():
            children[name] = subprocess.Popen(  # noqa: S603 - our own interpreter and args
                cmd,
                env=env,
                start_new_session=True,
                preexec_fn=_die_with_parent,  # noqa: PLW1509
            )
            self.stdout.write(f"started {name} (pid {children[name].pid})")
        return children

    def _wait_until_listening(
        self, host: str, port: int, children: dict[str, Any], stopping: dict, timeout: float = 60
    ) -> bool:
        deadline = time.monotonic() + timeout
        target = "127.0.0.1" if host in ("0.0.0.0", "") else host  # noqa: S104
        while time.monotonic() < deadline and stopping["signal"] is None:
            if children["web"].poll() is not None:
                return False
            with contextlib.suppress(OSError), socket.create_connection((target, port), 0.5):
                return True
            time.sleep(0.2)
        return False

    def _stop(self, children: dict[str, Any]) -> None:
        for proc in children.values():
            if proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGTERM)
        deadline = time.monotonic() + STOP_TIMEOUT
        for proc in children.values():
            remaining = max(0.1, deadline - time.monotonic())
            try:
                proc.wait(remaining)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
            # Anything left in the child's process group (e.g. worker pool processes).
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, signal.SIGKILL)
