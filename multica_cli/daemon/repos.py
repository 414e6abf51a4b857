"""``multica repo checkout`` on the daemon side (daemon contract §4.5): a bare clone per
repository under ``<root>/.repos/<workspace>/`` and a git worktree per task inside the task's
work directory, on branch ``agent/<agent>/<task_key>``."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import threading
from pathlib import Path
from typing import Any

GIT_TIMEOUT = 600.0
SSH_SCP = re.compile(r"^[\w.-]+@[\w.-]+:[\w./~-]+$")


class RepoError(Exception):
    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


class RepoBusy(RepoError):
    def __init__(self) -> None:
        super().__init__("repository is busy", 503)


def allowed_url(url: str) -> bool:
    """Network git URLs only (a workspace's list must not reach into this machine's files);
    ``file://`` only when ``MULTICA_DAEMON_ALLOW_FILE_REPOS=1`` (tests)."""
    if url.startswith(("https://", "http://", "ssh://", "git://")) or SSH_SCP.match(url):
        return True
    return url.startswith("file://") and os.environ.get("MULTICA_DAEMON_ALLOW_FILE_REPOS") == "1"


def repo_name(url: str) -> str:
    name = url.rstrip("/").rsplit("/", 1)[-1].rsplit(":", 1)[-1]
    name = name.removesuffix(".git")
    return re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip(".-") or "repo"


def _sanitize_branch_part(text: str) -> str:
    return re.sub(r"[^a-z0-9._-]+", "-", text.lower()).strip("-.") or "agent"


def _git(*args: str, cwd: Path | None = None) -> str:
    env = {**os.environ, "GIT_TERMINAL_PROMPT": "0"}
    git = shutil.which("git")
    if git is None:
        raise RepoError("git is not installed on this machine", 500)
    proc = subprocess.run(  # noqa: S603 - git with fixed subcommands
        [git, *args], cwd=cwd, env=env, capture_output=True, text=True,
        timeout=GIT_TIMEOUT, check=False,
    )  # fmt: skip
    if proc.returncode != 0:
        raise RepoError(f"git {args[0]} failed: {proc.stderr.strip()[-500:]}", 502)
    return proc.stdout.strip()


class RepoCache:
    def __init__(self, root: Path) -> None:
        self.root = root / ".repos"
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    def _lock(self, key: str) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(key, threading.Lock())

    def checkout(
        self,
        *,
        workspace_id: str,
        url: str,
        workdir: Path,
        agent_name: str,
        task_key: str,
        ref: str = "",
        wait: bool = False,
    ) -> dict[str, str]:
        if not allowed_url(url) or url.startswith("-"):
            raise RepoError("repository URL is not a network git URL")
        if ref and (ref.startswith("-") or not re.fullmatch(r"[\w./-]+", ref)):
            raise RepoError("invalid ref")
        name = repo_name(url)
        bare = self.root / workspace_id / f"{name}.git"
        lock = self._lock(str(bare))
        if not lock.acquire(blocking=wait, timeout=GIT_TIMEOUT if wait else -1):
            raise RepoBusy
        try:
            bare.parent.mkdir(parents=True, exist_ok=True)
            if not (bare / "HEAD").exists():
                _git("clone", "--bare", "--quiet", "--", url, str(bare))
            else:
                _git("fetch", "--quiet", "--prune", "origin", "+refs/heads/*:refs/heads/*",
                     cwd=bare)  # fmt: skip
            base = ref or _git("symbolic-ref", "--short", "HEAD", cwd=bare)
            branch = f"agent/{_sanitize_branch_part(agent_name)}/{task_key}"
            dest = workdir / name
            if not dest.exists():
                _git("worktree", "prune", cwd=bare)
                _git("worktree", "add", "--quiet", "-B", branch, str(dest), base, cwd=bare)
            return {"path": str(dest), "branch_name": branch}
        finally:
            lock.release()


def inside(path: Path, parent: Path) -> bool:
    try:
        path.resolve().relative_to(parent.resolve())
    except ValueError:
        return False
    return True


def parse_request(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict) or not isinstance(body.get("url"), str) or not body["url"]:
        raise RepoError("url is required")
    return body
