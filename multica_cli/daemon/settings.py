"""Daemon settings (daemon contract §1, §5.1, §5.4): flag > environment > config.json > default.
Durations are Go duration strings (``30s``, ``1m30s``) or plain seconds."""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from multica_cli.client import parse_duration
from multica_cli.config import Profile, health_port, state_dir

DEFAULT_POLL_INTERVAL = 30.0
DEFAULT_HEARTBEAT_INTERVAL = 15.0
DEFAULT_MAX_CONCURRENT = 20
DEFAULT_IDLE_WATCHDOG = 30 * 60.0
DEFAULT_TOOL_WATCHDOG = 2 * 3600.0
STATUS_POLL_INTERVAL = 5.0
PREPARE_LEASE_INTERVAL = 15.0
SHUTDOWN_GRACE = 30.0
CANCEL_GRACE = 5.0
REDISCOVER_INTERVAL = 120.0
REREGISTER_INTERVAL = 30.0
GC_TTL = 7 * 24 * 3600.0
WORKSPACE_SYNC_EMPTY = 30.0
WORKSPACE_SYNC_IDLE = 30 * 60.0
# Codex app-server timers (§3.2).
CODEX_HANDSHAKE_TIMEOUT = 30.0  # each startup RPC …
CODEX_THREAD_HANDSHAKE_TIMEOUT = 60.0  # … but thread/start and thread/resume, unless set
CODEX_SEMANTIC_INACTIVITY_TIMEOUT = 10 * 60.0
CODEX_FIRST_TURN_TIMEOUT = 60.0


def _duration(value: Any) -> float | None:
    if value is None or value == "":
        return None
    if isinstance(value, int | float):
        return float(value)
    try:
        return parse_duration(str(value))
    except ValueError:
        return None


def _pick(flag: Any, env: str, config: dict[str, Any], key: str, default: Any, kind: str) -> Any:
    """The first usable value of flag, environment variable, config key; else ``default``."""
    for raw in (flag, os.environ.get(env), config.get(key)):
        if raw is None or raw == "":
            continue
        if kind == "duration":
            value = _duration(raw)
            if value is not None and value >= 0:
                return value
        elif kind == "int":
            try:
                return int(raw)
            except (TypeError, ValueError):
                continue
        else:
            return str(raw)
    return default


@dataclass
class DaemonSettings:
    profile: str | None
    server_url: str
    token: str
    daemon_id: str
    device_name: str
    runtime_name: str
    workspaces_root: Path
    state_dir: Path
    health_port: int
    poll_interval: float = DEFAULT_POLL_INTERVAL
    heartbeat_interval: float = DEFAULT_HEARTBEAT_INTERVAL
    max_concurrent_tasks: int = DEFAULT_MAX_CONCURRENT
    agent_timeout: float = 0.0
    idle_watchdog: float = DEFAULT_IDLE_WATCHDOG
    tool_watchdog: float = DEFAULT_TOOL_WATCHDOG
    status_poll_interval: float = STATUS_POLL_INTERVAL
    prepare_lease_interval: float = PREPARE_LEASE_INTERVAL
    shutdown_grace: float = SHUTDOWN_GRACE
    cancel_grace: float = CANCEL_GRACE
    rediscover_interval: float = REDISCOVER_INTERVAL
    reregister_interval: float = REREGISTER_INTERVAL
    gc_ttl: float = GC_TTL
    report_backoff: float = 4.0
    report_backoff_cap: float = 64.0
    launched_by: str = ""
    codex_handshake_timeout: float = 0.0  # 0: the built-in budgets (30 s; thread start 60 s)
    codex_semantic_inactivity_timeout: float = CODEX_SEMANTIC_INACTIVITY_TIMEOUT
    codex_first_turn_timeout: float = 0.0  # 0: the built-in ceiling (see codex_timers)
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def outbox_dir(self) -> Path:
        return self.state_dir / "outbox"

    @property
    def running_dir(self) -> Path:
        return self.state_dir / "running"


def daemon_health_port(profile: str | None) -> int:
    """The profile's health port; ``MULTICA_DAEMON_HEALTH_PORT`` overrides it (tests)."""
    raw = os.environ.get("MULTICA_DAEMON_HEALTH_PORT", "").strip()
    return int(raw) if raw.isdigit() else health_port(profile)


def default_workspaces_root(profile: str | None) -> Path:
    name = "multica_workspaces" if not profile else f"multica_workspaces_{profile}"
    return Path.home() / name


