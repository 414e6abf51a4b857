"""``multica setup self-host`` against the live server: probe, config, login, daemon start."""

from __future__ import annotations

import pytest

from tests.live_server import free_port

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def test_setup_self_host_configures_and_logs_in(cli, cli_server, seed):
    result = cli.run(
        "setup", "self-host", "--server-url", cli_server.url, "--token", seed.member_token,
        "--no-daemon",
    ).ok()  # fmt: skip
    config = cli.config()
    assert config["server_url"] == cli_server.url
    # No --app-url: the server's advertised app URL (GET /api/config), not a guess.
    assert config["app_url"].startswith("http")
    assert config["token"] == seed.member_token
    assert config["workspace_id"] == seed.workspace_id
    assert "Authenticated as Mike Member" in result.stderr
    # A second run does not overwrite a config for another server without --yes.
    cli.run("setup", "self-host", "--server-url", "http://127.0.0.1:9", "--app-url",
            "http://127.0.0.1:9").fails(2)  # fmt: skip
    refused = cli.run("setup", "cloud", "--token", seed.member_token, "--no-daemon").fails(1)
    assert "--yes" in refused.stderr
    assert cli.config()["server_url"] == cli_server.url


def test_setup_self_host_with_explicit_app_url(cli, cli_server, seed):
    cli.run(
        "setup", "self-host", "--server-url", cli_server.url, "--app-url", "http://app.test/",
        "--token", seed.owner_token, "--no-daemon",
    ).ok()  # fmt: skip
    assert cli.config()["app_url"] == "http://app.test"


def test_setup_self_host_refuses_a_server_that_is_down(cli):
    down = f"http://127.0.0.1:{free_port()}"
    cli.run("setup", "self-host", "--server-url", down, "--token", "mul_x", "--no-daemon").fails(2)
    assert not (cli.root / "config.json").exists()


def test_setup_starts_the_daemon(cli, cli_server, seed):
    port = str(free_port())
    env = {"MULTICA_DAEMON_HEALTH_PORT": port, "PATH": "/usr/bin:/bin"}
    try:
        result = cli.run(
            "setup", "self-host", "--server-url", cli_server.url, "--token", seed.owner_token,
            env=env,
        )  # fmt: skip
        assert result.returncode == 0, result.describe()
        assert "Starting the daemon" in result.stderr
        status = cli.run("daemon", "status", "--output", "json", env=env)
        assert status.returncode == 0, status.describe()
        assert status.json()["status"] in ("starting", "running")
    finally:
        cli.run("daemon", "stop", env=env)
