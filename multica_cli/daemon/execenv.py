"""A task's execution environment (daemon contract §4): directories, skills, the runtime brief,
context files and the agent process's environment."""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from multica_cli.daemon.providers import Provider

BRIEF_BEGIN = "<!-- BEGIN MULTICA-RUNTIME (auto-managed; do not edit) -->"
BRIEF_END = "<!-- END MULTICA-RUNTIME -->"
ROOT_MARKER = {"managed_by": "multica-daemon-task"}

BLOCKED_ENV = frozenset(
    {"HOME", "PATH", "USER", "SHELL", "TERM", "TMPDIR", "TMP", "TEMP", "CODEX_HOME",
     "REASONIX_STATE_HOME", "CURSOR_DATA_DIR", "OPENCLAW_CONFIG_PATH", "OPENCLAW_INCLUDE_ROOTS"}
)  # fmt: skip
CLAUDE_MARKERS = frozenset(
    {"CLAUDECODE", "CLAUDE_CODE_ENTRYPOINT", "CLAUDE_CODE_EXECPATH", "CLAUDE_CODE_SESSION_ID",
     "CLAUDE_CODE_SSE_PORT"}
)  # fmt: skip


def _write(path: Path, text: str, mode: int = 0o644) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    with contextlib.suppress(OSError):
        path.chmod(mode)


def _write_json(path: Path, data: Any) -> None:
    _write(path, json.dumps(data, indent=2) + "\n")


def task_key(task_id: str) -> str:
    return task_id.replace("-", "")[-12:]