def build_settings(profile: Profile, flags: dict[str, Any], daemon_id: str) -> DaemonSettings:
    """Resolve every setting for ``profile`` from its command-line ``flags``."""
    cfg = profile.data
    root = _pick(
        flags.get("workspaces_root"),
        "MULTICA_WORKSPACES_ROOT",
        cfg,
        "workspaces_root",
        "",
        "str",
    )
    return DaemonSettings(
        profile=profile.name,
        server_url=profile.server_url,
        token=profile.token,
        daemon_id=daemon_id,
        device_name=_pick(
            flags.get("device_name"),
            "MULTICA_DEVICE_NAME",
            cfg,
            "device_name",
            socket.gethostname(),
            "str",
        ),
        runtime_name=_pick(
            flags.get("runtime_name"), "MULTICA_RUNTIME_NAME", cfg, "runtime_name", "", "str"
        ),
        workspaces_root=Path(root).expanduser() if root else default_workspaces_root(profile.name),
        state_dir=state_dir(profile.name),
        health_port=daemon_health_port(profile.name),
        poll_interval=_pick(
            flags.get("poll_interval"),
            "MULTICA_DAEMON_POLL_INTERVAL",
            cfg,
            "poll_interval",
            DEFAULT_POLL_INTERVAL,
            "duration",
        )
        or DEFAULT_POLL_INTERVAL,
        heartbeat_interval=_pick(
            flags.get("heartbeat_interval"),
            "MULTICA_DAEMON_HEARTBEAT_INTERVAL",
            cfg,
            "heartbeat_interval",
            DEFAULT_HEARTBEAT_INTERVAL,
            "duration",
        )
        or DEFAULT_HEARTBEAT_INTERVAL,
        max_concurrent_tasks=max(
            1,
            _pick(
                flags.get("max_concurrent_tasks"),
                "MULTICA_DAEMON_MAX_CONCURRENT_TASKS",
                cfg,
                "max_concurrent_tasks",
                DEFAULT_MAX_CONCURRENT,
                "int",
            ),
        ),
        agent_timeout=_pick(
            flags.get("agent_timeout"),
            "MULTICA_AGENT_TIMEOUT",
            cfg,
            "agent_timeout",
            0.0,
            "duration",
        ),
        idle_watchdog=_pick(
            None, "MULTICA_AGENT_IDLE_WATCHDOG", {}, "", DEFAULT_IDLE_WATCHDOG, "duration"
        ),
        tool_watchdog=_pick(
            None, "MULTICA_AGENT_TOOL_WATCHDOG", {}, "", DEFAULT_TOOL_WATCHDOG, "duration"
        ),
        # Not in Multica's surface: knobs that let tests run the protocol on short timers.
        status_poll_interval=_pick(
            None, "MULTICA_DAEMON_STATUS_POLL_INTERVAL", {}, "", STATUS_POLL_INTERVAL, "duration"
        )
        or STATUS_POLL_INTERVAL,
        prepare_lease_interval=_pick(
            None,
            "MULTICA_DAEMON_PREPARE_LEASE_INTERVAL",
            {},
            "",
            PREPARE_LEASE_INTERVAL,
            "duration",
        )
        or PREPARE_LEASE_INTERVAL,
        shutdown_grace=_pick(
            None, "MULTICA_DAEMON_SHUTDOWN_GRACE", {}, "", SHUTDOWN_GRACE, "duration"
        ),
        cancel_grace=_pick(None, "MULTICA_DAEMON_CANCEL_GRACE", {}, "", CANCEL_GRACE, "duration"),
        report_backoff=_pick(None, "MULTICA_DAEMON_REPORT_BACKOFF", {}, "", 4.0, "duration") or 4.0,
        report_backoff_cap=_pick(
            None, "MULTICA_DAEMON_REPORT_BACKOFF_CAP", {}, "", 64.0, "duration"
        )
        or 64.0,
        rediscover_interval=_pick(
            None, "MULTICA_DAEMON_REDISCOVER_INTERVAL", {}, "", REDISCOVER_INTERVAL, "duration"
        )
        or REDISCOVER_INTERVAL,
        reregister_interval=_pick(
            None, "MULTICA_DAEMON_REREGISTER_INTERVAL", {}, "", REREGISTER_INTERVAL, "duration"
        ),
        gc_ttl=_pick(None, "MULTICA_DAEMON_GC_TTL", {}, "", GC_TTL, "duration") or GC_TTL,
        launched_by=os.environ.get("MULTICA_LAUNCHED_BY", "").strip(),
        codex_handshake_timeout=_pick(
            flags.get("codex_handshake_timeout"),
            "MULTICA_CODEX_HANDSHAKE_TIMEOUT",
            cfg,
            "codex_handshake_timeout",
            0.0,
            "duration",
        ),
        codex_semantic_inactivity_timeout=_pick(
            flags.get("codex_semantic_inactivity_timeout"),
            "MULTICA_CODEX_SEMANTIC_INACTIVITY_TIMEOUT",
            cfg,
            "codex_semantic_inactivity_timeout",
            CODEX_SEMANTIC_INACTIVITY_TIMEOUT,
            "duration",
        ),
        codex_first_turn_timeout=_pick(
            None, "MULTICA_CODEX_FIRST_TURN_TIMEOUT", {}, "", 0.0, "duration"
        ),
    )


@dataclass(frozen=True)
class CodexTimers:
    """The Codex app-server budgets of one run, in seconds (0 = no limit).

    ``handshake`` bounds each startup RPC (``initialize``, ``turn/start``); ``thread_handshake``
    bounds ``thread/start`` and ``thread/resume``. ``first_turn`` is how long a started turn may
    stay without any item, message, tool, completion or error; ``semantic`` how long a turn may
    go without agent progress (token counters and status pings are not progress)."""

    handshake: float = CODEX_HANDSHAKE_TIMEOUT
    thread_handshake: float = CODEX_THREAD_HANDSHAKE_TIMEOUT
    semantic: float = CODEX_SEMANTIC_INACTIVITY_TIMEOUT
    first_turn: float = CODEX_FIRST_TURN_TIMEOUT


def codex_timers(settings: DaemonSettings) -> CodexTimers:
    """An explicit handshake timeout overrides both handshake budgets. Without an explicit
    first-turn timeout the ceiling is 60 s, which a shorter semantic timeout shrinks (to 4/5 of
    it) but never raises."""
    explicit = settings.codex_handshake_timeout
    semantic = settings.codex_semantic_inactivity_timeout
    first = settings.codex_first_turn_timeout
    if not first:
        first = CODEX_FIRST_TURN_TIMEOUT
        if 0 < semantic <= CODEX_FIRST_TURN_TIMEOUT:
            first = semantic * 4 / 5 or semantic
    return CodexTimers(
        handshake=explicit or CODEX_HANDSHAKE_TIMEOUT,
        thread_handshake=explicit or CODEX_THREAD_HANDSHAKE_TIMEOUT,
        semantic=semantic,
        first_turn=first,
    )
