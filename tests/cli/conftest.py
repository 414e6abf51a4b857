"""The real ``multica`` command (a subprocess, ``python -m multica_cli``) against a real server
process (uvicorn on this run's test database), with ``HOME`` pointed at a temporary directory.

One server process serves the whole session; each test is transactional (the server is another
process, so the data must be committed) and gets fresh seeded data: two users, a workspace, their
PATs and a runtime.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.live_server import REPO, LiveServer, live_database_url, running_redis

CLI_TIMEOUT = 60


@pytest.fixture(scope="session")
def cli_redis():
    with running_redis() as server:
        yield server


@pytest.fixture(scope="session")
def cli_db_url(django_db_setup, django_db_blocker) -> str:
    return live_database_url()


@pytest.fixture(scope="session")
def cli_server(cli_db_url, cli_redis):
    """The project's ASGI app with its own settings (every app, no stubs)."""
    server = LiveServer(cli_db_url, cli_redis, settings_module="multica_site.settings.local")
    yield server
    server.stop()


@dataclass
class Seed:
    workspace_id: str
    workspace_slug: str
    issue_prefix: str
    owner_id: str
    owner_token: str
    member_id: str
    member_token: str
    runtime_id: str
    other_workspace_id: str


@pytest.fixture
def seed(cli_server, transactional_db) -> Seed:
    from tests.runtimes.helpers import make_runtime
    from workspaces.models import Member, Role, User
    from workspaces.services.auth import token_create
    from workspaces.services.workspaces import workspace_create

    owner = User.objects.create_user("cli-owner@example.com", name="Olivia Owner")
    member = User.objects.create_user("cli-member@example.com", name="Mike Member")
    workspace = workspace_create(user=owner, name="Cli Test", slug="cli-test", issue_prefix="CLI")
    Member.objects.create(workspace=workspace, user=member, role=Role.MEMBER)
    other = workspace_create(user=owner, name="Other", slug="cli-other", issue_prefix="OTH")
    _, owner_token = token_create(user=owner, name="cli tests")
    _, member_token = token_create(user=member, name="cli tests")
    runtime = make_runtime(workspace, owner, daemon_id="cli-daemon")
    return Seed(
        workspace_id=str(workspace.id),
        workspace_slug=workspace.slug,
        issue_prefix=workspace.issue_prefix,
        owner_id=str(owner.id),
        owner_token=owner_token,
        member_id=str(member.id),
        member_token=member_token,
        runtime_id=str(runtime.id),
        other_workspace_id=str(other.id),
    )


@dataclass
class Result:
    args: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        return json.loads(self.stdout)

    def ok(self) -> Result:
        assert self.returncode == 0, self.describe()
        return self

    def fails(self, code: int) -> Result:
        assert self.returncode == code, self.describe()
        assert self.stderr.strip(), self.describe()
        return self

    def describe(self) -> str:
        return (
            f"multica {' '.join(self.args)} -> {self.returncode}\n"
            f"stdout:\n{self.stdout[-3000:]}\nstderr:\n{self.stderr[-3000:]}"
        )


class Cli:
    """Runs ``python -m multica_cli`` with HOME in a temporary directory and no MULTICA_* env."""

    def __init__(self, home: Path, server_url: str) -> None:
        self.home = home
        self.server_url = server_url
        self.env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("MULTICA_", "DJANGO_", "FRONTEND_ORIGIN"))
        }
        self.env.update(HOME=str(home), PYTHONPATH=str(REPO), BROWSER="true", NO_COLOR="1")

    @property
    def root(self) -> Path:
        return self.home / ".multica"

    def config(self, profile: str | None = None) -> dict[str, Any]:
        path = (
            self.root / "config.json"
            if profile is None
            else (self.root / "profiles" / profile / "config.json")
        )
        return json.loads(path.read_text())

    def command(self, *args: str) -> list[str]:
        return [sys.executable, "-m", "multica_cli", *args]

    def run(
        self, *args: str, input: str | None = None, env: dict[str, str] | None = None
    ) -> Result:
        proc = subprocess.run(
            self.command(*args),
            input=input,
            capture_output=True,
            text=True,
            env={**self.env, **(env or {})},
            cwd=self.home,
            timeout=CLI_TIMEOUT,
        )
        return Result(args, proc.returncode, proc.stdout, proc.stderr)

    def popen(self, *args: str) -> subprocess.Popen:
        return subprocess.Popen(
            self.command(*args),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=self.env,
            cwd=self.home,
        )


@pytest.fixture
def cli(tmp_path, cli_server) -> Cli:
    home = tmp_path / "home"
    home.mkdir()
    return Cli(home, cli_server.url)


def logged_in(home: Path, server_url: str, token: str, workspace_id: str) -> Cli:
    """A CLI whose default profile is already configured (login itself is tested on its own)."""
    client = Cli(home, server_url)
    client.root.mkdir(mode=0o700)
    path = client.root / "config.json"
    path.write_text(
        json.dumps({"server_url": server_url, "token": token, "workspace_id": workspace_id})
    )
    path.chmod(0o600)
    return client


@pytest.fixture
def owner_cli(tmp_path, cli_server, seed) -> Cli:
    """Logged in as the workspace owner, the seeded workspace selected."""
    home = tmp_path / "owner-home"
    home.mkdir()
    return logged_in(home, cli_server.url, seed.owner_token, seed.workspace_id)


@pytest.fixture
def member_cli(tmp_path, cli_server, seed) -> Cli:
    """Logged in as a plain member of the seeded workspace."""
    home = tmp_path / "member-home"
    home.mkdir()
    return logged_in(home, cli_server.url, seed.member_token, seed.workspace_id)
