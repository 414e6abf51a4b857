"""``multica setup [cloud|self-host]``: configure the server, log in, start the daemon (§5.3)."""

from __future__ import annotations

import argparse
import importlib.util
import os
import subprocess
import sys
from urllib.parse import urlsplit

import httpx

from multica_cli.client import EXIT_NETWORK, ApiClient, ApiError
from multica_cli.commands.auth import (
    PROMPT,
    finish_login,
    login_with_browser,
    login_with_token,
    require_human,
)
from multica_cli.config import (
    CLOUD_APP_URL,
    CLOUD_SERVER_URL,
    health_port,
    normalize_server_url,
    read_config,
    update_config,
)
from multica_cli.context import CliError, Context
from multica_cli.output import info

HEALTH_PROBE_TIMEOUT = 2.0


def register(subparsers: argparse._SubParsersAction) -> None:
    setup = subparsers.add_parser("setup", help="configure, log in and start the daemon")
    _common_flags(setup)
    setup.set_defaults(func=cmd_cloud)
    sub = setup.add_subparsers(dest="setup_command", metavar="<target>")
    p = sub.add_parser("cloud", help="use Multica Cloud (api.multica.ai)")
    _common_flags(p)
    p.set_defaults(func=cmd_cloud)
    p = sub.add_parser("self-host", help="use a self-hosted server (default localhost:8080)")
    _common_flags(p)
    p.add_argument("--app-url", help="web app URL (asked for a remote server when not given)")
    p.add_argument("--port", type=int, default=8080, help="server port on localhost (8080)")
    p.add_argument("--frontend-port", type=int, default=3000, help="web app port (3000)")
    p.set_defaults(func=cmd_self_host)


def _common_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("--callback-host", help="host/IP the browser uses to reach this CLI")
    p.add_argument(
        "--token", nargs="?", const=PROMPT, default=None,
        help="log in with a personal access token instead of the browser",
    )  # fmt: skip
    p.add_argument("-y", "--yes", action="store_true", help="overwrite an existing config")
    p.add_argument("--no-daemon", action="store_true", help="do not start the daemon")
    p.add_argument("--no-browser", action="store_true", help="print the login URL only")


def _confirm_overwrite(ctx: Context, args: argparse.Namespace, server_url: str) -> None:
    existing = read_config(ctx.profile_name)
    if not existing or args.yes or existing.get("server_url") == server_url:
        return
    if not sys.stdin.isatty():
        raise CliError("a config already exists for this profile; pass --yes to overwrite it")
    sys.stderr.write("A configuration already exists for this profile. Overwrite it? [y/N] ")
    sys.stderr.flush()
    if sys.stdin.readline().strip().lower() not in ("y", "yes"):
        raise CliError("setup cancelled")


def _login_and_start(ctx: Context, args: argparse.Namespace) -> int:
    ctx.reload()
    if args.token is not None:
        login_with_token(ctx, None if args.token is PROMPT else args.token)
    else:
        login_with_browser(ctx, callback_host=args.callback_host, open_browser=not args.no_browser)
    finish_login(ctx)
    if not args.no_daemon:
        start_daemon(ctx)
    return 0


def cmd_cloud(ctx: Context, args: argparse.Namespace) -> int:
    require_human("setup")
    _confirm_overwrite(ctx, args, CLOUD_SERVER_URL)
    update_config(ctx.profile_name, server_url=CLOUD_SERVER_URL, app_url=CLOUD_APP_URL)
    info(f"Configured for Multica Cloud ({CLOUD_SERVER_URL}).")
    ctx.server_url = None
    return _login_and_start(ctx, args)


def _is_local(url: str) -> bool:
    host = (urlsplit(url).hostname or "").lower()
    return host in ("localhost", "127.0.0.1", "::1") or host.endswith(".localhost")


def _advertised_app_url(server_url: str) -> str:
    """The app URL the server advertises in ``GET /api/config`` (``daemon_app_url``), if any."""
    try:
        with ApiClient(server_url, timeout=HEALTH_PROBE_TIMEOUT) as client:
            data = client.get("/api/config")
    except ApiError:
        return ""
    if isinstance(data, dict):
        return str(data.get("daemon_app_url") or "").rstrip("/")
    return ""


def cmd_self_host(ctx: Context, args: argparse.Namespace) -> int:
    require_human("setup")
    server_url = normalize_server_url(ctx.server_url or f"http://localhost:{args.port}")
    try:
        response = httpx.get(f"{server_url}/health", timeout=HEALTH_PROBE_TIMEOUT)
    except httpx.HTTPError as exc:
        raise CliError(f"cannot reach {server_url}/health: {exc}", EXIT_NETWORK) from exc
    if response.status_code != 200:
        raise CliError(
            f"{server_url}/health answered HTTP {response.status_code}; is this a Multica server?",
            EXIT_NETWORK,
        )
    app_url = (args.app_url or "").rstrip("/") or _advertised_app_url(server_url)
    if not app_url:
        if _is_local(server_url):
            app_url = f"http://localhost:{args.frontend_port}"
        elif sys.stdin.isatty():
            sys.stderr.write("Web app URL for this server: ")
            sys.stderr.flush()
            app_url = sys.stdin.readline().strip().rstrip("/")
        if not app_url:
            raise CliError("--app-url is required for a remote server", 5)
    _confirm_overwrite(ctx, args, server_url)
    update_config(ctx.profile_name, server_url=server_url, app_url=app_url)
    info(f"Configured for {server_url} (app {app_url}).")
    ctx.server_url = None
    return _login_and_start(ctx, args)


def _daemon_port(profile: str | None) -> int:
    raw = os.environ.get("MULTICA_DAEMON_HEALTH_PORT", "").strip()  # the daemon's test override
    return int(raw) if raw.isdigit() else health_port(profile)


def _daemon_health(profile: str | None) -> dict | None:
    try:
        response = httpx.get(f"http://127.0.0.1:{_daemon_port(profile)}/health", timeout=2)
    except httpx.HTTPError:
        return None
    if response.status_code != 200:
        return None
    try:
        data = response.json()
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


def start_daemon(ctx: Context) -> None:
    """Start (or restart an idle) daemon through ``multica daemon``; refuse if it is busy."""
    prefix = ["multica"] + (["--profile", ctx.profile_name] if ctx.profile_name else [])
    if importlib.util.find_spec("multica_cli.commands.daemon") is None:
        info(f"\nStart your local agent runtime with: {' '.join([*prefix, 'daemon', 'start'])}")
        return
    health = _daemon_health(ctx.profile_name)
    action = "start"
    if health is not None:
        if int(health.get("active_task_count") or 0) > 0:
            info("\nThe daemon is running tasks; not restarting it. Restart it later with: "
                 + " ".join([*prefix, "daemon", "restart"]))  # fmt: skip
            return
        action = "restart"
    argv = [sys.executable, "-m", "multica_cli", *prefix[1:], "daemon", action]
    info(f"\n{'Restarting' if action == 'restart' else 'Starting'} the daemon...")
    result = subprocess.run(argv, check=False)  # noqa: S603 - our own CLI, fixed arguments
    if result.returncode != 0:
        info(f"The daemon did not start; run `{' '.join([*prefix, 'daemon', action])}`.")
