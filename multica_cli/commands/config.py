"""``multica config show|set``: the profile's config file (spec §5.1)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from multica_cli.client import parse_duration
from multica_cli.commands._common import usage_error
from multica_cli.config import config_path, normalize_server_url, read_config, update_config
from multica_cli.context import Context
from multica_cli.output import info, print_json

STRING_KEYS = ("server_url", "app_url", "workspace_id", "device_name", "runtime_name",
               "workspaces_root")  # fmt: skip
DURATION_KEYS = ("poll_interval", "heartbeat_interval", "agent_timeout",
                 "codex_semantic_inactivity_timeout", "codex_handshake_timeout",
                 "auto_update_check_interval")  # fmt: skip
BOOL_KEYS = ("disable_auto_update", "disable_auto_reload")
INT_KEYS = ("max_concurrent_tasks",)
SUPPORTED_KEYS = STRING_KEYS + INT_KEYS + DURATION_KEYS + BOOL_KEYS
SHOWN_KEYS = ("server_url", "app_url", "workspace_id", "device_name", "runtime_name",
              "workspaces_root", "max_concurrent_tasks", "poll_interval", "heartbeat_interval",
              "agent_timeout", "codex_semantic_inactivity_timeout", "codex_handshake_timeout",
              "disable_auto_update", "auto_update_check_interval",
              "disable_auto_reload")  # fmt: skip


def register(subparsers: argparse._SubParsersAction) -> None:
    config = subparsers.add_parser("config", help="show or change the CLI configuration")
    config.set_defaults(func=cmd_show)
    sub = config.add_subparsers(dest="config_command", metavar="<subcommand>")
    p = sub.add_parser("show", help="show the configuration (the token is never printed)")
    p.set_defaults(func=cmd_show)
    p = sub.add_parser(
        "set", help="set a value; an empty value clears it",
        description="Supported keys: " + ", ".join(SUPPORTED_KEYS),
    )  # fmt: skip
    p.add_argument("key", help="configuration key")
    p.add_argument("value", help='new value ("" clears)')
    p.set_defaults(func=cmd_set)


def cmd_show(ctx: Context, args: argparse.Namespace) -> None:
    data = read_config(ctx.profile_name)
    path = config_path(ctx.profile_name)
    if ctx.output == "json":
        shown: dict[str, Any] = {k: v for k, v in data.items() if k != "token"}
        shown["token_set"] = bool(data.get("token"))
        print_json({"config_file": str(path), "profile": ctx.profile_name, "config": shown})
        return
    lines = [f"Config file: {path}"]
    if ctx.profile_name:
        lines.append(f"Profile:     {ctx.profile_name}")
    for key in SHOWN_KEYS:
        value = data.get(key)
        if key in BOOL_KEYS:
            text = "true" if value else "false"
        else:
            text = "(not set)" if value in (None, "") else str(value)
        lines.append(f"{key + ':':<34} {text}")
    token = str(data.get("token") or "")
    lines.append(f"{'token:':<34} {token[:8] + '…' if token else '(not set)'}")
    print("\n".join(lines))


def coerce(key: str, value: str) -> Any:
    """The value as stored, or a usage error (exit 5) naming the problem."""
    if key not in SUPPORTED_KEYS:
        raise usage_error(f"unsupported key {key!r}; supported: {', '.join(SUPPORTED_KEYS)}")
    value = value.strip()
    if value == "":
        return None
    if key == "server_url":
        if not value.startswith(("http://", "https://", "ws://", "wss://")):
            raise usage_error("server_url must be an http(s) URL")
        return normalize_server_url(value)
    if key == "app_url":
        if not value.startswith(("http://", "https://")):
            raise usage_error("app_url must be an http(s) URL")
        return value.rstrip("/")
    if key == "workspaces_root":
        return str(Path(value).expanduser().resolve())
    if key in INT_KEYS:
        try:
            number = int(value)
        except ValueError:
            raise usage_error(f"{key} must be an integer") from None
        if number < 1:
            raise usage_error(f"{key} must be at least 1")
        return number
    if key in DURATION_KEYS:
        try:
            seconds = parse_duration(value)
        except ValueError:
            raise usage_error(f"{key} must be a duration like 10s, 500ms or 1m30s") from None
        if seconds <= 0 and key != "agent_timeout":
            raise usage_error(f"{key} must be a positive duration")
        if seconds < 0:
            raise usage_error(f"{key} cannot be negative")
        return value
    if key in BOOL_KEYS:
        lowered = value.lower()
        if lowered not in ("true", "false"):
            raise usage_error(f"{key} must be true or false")
        return True if lowered == "true" else None
    return value


def cmd_set(ctx: Context, args: argparse.Namespace) -> None:
    stored = coerce(args.key, args.value)
    update_config(ctx.profile_name, **{args.key: stored})
    info(f"Set {args.key} = {'' if stored is None else stored}")
