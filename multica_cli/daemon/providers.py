"""Agent CLIs (daemon contract §1.3, §3): detection on PATH, version probes and minimum
versions, command lines, and where each provider reads skills and its runtime brief."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

VERSION_RE = re.compile(r"v?(\d+)\.(\d+)\.(\d+)")
PROBE_TIMEOUT = 10.0


@dataclass(frozen=True)
class Provider:
    key: str
    binary: str
    display: str
    min_version: tuple[int, int, int] | None = None
    protocol: str = "jsonl"  # claude | codex | acp | jsonl | argv
    skills_dir: str = ""  # workdir-relative; "" = .<key>/skills
    brief_file: str = "AGENTS.md"
    args_env: str = ""
    # flags a user's custom_args may not override (value-taking flags drop their value too)
    critical_flags: tuple[str, ...] = ()

    @property
    def env_prefix(self) -> str:
        return self.key.upper()

    def skills_path(self) -> str:
        return self.skills_dir or f".{self.key}/skills"


PROVIDERS: dict[str, Provider] = {
    p.key: p
    for p in (
        Provider(
            "claude",
            "claude",
            "Claude",
            (2, 0, 0),
            "claude",
            brief_file="CLAUDE.md",
            args_env="MULTICA_CLAUDE_ARGS",
            critical_flags=(
                "-p",
                "--print",
                "--output-format",
                "--input-format",
                "--permission-mode",
                "--mcp-config",
                "--effort",
            ),
        ),
        Provider(
            "codex",
            "codex",
            "Codex",
            (0, 100, 0),
            "codex",
            skills_dir="$CODEX_HOME/skills",
            args_env="MULTICA_CODEX_ARGS",
            critical_flags=("--listen",),
        ),
        Provider(
            "copilot",
            "copilot",
            "Copilot",
            (1, 0, 0),
            "argv",
            skills_dir=".github/skills",
            critical_flags=("-p", "--prompt", "--output-format"),
        ),
        Provider(
            "opencode",
            "opencode",
            "Opencode",
            None,
            "jsonl",
            critical_flags=("--format", "--variant"),
        ),
        Provider(
            "cursor",
            "cursor-agent",
            "Cursor",
            None,
            "jsonl",
            critical_flags=("-p", "--print", "--output-format"),
        ),
        Provider("pi", "pi", "Pi", None, "jsonl", critical_flags=("-p", "--mode", "--session")),
        Provider("hermes", "hermes", "Hermes", None, "acp", skills_dir="$HERMES_HOME/skills"),
        Provider("kimi", "kimi", "Kimi", None, "acp"),
        Provider("kiro", "kiro-cli", "Kiro", None, "acp"),
    )
}
ACP_ARGS = {"hermes": ["acp"], "kimi": ["acp"], "kiro": ["acp", "--trust-all-tools"]}
ACP_RESUME = {"hermes": "session/resume", "kimi": "session/resume", "kiro": "session/load"}


def parse_version(text: str) -> tuple[tuple[int, int, int] | None, str]:
    """The first line matching ``v?X.Y.Z`` (→ its numbers and the line), else the whole text."""
    trimmed = text.strip()
    for line in trimmed.splitlines():
        match = VERSION_RE.search(line)
        if match:
            return (int(match[1]), int(match[2]), int(match[3])), line.strip()
    return None, trimmed


def probe_version(exe: str) -> str:
    """``<exe> --version``; a failure within a second is retried once after 500 ms."""
    last = ""
    for attempt in range(2):
        started = time.monotonic()
        try:
            out = subprocess.run(  # noqa: S603 - an executable resolved on PATH
                [exe, "--version"],
                capture_output=True,
                text=True,
                timeout=PROBE_TIMEOUT,
                stdin=subprocess.DEVNULL,
                check=False,
            )
            if out.returncode == 0:
                return out.stdout.strip() or out.stderr.strip()
            last = out.stderr.strip() or out.stdout.strip()
        except (OSError, subprocess.SubprocessError) as exc:
            last = str(exc)
        if attempt == 0 and time.monotonic() - started < 1.0:
            time.sleep(0.5)
            continue
        break
    raise RuntimeError(last or "version probe failed")


@dataclass
class Detected:
    provider: Provider
    path: str
    version: str


def resolve_executable(provider: Provider) -> str | None:
    command = os.environ.get(f"MULTICA_{provider.env_prefix}_PATH", "").strip() or provider.binary
    if os.sep in command:
        return command if os.access(command, os.X_OK) else None
    return shutil.which(command)


def detect() -> tuple[list[Detected], dict[str, str]]:
    """Providers usable on this machine (sorted by key), and why the others were skipped."""
    found: list[Detected] = []
    skipped: dict[str, str] = {}
    candidates = []
    for provider in PROVIDERS.values():
        exe = resolve_executable(provider)
        if exe:
            candidates.append((provider, exe))

    def probe(item: tuple[Provider, str]) -> tuple[Provider, str, str | None, str]:
        provider, exe = item
        try:
            return provider, exe, probe_version(exe), ""
        except RuntimeError as exc:
            return provider, exe, None, str(exc)[:200]

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(probe, candidates))
    for provider, exe, output, error in results:
        if output is None:
            skipped[provider.key] = f"version probe failed: {error}"
            continue
        numbers, version = parse_version(output)
        if provider.min_version and numbers is not None and numbers < provider.min_version:
            wanted = ".".join(map(str, provider.min_version))
            skipped[provider.key] = f"version {version} is older than the minimum {wanted}"
            continue
        found.append(Detected(provider, exe, version))
    found.sort(key=lambda d: d.provider.key)
    return found, skipped


def filter_custom_args(args: list[Any], critical: tuple[str, ...]) -> list[str]:
    """Drop protocol-critical flags (and their values) from an agent's custom args; strip
    shell quotes."""
    out: list[str] = []
    skip_value = False
    for raw in args or []:
        arg = str(raw)
        if len(arg) >= 2 and arg[0] == arg[-1] and arg[0] in "'\"":
            arg = arg[1:-1]
        if skip_value:
            skip_value = False
            if not arg.startswith("-"):
                continue
        name = arg.split("=", 1)[0]
        if name in critical:
            skip_value = "=" not in arg and name not in ("-p", "--print")
            continue
        out.append(arg)
    return out


def default_args(provider: Provider) -> list[str]:
    raw = os.environ.get(provider.args_env, "") if provider.args_env else ""
    try:
        return shlex.split(raw)
    except ValueError:
        return []


def codex_protocol() -> str:
    """``app-server`` (Multica's JSON-RPC session, the default) or ``exec`` (``codex exec
    --json``, one JSONL stream per run), chosen with ``MULTICA_CODEX_PROTOCOL``."""
    value = os.environ.get("MULTICA_CODEX_PROTOCOL", "").strip().lower()
    return "exec" if value == "exec" else "app-server"


def model_for(provider: Provider, agent: dict[str, Any]) -> str:
    return (
        str(agent.get("model") or "")
        or os.environ.get(f"MULTICA_{provider.env_prefix}_MODEL", "").strip()
    )


def command_line(
    provider: Provider,
    exe: str,
    agent: dict[str, Any],
    *,
    prompt: str,
    resume: str | None,
    workdir: str,
    mcp_config_path: str | None = None,
) -> list[str]:
    """The argv of one run: Multica's fixed flags → daemon-wide default args → custom args."""
    model = model_for(provider, agent)
    level = str(agent.get("thinking_level") or "")
    custom = filter_custom_args(list(agent.get("custom_args") or []), provider.critical_flags)
    extra = default_args(provider)
    key = provider.key
    if key == "claude":
        argv = [exe, "-p", "--output-format", "stream-json", "--input-format", "stream-json",
                "--verbose", "--permission-mode", "bypassPermissions",
                "--disallowedTools", "AskUserQuestion"]  # fmt: skip
        if mcp_config_path:
            argv.append("--strict-mcp-config")
        if model:
            argv += ["--model", model]
        if level:
            argv += ["--effort", level]
        if resume:
            argv += ["--resume", resume]
        argv += extra + custom
        if mcp_config_path:
            argv += ["--mcp-config", mcp_config_path]
        return argv
    if key == "codex" and codex_protocol() == "exec":
        argv = [exe, "exec", "--json", "--dangerously-bypass-approvals-and-sandbox",
                "--skip-git-repo-check"]  # fmt: skip
        if model:
            argv += ["--model", model]
        if level:
            argv += ["-c", f"model_reasoning_effort={level}"]
        argv += extra + custom
        return [*argv, "resume", resume, "-"] if resume else [*argv, "-"]
    if key == "codex":
        argv = [exe, "app-server", "--listen", "stdio://", *extra, *custom]
        if agent.get("service_tier") == "priority":
            argv += ["--enable", "fast_mode"]
        return argv
    if key == "copilot":
        argv = [exe, "-p", prompt, "--output-format", "json", "--allow-all", "--no-ask-user"]
        if model:
            argv += ["--model", model]
        if resume:
            argv += ["--resume", resume]
        return argv + custom
    if key == "opencode":
        argv = [exe, "run", "--format", "json", "--dangerously-skip-permissions", "--dir", workdir]
        if model:
            argv += ["--model", model]
        if level:
            argv += ["--variant", level]
        if resume:
            argv += ["--session", resume]
        return argv + custom
    if key == "cursor":
        argv = [exe, "-p", "--output-format", "stream-json", "--yolo", "--workspace", workdir]
        if model:
            argv += ["--model", model]
        if resume:
            argv += ["--resume", resume]
        return argv + custom
    if key == "pi":
        argv = [exe, "-p", "--mode", "json", "--session", resume or ""]
        if model:
            argv += ["--model", model]
        if level:
            argv += ["--thinking", level]
        return argv + custom
    if provider.protocol == "acp":
        return [exe, *ACP_ARGS.get(key, ["acp"]), *custom]
    raise ValueError(f"unsupported provider {key}")
