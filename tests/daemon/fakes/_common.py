"""Shared helpers of the fake agent CLIs (stdlib only: they run as separate processes)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path


def emit(obj: dict) -> None:
    try:
        sys.stdout.write(json.dumps(obj) + "\n")
        sys.stdout.flush()
    except BrokenPipeError:  # the daemon died (kill -9): so do we
        os._exit(141)


def state_dir() -> Path:
    path = Path(os.environ.get("FAKE_STATE_DIR") or "/tmp/multica-fake-state")  # noqa: S108
    (path / "sessions").mkdir(parents=True, exist_ok=True)
    return path


def log_run(provider: str, **extra: object) -> None:
    """One line per run: which task, with which token kind, resumed from what."""
    entry = {
        "provider": provider,
        "task": os.environ.get("MULTICA_TASK_ID", ""),
        "token_prefix": os.environ.get("MULTICA_TOKEN", "")[:4],
        "server": os.environ.get("MULTICA_SERVER_URL", ""),
        "workspace": os.environ.get("MULTICA_WORKSPACE_ID", ""),
        "slot": os.environ.get("MULTICA_TASK_SLOT", ""),
        "pid": os.getpid(),
        "cwd": str(Path.cwd()),
        "blocked_leak": os.environ.get("HOME") == "/leak" or "FAKE_BLOCKED" in os.environ,
        "custom": os.environ.get("FAKE_CUSTOM", ""),
        "time": time.time(),
        **extra,
    }
    with (state_dir() / "runs.jsonl").open("a") as fh:
        fh.write(json.dumps(entry) + "\n")


def issue_id() -> str:
    try:
        ctx = json.loads(Path(".multica/daemon_task_context.json").read_text())
    except (OSError, ValueError):
        return ""
    return str(ctx.get("issue_id") or "")


def multica(*args: str) -> tuple[int, str]:
    """Run the real ``multica`` CLI the daemon put on PATH, with the task's environment."""
    proc = subprocess.run(["multica", *args], capture_output=True, text=True, timeout=60)
    return proc.returncode, (proc.stdout + proc.stderr).strip()


def mode() -> str:
    return os.environ.get("FAKE_MODE", "ok")


def pause() -> None:
    time.sleep(float(os.environ.get("FAKE_SLEEP", "0")))
