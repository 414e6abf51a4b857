"""Login (token and browser), auth status/logout, config, profiles, workspaces, error exit codes."""

from __future__ import annotations

import stat
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from tests.live_server import free_port

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def test_login_with_token_saves_a_private_config(cli, cli_server, seed):
    result = cli.run("--server-url", cli_server.url, "login", "--token", seed.owner_token).ok()
    assert "Authenticated as Olivia Owner (cli-owner@example.com)" in result.stderr
    path = cli.root / "config.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(cli.root.stat().st_mode) == 0o700
    config = cli.config()
    assert config["token"] == seed.owner_token
    assert config["server_url"] == cli_server.url
    # The owner has two workspaces: the first becomes the default, both are listed.
    assert config["workspace_id"] in (seed.workspace_id, seed.other_workspace_id)
    assert "Found 2 workspace(s)" in result.stderr
    assert seed.owner_token not in result.stdout + result.stderr


def test_login_token_prompt_reads_stdin(cli, cli_server, seed):
    cli.run("--server-url", cli_server.url, "login", "--token", input=seed.member_token + "\n").ok()
    assert cli.config()["token"] == seed.member_token
    # Only one workspace: picked automatically.
    assert cli.config()["workspace_id"] == seed.workspace_id


def test_login_rejects_bad_tokens(cli, cli_server):
    cli.run("--server-url", cli_server.url, "login", "--token", "nope").fails(5)
    result = cli.run("--server-url", cli_server.url, "login", "--token", "mul_" + "0" * 40)
    result.fails(3)
    assert len(result.stderr.strip().splitlines()) == 1
    assert not (cli.root / "config.json").exists()


def test_browser_login_with_local_callback(cli, cli_server, seed):
    from workspaces.models import User
    from workspaces.tokens import issue_jwt

    cli.run("config", "set", "server_url", cli_server.url).ok()
    cli.run("config", "set", "app_url", cli_server.url).ok()
    proc = cli.popen("login", "--no-browser")
    try:
        url = None
        lines = []
        for line in proc.stderr:
            lines.append(line)
            if "/login?cli_callback=" in line:
                url = line.strip()
                break
        assert url, "".join(lines)
        assert url.startswith(f"{cli_server.url}/login?")
        query = parse_qs(urlsplit(url).query)
        callback, state = query["cli_callback"][0], query["cli_state"][0]
        assert callback.startswith("http://localhost:")
        assert callback.endswith("/callback")
        assert len(state) == 32
        jwt = issue_jwt(User.objects.get(id=seed.owner_id))
        # A wrong state is refused and the CLI keeps waiting.
        assert httpx.get(callback, params={"token": jwt, "state": "x" * 32}).status_code == 400
        assert httpx.get(callback, params={"state": state}).status_code == 400
        ok = httpx.get(callback, params={"token": jwt, "state": state})
        assert ok.status_code == 200
        assert "Authentication successful" in ok.text
        rest = proc.stderr.read()
        assert proc.wait(30) == 0, rest
    finally:
        if proc.poll() is None:
            proc.kill()
    config = cli.config()
    assert config["token"].startswith("mul_")  # a PAT was minted; the JWT is not stored
    assert config["token"] != jwt
    assert config["app_url"] == cli_server.url
    from workspaces.models import PersonalAccessToken

    names = list(
        PersonalAccessToken.objects.filter(user_id=seed.owner_id).values_list("name", flat=True)
    )
    assert any(name.startswith("CLI (") for name in names)


def test_auth_status_and_logout(cli, cli_server, seed):
    cli.run("auth", "status").fails(3)
    cli.run("--server-url", cli_server.url, "login", "--token", seed.member_token).ok()
    status = cli.run("auth", "status").ok()
    assert "Mike Member (cli-member@example.com)" in status.stderr
    assert seed.member_token[:12] + "..." in status.stderr
    assert seed.member_token not in status.stderr + status.stdout
    as_json = cli.run("auth", "status", "--output", "json").ok().json()
    assert as_json["user"]["email"] == "cli-member@example.com"
    assert as_json["workspace_id"] == seed.workspace_id
    cli.run("auth", "logout").ok()
    assert "token" not in cli.config()
    assert cli.config()["server_url"] == cli_server.url
    cli.run("issue", "list").fails(3)