def slugify(name: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    return slug or "skill"


def write_root_marker(root: Path) -> None:
    _write_json(root / ".multica" / "daemon_task_context.json", ROOT_MARKER)


@dataclass
class TaskEnv:
    root: Path  # env root: <root>/<workspace>/<task_key>
    workdir: Path
    tmpdir: Path
    config_root: Path
    provider_home: Path | None
    reused: bool

    def cleanup(self) -> None:
        shutil.rmtree(self.tmpdir, ignore_errors=True)


def _provenance_matches(env_root: Path, task: dict[str, Any]) -> bool:
    try:
        meta = json.loads((env_root / ".managed_env.json").read_text())
    except (OSError, ValueError):
        return False
    return (
        meta.get("agent_id") == task.get("agent_id")
        and (meta.get("issue_id") or "") == (task.get("issue_id") or "")
        and meta.get("workspace_id") == task.get("workspace_id")
    )


def prepare(root: Path, task: dict[str, Any], provider: Provider) -> TaskEnv:
    """Create (or reuse, for a follow-up on the same agent and issue) the task's directories
    and write its context files, skills and brief."""
    ws = str(task["workspace_id"])
    prior = str(task.get("prior_work_dir") or "")
    env_root: Path | None = None
    reused = False
    if prior:
        prior_path = Path(prior)
        candidate = prior_path.parent
        if (
            prior_path.name == "workdir"
            and candidate.parent == root / ws
            and prior_path.is_dir()
            and _provenance_matches(candidate, task)
        ):
            env_root, reused = candidate, True
    if env_root is None:
        env_root = root / ws / task_key(str(task["id"]))
    workdir = env_root / "workdir"
    workdir.mkdir(parents=True, exist_ok=True)
    for sub in ("output", "logs"):
        (env_root / sub).mkdir(exist_ok=True)
    config_root = env_root / "multica-config"
    config_root.mkdir(mode=0o700, exist_ok=True)
    _write(env_root / ".task_owner", str(task["id"]) + "\n")
    _write_json(env_root / ".managed_env.json", {
        "managed_by": "multica-daemon-managed-env", "workspace_id": ws,
        "issue_id": task.get("issue_id") or "", "agent_id": task.get("agent_id"),
    })  # fmt: skip
    ctx: dict[str, Any] = {"managed_by": "multica-daemon-task", "agent_id": task.get("agent_id")}
    if task.get("issue_id"):
        ctx["issue_id"] = task["issue_id"]
    _write_json(workdir / ".multica" / "daemon_task_context.json", ctx)
    if task.get("project_id"):
        _write_json(workdir / ".multica" / "project" / "resources.json", {
            "project_id": task.get("project_id"), "project_title": task.get("project_title"),
            "project_description": task.get("project_description"),
            "resources": task.get("project_resources") or [],
        })  # fmt: skip
    _write(workdir / ".agent_context" / "issue_context.md", issue_context(task))

    provider_home = None
    if provider.key == "codex":
        provider_home = env_root / "codex-home"
        prepare_codex_home(provider_home, task)
    elif provider.key == "hermes":
        provider_home = env_root / "hermes-home"
        provider_home.mkdir(exist_ok=True)
    skills_dir = provider.skills_path()
    if skills_dir.startswith("$"):
        target = (provider_home or env_root) / skills_dir.split("/", 1)[1]
    else:
        target = workdir / skills_dir
    write_skills(target, (task.get("agent") or {}).get("skills") or [])
    write_brief(workdir / provider.brief_file, brief(task, provider))
    base = os.environ.get("MULTICA_AGENT_TEMP_BASE") or None
    tmpdir = Path(tempfile.mkdtemp(prefix="multica-task-", dir=base))
    tmpdir.chmod(0o700)
    return TaskEnv(env_root, workdir, tmpdir, config_root, provider_home, reused)


def prepare_codex_home(home: Path, task: dict[str, Any]) -> None:
    home.mkdir(parents=True, exist_ok=True)
    user_home = Path(os.environ.get("CODEX_HOME") or Path.home() / ".codex")
    auth = user_home / "auth.json"
    if auth.exists() and not (home / "auth.json").exists():
        with contextlib.suppress(OSError):
            (home / "auth.json").symlink_to(auth)
    config = ""
    with contextlib.suppress(OSError):
        config = (user_home / "config.toml").read_text()
    config = re.sub(r"(?s)\n?# BEGIN MULTICA-MANAGED.*?# END MULTICA-MANAGED\n?", "", config)
    managed = ['sandbox_mode = "danger-full-access"']
    mcp = (task.get("agent") or {}).get("mcp_config")
    servers = (mcp or {}).get("mcpServers") if isinstance(mcp, dict) else None
    for name, spec in (servers or {}).items():
        if not isinstance(spec, dict):
            continue
        managed.append(f"[mcp_servers.{json.dumps(str(name))}]")
        for key in ("command", "url"):
            if spec.get(key):
                managed.append(f"{key} = {json.dumps(str(spec[key]))}")
        if spec.get("args"):
            managed.append(f"args = {json.dumps([str(a) for a in spec['args']])}")
    block = "# BEGIN MULTICA-MANAGED\n" + "\n".join(managed) + "\n# END MULTICA-MANAGED\n"
    # Top-level keys must precede tables in TOML: the managed block goes first.
    _write(home / "config.toml", block + config)


def write_skills(target: Path, skills: list[dict[str, Any]]) -> None:
    for skill in skills:
        if not isinstance(skill, dict):
            continue
        slug = slugify(str(skill.get("name") or ""))
        directory = target / slug
        directory.mkdir(parents=True, exist_ok=True)
        content = str(skill.get("content") or "")
        description = str(skill.get("description") or "").replace("\n", " ")
        if content.startswith("---"):
            content = re.sub(r"(?m)^name:.*$", f"name: {slug}", content, count=1)
        else:
            content = f"---\nname: {slug}\ndescription: {json.dumps(description)}\n---\n\n{content}"
        _write(directory / "SKILL.md", content)
        for f in skill.get("files") or []:
            rel = str(f.get("path") or "")
            if not rel or rel == "SKILL.md" or rel.startswith("/") or ".." in Path(rel).parts:
                continue
            _write(directory / rel, str(f.get("content") or ""))


def write_brief(path: Path, body: str) -> None:
    """The runtime brief inside its marker block; a user's own file around it is preserved."""
    block = f"{BRIEF_BEGIN}\n{body.rstrip()}\n{BRIEF_END}\n"
    existing = ""
    with contextlib.suppress(OSError):
        existing = path.read_text()
    if BRIEF_BEGIN in existing and BRIEF_END in existing:
        head, rest = existing.split(BRIEF_BEGIN, 1)
        tail = rest.split(BRIEF_END, 1)[1].lstrip("\n")
        text = head + block + tail
    elif existing.strip():
        text = existing.rstrip("\n") + "\n\n" + block
    else:
        text = block
    _write(path, text)


def issue_context(task: dict[str, Any]) -> str:
    lines = ["# Task context", "", f"- task: {task.get('id')}", f"- kind: {task.get('kind')}"]
    if task.get("issue_id"):
        lines.append(f"- issue: {task['issue_id']}")
    if task.get("trigger_comment_id"):
        lines.append(f"- triggered by comment: {task['trigger_comment_id']}")
    return "\n".join(lines) + "\n"


def brief(task: dict[str, Any], provider: Provider) -> str:
    agent = task.get("agent") or {}
    issue = task.get("issue_id") or ""
    parts = [
        f"# You are {agent.get('name') or 'an agent'}, working in a Multica workspace",
        "",
        "Multica is the team's issue board. You were started by the Multica daemon on this "
        "machine to work on one task; people follow your progress there.",
    ]
    if agent.get("instructions"):
        parts += ["", "## Your instructions", "", str(agent["instructions"])]
    if task.get("workspace_context"):
        parts += ["", "## About this workspace", "", str(task["workspace_context"])]
    parts += [
        "",
        "## Talking to Multica",
        "",
        "Always use the `multica` command (already configured for this task) to read and "
        "write the board:",
        "",
        "- `multica issue get <issue> --output json` — the issue",
        "- `multica issue comment list <issue> --output json` — its comments",
        '- `multica issue comment add <issue> --content "…"` — reply (add `--parent <id>` '
        "to answer in a thread)",
        "- `multica issue status <issue> <status>` — move the issue",
    ]
    statuses = task.get("issue_statuses") or []
    if statuses:
        keys = ", ".join(f"`{s.get('key')}`" for s in statuses if isinstance(s, dict))
        parts += ["", f"Statuses of this workspace: {keys}."]
    repos = [r for r in task.get("repos") or [] if isinstance(r, dict) and r.get("url")]
    if repos:
        parts += ["", "## Repositories", "",
                  "Nothing is checked out yet. To work on a repository, ask this machine's "
                  "daemon for a git worktree inside your work directory (it answers with "
                  "`path` and `branch_name`):", "",
                  "```sh",
                  'curl -s -X POST "http://127.0.0.1:$MULTICA_DAEMON_PORT/repo/checkout" \\',
                  '  -H "Authorization: Bearer $MULTICA_TOKEN" \\',
                  '  -H "Content-Type: application/json" \\',
                  """  -d '{"url": "<repository url>", "workdir": "'"$PWD"'"}'""",
                  "```", ""]  # fmt: skip
        for r in repos:
            desc = f" — {r['description']}" if r.get("description") else ""
            parts.append(f"- {r['url']}{desc}")
    skills = agent.get("skills") or []
    if skills:
        parts += ["", "## Skills", ""]
        for s in skills:
            parts.append(f"- {slugify(str(s.get('name') or ''))}: {s.get('description') or ''}")
    parts += [
        "",
        "## Output",
        "",
        "Your final message is posted on the issue as your result unless you already "
        "commented yourself; keep it short and factual.",
    ]
    if issue:
        parts += ["", f"Your issue ID is `{issue}`."]
    return "\n".join(parts) + "\n"


def prompt(task: dict[str, Any], *, continuity_lost: bool = False) -> str:
    """The user turn for the task's kind (daemon contract §4.6)."""
    issue = task.get("issue_id") or ""
    lines: list[str] = []
    if continuity_lost:
        lines += ["(Your previous session on this issue could not be resumed; re-read the "
                  "issue and its comments before continuing.)", ""]  # fmt: skip
    if task.get("chat_session_id"):
        lines.append(str(task.get("chat_message") or ""))
        ids = [str(a.get("id")) for a in task.get("chat_message_attachments") or []]
        if ids:
            lines += ["", "Attachments: " + ", ".join(ids)]
        return "\n".join(lines)
    if task.get("autopilot_run_id"):
        lines += [
            "You are running an autopilot of this Multica workspace.",
            f"Autopilot: {task.get('autopilot_title') or ''}",
            str(task.get("autopilot_description") or ""),
        ]
        if task.get("autopilot_trigger_payload"):
            payload = json.dumps(task["autopilot_trigger_payload"], indent=2)
            lines += ["", "Trigger payload:", payload]
        return "\n".join(lines)
    if not issue:
        request = str(task.get("quick_create_prompt") or task.get("trigger_summary") or "")
        lines += [
            "Create exactly one issue in this Multica workspace from the request below, with "
            "`multica issue create --title … [--description …]`, then reply with its key.",
            "",
            request,
        ]
        if task.get("parent_issue_id"):
            lines += ["", f"Make it a sub-issue of {task['parent_issue_id']}."]
        return "\n".join(lines)
    lines += [
        "You are a local coding agent for a Multica workspace.",
        f"Your issue ID is {issue}.",
        f"Start with `multica issue get {issue} --output json`, then read the discussion with "
        f"`multica issue comment list {issue} --output json`.",
    ]
    if task.get("trigger_comment_content"):
        lines += ["", "[NEW COMMENT]", f"{task.get('trigger_author_name') or 'Someone'} wrote:",
                  str(task["trigger_comment_content"])]  # fmt: skip
        for c in task.get("coalesced_comments") or []:
            if c.get("content") == task.get("trigger_comment_content"):
                continue
            lines += ["", f"[COMMENT by {c.get('author_name') or c.get('author_type')} at "
                          f"{c.get('created_at')}]", str(c.get("content") or "")]  # fmt: skip
        lines += ["", "Reply to the comment in its thread when you are done."]
    if task.get("handoff_note"):
        lines += ["", "Handoff note:", str(task["handoff_note"])]
    return "\n".join(lines)


def multica_bin_dir() -> str:
    """The directory whose ``multica`` is this very build (prepended to the agent's PATH)."""
    here = Path(sys.executable).parent
    if (here / "multica").exists():
        return str(here)
    found = shutil.which("multica")
    return str(Path(found).parent) if found else str(here)


def build_env(
    task: dict[str, Any],
    env: TaskEnv,
    *,
    server_url: str,
    slot: int,
    health_port: int,
    workspaces_root: Path,
) -> dict[str, str]:
    """Parent environment minus ``MULTICA_*`` and Claude markers → the agent's ``custom_env``
    (blocked keys dropped) → platform values, applied last so nothing overrides them."""
    token = str(task.get("auth_token") or "")
    if not token.startswith("mat_"):
        raise ValueError("refusing to run a task without a task token")
    out = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("MULTICA_")
        and k not in CLAUDE_MARKERS
        and not k.startswith("CLAUDECODE_")
    }
    custom = (task.get("agent") or {}).get("custom_env") or {}
    for raw_key, value in custom.items():
        key = str(raw_key)
        if key.startswith("MULTICA_") or key in BLOCKED_ENV or not key:
            continue
        out[key] = str(value)
    agent = task.get("agent") or {}
    out.update({
        "MULTICA_TOKEN": token,
        "MULTICA_SERVER_URL": server_url,
        "MULTICA_WORKSPACE_ID": str(task.get("workspace_id") or ""),
        "MULTICA_AGENT_ID": str(task.get("agent_id") or ""),
        "MULTICA_AGENT_NAME": str(agent.get("name") or ""),
        "MULTICA_TASK_ID": str(task.get("id") or ""),
        "MULTICA_TASK_SLOT": str(slot),
        "MULTICA_DAEMON_PORT": str(health_port),
        "MULTICA_TASK_CONFIG_ROOT": str(env.config_root),
        "MULTICA_TASK_WORKSPACES_ROOT": str(workspaces_root),
        "TMPDIR": str(env.tmpdir), "TMP": str(env.tmpdir), "TEMP": str(env.tmpdir),
        "PATH": multica_bin_dir() + os.pathsep + os.environ.get("PATH", ""),
    })  # fmt: skip
    if env.provider_home is not None and env.provider_home.name == "codex-home":
        out["CODEX_HOME"] = str(env.provider_home)
        if sys.platform != "darwin":
            out["MULTICA_REPO_CHECKOUT_MODE"] = "isolated"
    if env.provider_home is not None and env.provider_home.name == "hermes-home":
        out["HERMES_HOME"] = str(env.provider_home)
        out["HERMES_YOLO_MODE"] = "1"
    if task.get("autopilot_run_id"):
        out["MULTICA_AUTOPILOT_RUN_ID"] = str(task["autopilot_run_id"])
    if task.get("autopilot_id"):
        out["MULTICA_AUTOPILOT_ID"] = str(task["autopilot_id"])
    return out


def write_gc_meta(env: TaskEnv, task: dict[str, Any]) -> None:
    meta = {"kind": task.get("kind"), "workspace_id": task.get("workspace_id"),
            "completed_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}  # fmt: skip
    if task.get("issue_id"):
        meta["issue_id"] = task["issue_id"]
    else:
        meta["task_id"] = task.get("id")
    with contextlib.suppress(OSError):
        _write_json(env.root / ".gc_meta.json", meta)


def gc_task_dirs(root: Path, ttl: float, active: set[Path], now: float | None = None) -> int:
    """Remove finished tasks' env roots whose ``.gc_meta.json`` is older than ``ttl`` seconds
    (never one in use); → how many were removed. A later follow-up starts a fresh session."""
    now = time.time() if now is None else now
    removed = 0
    for meta in root.glob("*/*/.gc_meta.json"):
        env_root = meta.parent
        if env_root in active or env_root.name.startswith("."):
            continue
        try:
            age = now - meta.stat().st_mtime
        except OSError:
            continue
        if age > ttl:
            shutil.rmtree(env_root, ignore_errors=True)
            removed += 1
    return removed
