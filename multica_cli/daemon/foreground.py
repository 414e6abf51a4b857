"""``multica daemon start --foreground`` (and ``python -m multica_cli.daemon``): run the daemon
in this process until SIGTERM, SIGINT or ``POST /shutdown``."""

from __future__ import annotations

import argparse
import logging
import logging.handlers
import os
import signal
import sys
from typing import Any

from multica_cli.config import ConfigError, load_profile
from multica_cli.daemon.core import Daemon, DaemonError
from multica_cli.daemon.identity import resolve_daemon_id
from multica_cli.daemon.settings import build_settings

START_FLAGS = (
    "daemon_id", "device_name", "runtime_name", "workspaces_root", "poll_interval",
    "heartbeat_interval", "agent_timeout", "max_concurrent_tasks",
    "codex_semantic_inactivity_timeout", "codex_handshake_timeout",
)  # fmt: skip


def add_start_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--foreground", action="store_true", help="run in this terminal")
    parser.add_argument("--daemon-id", help="override the persistent daemon id")
    parser.add_argument("--device-name", help="name shown for this machine")
    parser.add_argument("--runtime-name", help="label used in runtime names")
    parser.add_argument("--workspaces-root", help="where task work directories live")
    parser.add_argument("--poll-interval", help="claim poll interval (e.g. 30s)")
    parser.add_argument("--heartbeat-interval", help="heartbeat interval (e.g. 15s)")
    parser.add_argument("--agent-timeout", help="absolute cap per task (0 = none)")
    parser.add_argument("--max-concurrent-tasks", type=int, help="task slots (default 20)")
    parser.add_argument("--log-file", help=argparse.SUPPRESS)
    parser.add_argument(
        "--codex-semantic-inactivity-timeout",
        help="fail a Codex turn without agent progress for this long (default 10m)",
    )
    parser.add_argument(
        "--codex-handshake-timeout",
        help="budget of each Codex app-server startup call (default 30s; thread start 60s)",
    )
    parser.add_argument("--auto-update-interval", help=argparse.SUPPRESS)
    for flag in ("--no-auto-update", "--no-auto-reload"):
        parser.add_argument(flag, action="store_true", help=argparse.SUPPRESS)


def forward_flags(args: argparse.Namespace) -> list[str]:
    """The start flags of ``args`` as a command line (for the background child)."""
    out: list[str] = []
    for name in START_FLAGS:
        value = getattr(args, name, None)
        if value not in (None, ""):
            out += ["--" + name.replace("_", "-"), str(value)]
    return out


def setup_logging(log_file: str | None, debug: bool = False) -> None:
    level = logging.DEBUG if debug or os.environ.get("MULTICA_DEBUG") == "1" else logging.INFO
    handler: logging.Handler
    if log_file:
        mb = int(os.environ.get("MULTICA_DAEMON_LOG_MAX_SIZE_MB") or 20)
        backups = int(os.environ.get("MULTICA_DAEMON_LOG_MAX_BACKUPS") or 5)
        handler = logging.handlers.RotatingFileHandler(
            log_file, maxBytes=mb * 1024 * 1024, backupCount=backups
        )
    else:
        handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("websockets").setLevel(logging.WARNING)


def run_foreground(args: argparse.Namespace) -> int:
    profile_name = getattr(args, "profile", None)
    try:
        profile = load_profile(profile_name, server_url=getattr(args, "server_url", None))
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    setup_logging(getattr(args, "log_file", None), getattr(args, "debug", False))
    flags: dict[str, Any] = {name: getattr(args, name, None) for name in START_FLAGS}
    daemon_id = resolve_daemon_id(flags.get("daemon_id"), profile.name)
    try:
        daemon = Daemon(build_settings(profile, flags, daemon_id))
    except DaemonError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1

    def stop(signum: int, _frame: Any) -> None:
        logging.getLogger("multica.daemon").info("signal %d: shutting down", signum)
        daemon.request_stop()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        return daemon.run()
    except DaemonError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="multica-daemon")
    parser.add_argument("--profile")
    parser.add_argument("--server-url")
    parser.add_argument("--debug", action="store_true")
    add_start_flags(parser)
    return run_foreground(parser.parse_args(argv))