def test_config_show_and_set(cli):
    cli.run("config", "set", "server_url", "ws://example.test:9000/ws").ok()
    cli.run("config", "set", "max_concurrent_tasks", "4").ok()
    cli.run("config", "set", "poll_interval", "10s").ok()
    cli.run("config", "set", "disable_auto_update", "true").ok()
    cli.run("config", "set", "max_concurrent_tasks", "zero").fails(5)
    cli.run("config", "set", "poll_interval", "soon").fails(5)
    cli.run("config", "set", "no_such_key", "x").fails(5)
    config = cli.config()
    assert config == {
        "server_url": "http://example.test:9000",
        "max_concurrent_tasks": 4,
        "poll_interval": "10s",
        "disable_auto_update": True,
    }
    shown = cli.run("config", "show").ok().stdout
    assert "http://example.test:9000" in shown
    assert "max_concurrent_tasks:" in shown
    as_json = cli.run("config", "show", "--output", "json").ok().json()
    assert as_json["config"]["poll_interval"] == "10s"
    assert as_json["config"]["token_set"] is False
    cli.run("config", "set", "poll_interval", "").ok()
    assert "poll_interval" not in cli.config()


def test_named_profiles_and_task_config_root(cli, cli_server, seed, tmp_path):
    cli.run("--profile", "work", "--server-url", cli_server.url, "login", "--token",
            seed.member_token).ok()  # fmt: skip
    path = cli.root / "profiles" / "work" / "config.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert cli.config("work")["token"] == seed.member_token
    assert not (cli.root / "config.json").exists()
    cli.run("--profile", "work", "workspace", "list").ok()
    cli.run("workspace", "list").fails(3)  # the default profile is not logged in
    cli.run("--profile", "../evil", "config", "show").fails(1)
    # MULTICA_TASK_CONFIG_ROOT replaces ~/.multica.
    root = tmp_path / "task-root"
    cli.run("config", "set", "device_name", "box", env={"MULTICA_TASK_CONFIG_ROOT": str(root)}).ok()
    assert (root / "config.json").exists()


def test_env_overrides_config(cli, cli_server, seed):
    cli.run("config", "set", "server_url", "http://127.0.0.1:1").ok()
    env = {
        "MULTICA_SERVER_URL": cli_server.url,
        "MULTICA_TOKEN": seed.member_token,
        "MULTICA_WORKSPACE_ID": seed.workspace_id,
    }
    listed = cli.run("issue", "list", "--output", "json", env=env).ok().json()
    assert "issues" in listed
    # The flag beats the environment.
    cli.run("--server-url", "http://127.0.0.1:1", "issue", "list", env=env).fails(2)


def test_workspace_list_get_use(owner_cli, seed):
    table = owner_cli.run("workspace", "list").ok().stdout
    assert "cli-test" in table
    assert "cli-other" in table
    assert "SLUG" in table
    listed = owner_cli.run("workspace", "list", "--output", "json").ok().json()
    assert {w["id"] for w in listed} == {seed.workspace_id, seed.other_workspace_id}
    got = owner_cli.run("workspace", "get").ok().json()
    assert got["id"] == seed.workspace_id
    owner_cli.run("workspace", "switch", seed.other_workspace_id[:8]).ok()
    assert owner_cli.config()["workspace_id"] == seed.other_workspace_id
    owner_cli.run("workspace", "use", "no-such-slug").fails(4)
    owner_cli.run("workspace", "use", seed.workspace_slug).ok()
    assert owner_cli.config()["workspace_id"] == seed.workspace_id
    members = owner_cli.run("workspace", "members", "--output", "json").ok().json()
    assert {m["email"] for m in members} == {"cli-owner@example.com", "cli-member@example.com"}


def test_exit_codes(owner_cli, cli, seed):
    # Not found → 4, one line on stderr.
    missing = owner_cli.run("issue", "get", f"{seed.issue_prefix}-99999").fails(4)
    assert len(missing.stderr.strip().splitlines()) == 1
    # Bad token → 3.
    owner_cli.run("issue", "list", env={"MULTICA_TOKEN": "mul_" + "f" * 40}).fails(3)
    # Server down → 2.
    down = f"http://127.0.0.1:{free_port()}"
    result = owner_cli.run("--server-url", down, "issue", "list").fails(2)
    assert "cannot reach" in result.stderr
    # Validation (server 400) → 5; usage errors → 5 too.
    owner_cli.run("issue", "create", "--title", "x", "--priority", "whenever").fails(5)
    owner_cli.run("issue", "frobnicate").fails(5)
    owner_cli.run("issue", "get", "not-an-id").fails(5)
    owner_cli.run("--output", "yaml", "issue", "list").fails(5)
    # No workspace selected → 1 with a hint.
    fresh = cli.run("--server-url", owner_cli.config()["server_url"], "issue", "list",
                    env={"MULTICA_TOKEN": seed.owner_token})  # fmt: skip
    fresh.fails(1)
    assert "workspace" in fresh.stderr


def test_version(cli):
    assert cli.run("version").ok().stdout.startswith("multica ")
    assert cli.run("version", "--output", "json").ok().json()["implementation"] == "python"
