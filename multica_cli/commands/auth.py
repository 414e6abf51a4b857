"""``multica login`` and ``multica auth status|logout`` (spec §5.2)."""

from __future__ import annotations

import argparse
import contextlib
import http.server
import secrets
import socket
import sys
import threading
import time
import webbrowser
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

from multica_cli.client import EXIT_AUTH, EXIT_NETWORK, ApiClient, ApiError
from multica_cli.config import CLOUD_APP_URL, CLOUD_SERVER_URL, read_config, update_config
from multica_cli.context import CliError, Context, daemon_managed
from multica_cli.output import info, print_json

TOKEN_PREFIXES = ("mul_", "mcn_")
CALLBACK_TIMEOUT = 300.0
WORKSPACE_POLL_INTERVAL = 2.0
WORKSPACE_POLL_TIMEOUT = 300.0
PROMPT = object()

SUCCESS_HTML = b"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Multica: signed in</title></head>
<body style="font-family: sans-serif; text-align: center; margin-top: 15vh">
<h1>Authentication successful</h1>
<p>You can close this tab and return to the terminal.</p>
<script>setTimeout(function () { window.close() }, 3000)</script>
</body></html>
"""


def register(subparsers: argparse._SubParsersAction) -> None:
    login = subparsers.add_parser("login", help="authenticate (browser, or --token)")
    login.add_argument(
        "--token", nargs="?", const=PROMPT, default=None,
        help="a personal access token (mul_…); --token alone prompts for it",
    )  # fmt: skip
    login.add_argument("--callback-host", help="host/IP the browser uses to reach this CLI")
    login.add_argument(
        "--no-browser", action="store_true", help="print the login URL instead of opening it"
    )
    login.set_defaults(func=cmd_login)

    auth = subparsers.add_parser("auth", help="authentication status and logout")
    sub = auth.add_subparsers(dest="auth_command", metavar="<subcommand>", required=True)
    p = sub.add_parser("status", help="show the server, user and token prefix")
    p.set_defaults(func=cmd_status)
    p = sub.add_parser("logout", help="forget the stored token")
    p.set_defaults(func=cmd_logout)


def require_human(command: str) -> None:
    if daemon_managed():
        raise CliError(f"`multica {command}` is not available inside an agent task", EXIT_AUTH)


def _me(server_url: str, token: str) -> dict[str, Any]:
    with ApiClient(server_url, token) as client:
        me = client.get("/api/me")
    return me if isinstance(me, dict) else {}


def cmd_login(ctx: Context, args: argparse.Namespace) -> int:
    require_human("login")
    if args.token is not None:
        login_with_token(ctx, None if args.token is PROMPT else args.token)
    else:
        login_with_browser(ctx, callback_host=args.callback_host, open_browser=not args.no_browser)
    return finish_login(ctx)


def login_with_token(ctx: Context, token: str | None) -> None:
    token = (token or "").strip()
    if not token:
        if sys.stdin.isatty():
            sys.stderr.write("Enter your personal access token: ")
            sys.stderr.flush()
        line = sys.stdin.readline()
        token = line.strip()
    if not token:
        raise CliError("token is required", 5)
    if not token.startswith(TOKEN_PREFIXES):
        raise CliError("invalid token: expected a personal access token starting with mul_", 5)
    server_url = ctx.profile.server_url or CLOUD_SERVER_URL
    try:
        me = _me(server_url, token)
    except ApiError as exc:
        if exc.status is None:
            raise
        raise ApiError(
            "could not sign in with that token; make sure it is valid and not expired "
            f"({exc.message})",
            status=exc.status,
            code=exc.code,
        ) from exc
    changes: dict[str, Any] = {"token": token, "server_url": server_url, "workspace_id": None}
    if not read_config(ctx.profile_name).get("app_url") and server_url == CLOUD_SERVER_URL:
        changes["app_url"] = CLOUD_APP_URL
    update_config(ctx.profile_name, **changes)
    ctx.reload()
    info(f"Authenticated as {me.get('name', '')} ({me.get('email', '')})\nToken saved to config.")


class _CallbackHandler(http.server.BaseHTTPRequestHandler):
    server: _CallbackServer

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        if url.path != "/callback":
            self.send_error(404)
            return
        query = parse_qs(url.query)
        token = (query.get("token") or [""])[0]
        state = (query.get("state") or [""])[0]
        if not token:
            self._reply(400, b"missing token")
            return
        if not secrets.compare_digest(state, self.server.expected_state):
            self._reply(400, b"invalid state parameter")
            return
        self._reply(200, SUCCESS_HTML, "text/html; charset=utf-8")
        self.server.token = token
        self.server.done.set()

    def _reply(self, status: int, body: bytes, content_type: str = "text/plain") -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:  # silence per-request logs
        return


class _CallbackServer(http.server.HTTPServer):
    def __init__(self, bind: str, state: str) -> None:
        super().__init__((bind, 0), _CallbackHandler)
        self.expected_state = state
        self.token = ""
        self.done = threading.Event()


def login_with_browser(
    ctx: Context, *, callback_host: str | None = None, open_browser: bool = True
) -> None:
    profile = ctx.profile
    server_url = profile.server_url or CLOUD_SERVER_URL
    app_url = profile.app_url or (CLOUD_APP_URL if server_url == CLOUD_SERVER_URL else "")
    if not app_url:
        raise CliError("no app URL configured: run `multica setup` first")
    host = (callback_host or "").strip() or "localhost"
    bind = "0.0.0.0" if callback_host else "127.0.0.1"  # noqa: S104 - only with --callback-host
    state = secrets.token_hex(16)
    try:
        server = _CallbackServer(bind, state)
    except OSError as exc:
        raise CliError(f"could not start the local login callback server: {exc}") from exc
    port = server.server_address[1]
    callback = f"http://{host}:{port}/callback"
    login_url = f"{app_url}/login?cli_callback={quote(callback, safe='')}&cli_state={state}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        info("Opening browser to authenticate...")
        opened = False
        if open_browser:
            try:
                opened = webbrowser.open(login_url)
            except webbrowser.Error:
                opened = False
        if not opened:
            info("Could not open the browser automatically.")
        info(f"If the browser didn't open, visit:\n  {login_url}\n\nWaiting for authentication...")
        if not server.done.wait(CALLBACK_TIMEOUT):
            raise CliError("timed out waiting for authentication", EXIT_AUTH)
        jwt = server.token
    finally:
        server.shutdown()
        server.server_close()
    hostname = socket.gethostname() or "unknown"
    with ApiClient(server_url, jwt) as client:
        created = client.post(
            "/api/tokens", json={"name": f"CLI ({hostname})", "expires_in_days": 90}
        )
    pat = str((created or {}).get("token") or "")
    if not pat:
        raise CliError("sign-in did not complete: the server issued no access token", EXIT_AUTH)
    me = _me(server_url, pat)
    update_config(
        ctx.profile_name, token=pat, server_url=server_url, app_url=app_url, workspace_id=None
    )
    ctx.reload()
    info(f"Authenticated as {me.get('name', '')} ({me.get('email', '')})\nToken saved to config.")


def finish_login(ctx: Context) -> int:
    """Pick a default workspace (waiting for one to be created when there is none)."""
    data = read_config(ctx.profile_name)
    try:
        with ApiClient(str(data.get("server_url") or ""), str(data.get("token") or "")) as client:
            workspaces = client.get("/api/workspaces") or []
            if not workspaces:
                workspaces = _wait_for_workspace(ctx, client, str(data.get("app_url") or ""))
    except ApiError as exc:
        info(f"\nCould not list workspaces: {exc.message}")
        info("Run `multica workspace list` and `multica workspace use <id>` to pick one.")
        return 0
    if not workspaces:
        info("\nNo workspaces found.")
        return 0
    current = str(data.get("workspace_id") or "")
    if not current:
        current = str(workspaces[0]["id"])
        update_config(ctx.profile_name, workspace_id=current)
    info(f"\nFound {len(workspaces)} workspace(s):")
    for ws in workspaces:
        marker = "* " if str(ws.get("id")) == current else "  "
        info(f"{marker}{ws.get('name', '')} ({ws.get('id')})")
    if len(workspaces) > 1:
        info("\nUse `multica workspace use <id|slug>` to change the default workspace.")
    info("\n→ Run `multica daemon start` to start your local agent runtime.")
    return 0


def _wait_for_workspace(ctx: Context, client: ApiClient, app_url: str) -> list[dict[str, Any]]:
    if not app_url or not sys.stdin.isatty():
        info("\nNo workspaces found. Create one in the web app, then run `multica login` again.")
        return []
    url = f"{app_url}/workspaces/new"
    info("\nNo workspaces found. Opening workspace creation in your browser...")
    with contextlib.suppress(webbrowser.Error):
        webbrowser.open(url)
    info(f"If the browser didn't open, visit:\n  {url}\n\nWaiting for workspace creation...")
    deadline = time.monotonic() + WORKSPACE_POLL_TIMEOUT
    while time.monotonic() < deadline:
        time.sleep(WORKSPACE_POLL_INTERVAL)
        try:
            workspaces = client.get("/api/workspaces") or []
        except ApiError:
            continue
        if workspaces:
            return list(workspaces)
    return []


def cmd_status(ctx: Context, args: argparse.Namespace) -> int:
    profile = ctx.profile
    token = profile.token
    if daemon_managed() and not token.startswith("mat_"):
        raise CliError(
            "agent execution context requires MULTICA_TOKEN to be a task-scoped mat_ token",
            EXIT_AUTH,
        )
    if not token:
        info("Not authenticated. Run `multica login` to authenticate.")
        return EXIT_AUTH
    try:
        me = _me(profile.server_url, token)
    except ApiError as exc:
        if exc.exit_code == EXIT_NETWORK:
            raise
        info(f"Token is invalid or expired: {exc.message}\nRun `multica login` to re-authenticate.")
        return exc.exit_code
    lines = [
        f"Server:    {profile.server_url}",
        f"User:      {me.get('name', '')} ({me.get('email', '')})",
    ]
    if not daemon_managed():
        prefix = token[:12] + "..." if len(token) > 12 else token
        lines.append(f"Token:     {prefix}")
    if profile.workspace_id:
        lines.append(f"Workspace: {profile.workspace_id}")
    if ctx.output == "json":
        print_json(
            {
                "server_url": profile.server_url,
                "user": {"name": me.get("name"), "email": me.get("email"), "id": me.get("id")},
                "workspace_id": profile.workspace_id or None,
            }
        )
    else:
        info("\n".join(lines))
    return 0


def cmd_logout(ctx: Context, args: argparse.Namespace) -> None:
    require_human("logout")
    if not read_config(ctx.profile_name).get("token"):
        info("Not authenticated.")
        return
    update_config(ctx.profile_name, token=None)
    info("Logged out.")
