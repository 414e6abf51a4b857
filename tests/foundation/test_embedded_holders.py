"""The embedded PostgreSQL stops with its last live holder, even after a holder was killed
with ``kill -9`` (its pid stays in the wheel's holder list; without pruning, the server would
then run forever)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil

REPO = Path(__file__).resolve().parents[2]

HOLD = """
import sys, time
from pathlib import Path
from multica_site import embedded
embedded.start_postgres(Path(sys.argv[1]), "holders")
print("ready", flush=True)
time.sleep(float(sys.argv[2]))
"""


def _postmaster(pgdata: Path) -> int | None:
    pidfile = pgdata / "postmaster.pid"
    if not pidfile.exists():
        return None
    pid = int(pidfile.read_text().splitlines()[0])
    return pid if psutil.pid_exists(pid) else None


def _hold(pgdata: Path, seconds: float) -> subprocess.Popen:
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(pgdata), str(seconds)],
        cwd=REPO, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "ready"
    return proc


def test_a_killed_holder_does_not_keep_postgres_running(tmp_path):
    pgdata = tmp_path / "pg"
    crashed = _hold(pgdata, 300)
    try:
        postmaster = _postmaster(pgdata)
        assert postmaster
        os.kill(crashed.pid, signal.SIGKILL)  # no exit hook: its pid stays on the list
        crashed.wait(10)
        assert _postmaster(pgdata) == postmaster
        _hold(pgdata, 0).wait(60)  # joins the running server, then exits normally
        deadline = time.monotonic() + 20
        while _postmaster(pgdata) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert _postmaster(pgdata) is None, "the server outlived its last live holder"
    finally:
        pid = _postmaster(pgdata)
        if pid:
            os.kill(pid, signal.SIGTERM)
