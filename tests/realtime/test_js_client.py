"""The browser realtime client's gap and reconnect logic (static/multica/realtime.js), run
with Node's built-in test runner."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def test_realtime_js_client():
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is required for the browser client's unit tests")
    result = subprocess.run(
        [node, "--test", str(REPO / "tests/js/realtime.test.cjs")],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert "# fail 0" in result.stdout
