"""The CLI package stays free of Django, and its pure helpers behave as the spec says."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.live_server import REPO

IMPORT_ALL = """
import importlib, pkgutil, sys
import multica_cli
names = [m.name for m in pkgutil.walk_packages(multica_cli.__path__, "multica_cli.")
         if not m.name.endswith(".__main__")]
for name in names:
    importlib.import_module(name)
assert "multica_cli.main" in sys.modules and "multica_cli.commands.issue" in sys.modules
bad = sorted(m for m in sys.modules if m == "django" or m.startswith(("django.", "rest_framework")))
print(len(names), bad)
sys.exit(1 if bad else 0)
"""


def test_no_module_of_the_cli_imports_django():
    env = {"PATH": "/usr/bin:/bin", "HOME": "/nonexistent", "PYTHONPATH": str(REPO)}
    proc = subprocess.run(
        [sys.executable, "-c", IMPORT_ALL], capture_output=True, text=True, env=env, cwd=REPO,
        timeout=60,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    count = int(proc.stdout.split()[0])
    assert count >= 12  # every command module was imported, not just the package


def test_health_port_per_profile():
    from multica_cli.config import health_port

    assert health_port(None) == 19514
    assert health_port("") == 19514
    assert health_port("work") == 19514 + 1 + sum(b"work") % 1000


@pytest.mark.parametrize(
    ("raw", "seconds"),
    [("30", 30.0), ("1.5", 1.5), ("45s", 45.0), ("1m30s", 90.0), ("500ms", 0.5), ("2h", 7200.0)],
)
def test_durations(raw, seconds):
    from multica_cli.client import parse_duration

    assert parse_duration(raw) == seconds


def test_exit_codes_by_status():
    from multica_cli.client import exit_code_for_status

    assert [exit_code_for_status(s) for s in (None, 400, 401, 403, 404, 409, 422, 500)] == [
        2, 5, 3, 3, 4, 1, 5, 1,
    ]  # fmt: skip


def test_server_url_normalization():
    from multica_cli.config import normalize_server_url

    assert normalize_server_url("ws://localhost:8080/ws") == "http://localhost:8080"
    assert normalize_server_url("wss://api.example.com/ws?x=1#f") == "https://api.example.com"
    assert normalize_server_url("https://example.com/") == "https://example.com"


def test_global_flags_anywhere():
    from multica_cli.main import split_global_flags

    rest, found = split_global_flags(
        ["issue", "get", "CLI-1", "--output", "json", "--workspace=w1", "--debug", "--", "--x"]
    )
    assert rest == ["issue", "get", "CLI-1", "--", "--x"]
    assert found == {"output": "json", "workspace_id": "w1", "debug": True}


def test_only_the_running_command_module_is_imported():
    from multica_cli.main import COMMAND_MODULES, modules_for

    assert modules_for(["issue", "list"]) == ["issue"]
    assert modules_for(["login", "--token", "x"]) == ["auth"]
    assert modules_for(["--help"]) == COMMAND_MODULES
    assert modules_for(["nonsense"]) == COMMAND_MODULES


def test_profiles_precedence_and_atomic_private_files(tmp_path, monkeypatch):
    import stat

    from multica_cli import config

    monkeypatch.setenv("HOME", str(tmp_path))
    for name in ("MULTICA_TASK_CONFIG_ROOT", "MULTICA_SERVER_URL", "MULTICA_WORKSPACE_ID",
                 "MULTICA_TOKEN", "MULTICA_APP_URL", "FRONTEND_ORIGIN"):  # fmt: skip
        monkeypatch.delenv(name, raising=False)
    profile = config.Profile("work", "http://a.test", "http://app.test", "mul_x", "ws-1",
                             {"device_name": "box"})  # fmt: skip
    config.save_profile(profile)
    path = tmp_path / ".multica" / "profiles" / "work" / "config.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(config.state_dir("work").stat().st_mode) == 0o700
    assert list(path.parent.glob("*.tmp")) == []
    loaded = config.load_profile("work")
    assert (loaded.server_url, loaded.app_url, loaded.token, loaded.workspace_id) == (
        "http://a.test", "http://app.test", "mul_x", "ws-1",
    )  # fmt: skip
    assert loaded.data["device_name"] == "box"
    monkeypatch.setenv("MULTICA_SERVER_URL", "http://env.test")
    monkeypatch.setenv("MULTICA_WORKSPACE_ID", "ws-env")
    monkeypatch.setenv("MULTICA_TOKEN", "mul_env")
    assert config.load_profile("work").server_url == "http://env.test"
    flagged = config.load_profile("work", server_url="http://flag.test", workspace_id="ws-flag")
    assert (flagged.server_url, flagged.workspace_id, flagged.token) == (
        "http://flag.test", "ws-flag", "mul_env",
    )  # fmt: skip
    assert config.load_profile(None).server_url == "http://env.test"  # default profile: env only
    monkeypatch.setenv("MULTICA_TASK_CONFIG_ROOT", str(tmp_path / "task"))
    assert config.config_root() == tmp_path / "task"
    assert config.state_dir("p") == tmp_path / "task" / "profiles" / "p"
