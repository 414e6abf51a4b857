"""WebSocket consumers: the browser socket ``/ws`` and the daemon socket ``/api/daemon/ws``.

Both decide identity and tenancy through the same functions as the HTTP API
(``workspaces.authentication`` and ``workspaces.context.resolve_workspace_context``).
Frames are hints; the API is the source of truth, and clients resync on a ``seq`` gap.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
from collections.abc import Callable
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import parse_qs, urlparse

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from rest_framework.exceptions import APIException

from multica_site.errors import DomainError
from workspaces import realtime
from workspaces.authentication import Credential, authenticate_token, user_from_jwt
from workspaces.context import WorkspaceContext, WorkspaceIdentifiers, resolve_workspace_context
from workspaces.tokens import CLOUD_TOKEN_PREFIX, TASK_TOKEN_PREFIX

logger = logging.getLogger("multica.ws")

MAX_FRAME_BYTES = 64 * 1024
OUTBOX_FRAMES = 256
AUTH_TIMEOUT = 10.0
# Re-join groups periodically, against channels-redis' group expiry (1 day). A lost Redis is
# handled by closing the socket (1012): the client reconnects and resyncs.
GROUP_REFRESH_SECONDS = 600.0

# scope -> authorizer(ctx, id) -> bool, for task/chat rooms (filled by the domains that own them).
ScopeAuthorizer = Callable[[WorkspaceContext, str], bool]
SCOPE_AUTHORIZERS: dict[str, ScopeAuthorizer] = {}

# Daemon socket: authorizer(user, credential, runtime_ids) -> bool (filled by runtimes).
DAEMON_RUNTIME_AUTHORIZERS: list[Callable[[Any, Credential, list[str]], bool]] = []
# The daemon socket's token check: the runtimes domain installs one that admits daemon tokens
# (``mdt_``) and refuses task tokens; the last entry wins.
DAEMON_AUTHENTICATORS: list[Callable[[str], tuple[Any, Credential]]] = [authenticate_token]
# Daemon frames by type: handler(consumer, payload) -> reply frame | None (filled by runtimes).
DAEMON_FRAME_HANDLERS: dict[str, Callable[[Any, dict[str, Any]], dict[str, Any] | None]] = {}


def _headers(scope: dict[str, Any]) -> dict[str, str]:
    return {k.decode("latin1").lower(): v.decode("latin1") for k, v in scope.get("headers", [])}


def _query(scope: dict[str, Any]) -> dict[str, list[str]]:
    return parse_qs(scope.get("query_string", b"").decode("latin1"))


def origin_allowed(headers: dict[str, str]) -> bool:
    """Empty (non-browser), same host, or listed in the allowed origins (spec §9)."""
    origin = headers.get("origin")
    if not origin:
        return True
    parsed = urlparse(origin)
    host = headers.get("x-forwarded-host") or headers.get("host", "")
    if parsed.netloc and parsed.netloc.lower() == host.lower():
        return True
    allowed = {o.rstrip("/").lower() for o in settings.CORS_ALLOWED_ORIGINS}
    return origin.rstrip("/").lower() in allowed


def _resolve(user: Any, credential: Credential | None, query: dict[str, list[str]]) -> Any:
    identifiers = WorkspaceIdentifiers(
        slug=(query.get("workspace_slug") or [None])[0],
        workspace_id=(query.get("workspace_id") or [None])[0],
    )
    return resolve_workspace_context(user=user, credential=credential, identifiers=identifiers)


def _authenticate_frame_token(token: str) -> tuple[Any, Credential]:
    if not token or token.startswith((TASK_TOKEN_PREFIX, CLOUD_TOKEN_PREFIX)):
        raise DomainError("invalid token", code="unauthorized", status=401)
    try:
        return authenticate_token(token)
    except APIException as exc:
        raise DomainError("invalid token", code="unauthorized", status=401) from exc


class ResilientConsumer(AsyncJsonWebsocketConsumer):
    """Closes with 1012 (service restart) when the channel layer's Redis goes away, instead of
    dropping the TCP connection: clients reconnect and resync from the API."""

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        try:
            await super().__call__(scope, receive, send)
        except (RedisConnectionError, RedisTimeoutError) as exc:
            logger.warning("channel layer unavailable (%r); closing socket for reconnect", exc)
            with contextlib.suppress(Exception):
                await send({"type": "websocket.close", "code": 1012})


class BrowserConsumer(ResilientConsumer):
    """``GET /ws?workspace_id=…`` (or ``workspace_slug``): cookie or first-frame token auth."""

    ctx: WorkspaceContext | None = None

    async def connect(self) -> None:
        headers = _headers(self.scope)
        self.query = _query(self.scope)
        self.groups_joined: set[str] = set()
        self._tasks: list[asyncio.Task] = []
        if not origin_allowed(headers):
            await self.close(code=4403)
            return
        if not (self.query.get("workspace_id") or self.query.get("workspace_slug")):
            await self.close(code=4400)
            return
        cookie = SimpleCookie(headers.get("cookie", ""))
        morsel = cookie.get(settings.AUTH_COOKIE_NAME)
        if morsel is not None and morsel.value:
            # Cookie mode: checked before the upgrade; no ack.
            user = await database_sync_to_async(user_from_jwt)(morsel.value)
            if user is None:
                await self.close(code=4401)
                return
            try:
                ctx = await database_sync_to_async(_resolve)(user, Credential("cookie"), self.query)
            except DomainError:
                await self.close(code=4403)
                return
            await self.accept()
            await self._start(ctx)
            return
        # Token mode: the first frame must authenticate within 10 s.
        await self.accept()
        self._tasks.append(asyncio.create_task(self._auth_deadline()))

    async def _auth_deadline(self) -> None:
        await asyncio.sleep(AUTH_TIMEOUT)
        if self.ctx is None:
            await self.send_json({"error": "authentication timeout"})
            await self.close(code=4401)

    async def _start(self, ctx: WorkspaceContext) -> None:
        self.ctx = ctx
        self.outbox: asyncio.Queue[str] = asyncio.Queue(maxsize=OUTBOX_FRAMES)
        self._tasks.append(asyncio.create_task(self._write_outbox()))
        self.hub = realtime.hub()
        await self.hub.join(str(ctx.workspace_id), self)
        await self._join(realtime.user_group(ctx.user.pk))
        self._tasks.append(asyncio.create_task(self._refresh_groups()))

    def deliver(self, text: str) -> None:
        """A workspace frame from the hub. A client too slow to keep a 256-frame outbox
        drained is dropped; it reconnects and resyncs."""
        try:
            self.outbox.put_nowait(text)
        except asyncio.QueueFull:
            if not getattr(self, "_dropping", False):
                self._dropping = True
                self._tasks.append(asyncio.create_task(self.close(code=4008)))

    async def _write_outbox(self) -> None:
        while True:
            text = await self.outbox.get()
            await self.send(text_data=text)

    async def _join(self, group: str) -> None:
        await self.channel_layer.group_add(group, self.channel_name)
        self.groups_joined.add(group)

    async def _refresh_groups(self) -> None:
        while True:
            await asyncio.sleep(GROUP_REFRESH_SECONDS * random.uniform(0.8, 1.2))  # noqa: S311
            for group in list(self.groups_joined):
                with contextlib.suppress(Exception):
                    await self.channel_layer.group_add(group, self.channel_name)

    async def disconnect(self, code: int) -> None:
        for task in self._tasks:
            task.cancel()
        if self.ctx is not None and getattr(self, "hub", None) is not None:
            await self.hub.leave(str(self.ctx.workspace_id), self)
        for group in getattr(self, "groups_joined", ()):
            with contextlib.suppress(Exception):
                await self.channel_layer.group_discard(group, self.channel_name)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        raw = text_data if text_data is not None else (bytes_data or b"").decode("utf-8", "replace")
        if len(raw.encode()) > MAX_FRAME_BYTES:
            await self.close(code=1009)
            return
        try:
            content = json.loads(raw)
        except ValueError:
            content = None
        if not isinstance(content, dict):
            if self.ctx is None:
                await self._fail_auth("expected auth message as first frame")
            return
        await self.receive_json(content)

    async def _fail_auth(self, message: str) -> None:
        await self.send_json({"error": message})
        await self.close(code=4401)

    async def receive_json(self, content: dict[str, Any], **kwargs: Any) -> None:
        kind = content.get("type")
        if self.ctx is None:
            if kind != "auth":
                await self._fail_auth("expected auth message as first frame")
                return
            payload = content.get("payload") if isinstance(content.get("payload"), dict) else {}
            try:
                user, credential = await database_sync_to_async(_authenticate_frame_token)(
                    str(payload.get("token") or "")
                )
                ctx = await database_sync_to_async(_resolve)(user, credential, self.query)
            except DomainError as exc:
                text = "invalid token" if exc.status == 401 else "not a member of this workspace"
                await self._fail_auth(text)
                return
            await self.send_json({"type": "auth_ack"})
            await self._start(ctx)
            return
        if kind == "ping":
            await self.send_json({"type": "pong"})
        elif kind in ("subscribe", "unsubscribe"):
            await self._subscription(kind, content.get("payload"))

    async def _subscription(self, kind: str, payload: Any) -> None:
        if not isinstance(payload, dict) or not isinstance(payload.get("scope"), str):
            await self.send_json({"type": f"{kind}_error", "payload": {"error": "invalid payload"}})
            return
        scope, target = payload["scope"], str(payload.get("id") or "")
        reply = {"scope": scope, "id": target}
        ctx = self.ctx
        if scope == "workspace":
            ok = target == str(ctx.workspace_id)
        elif scope == "user":
            ok = target == str(ctx.user.pk)
        elif scope in SCOPE_AUTHORIZERS:
            try:
                ok = await database_sync_to_async(SCOPE_AUTHORIZERS[scope])(ctx, target)
            except Exception:
                logger.exception("scope authorizer failed for %s", scope)
                await self.send_json(
                    {"type": f"{kind}_error", "payload": {**reply, "error": "lookup_failed"}}
                )
                return
        else:
            await self.send_json(
                {"type": f"{kind}_error", "payload": {**reply, "error": "unknown_scope"}}
            )
            return
        if not ok:
            await self.send_json(
                {"type": f"{kind}_error", "payload": {**reply, "error": "forbidden"}}
            )
            return
        group = f"{scope}.{target}" if scope in SCOPE_AUTHORIZERS else None
        if group and kind == "subscribe":
            await self._join(group)
        elif group:
            self.groups_joined.discard(group)
            await self.channel_layer.group_discard(group, self.channel_name)
        await self.send_json({"type": f"{kind}_ack", "payload": reply})

    # --- messages from the channel layer ---------------------------------------------------

    async def event_frame(self, message: dict[str, Any]) -> None:
        if self.ctx is None:
            return
        skip = message.get("skip_workspace")
        if skip and skip == str(self.ctx.workspace_id):
            return  # already delivered through the workspace room
        await self.send(text_data=message["text"])

    async def member_revoked(self, message: dict[str, Any]) -> None:
        if self.ctx is not None and message.get("workspace_id") == str(self.ctx.workspace_id):
            await self.send_json({"error": "not a member of this workspace"})
            await self.close(code=4403)


class DaemonConsumer(ResilientConsumer):
    """``GET /api/daemon/ws?runtime_ids=a,b``: bearer token in the handshake; a group per runtime.

    The frames' handlers (heartbeat → ack, claim RPC) are registered by the runtimes domain in
    ``DAEMON_FRAME_HANDLERS``; runtime access is checked by ``DAEMON_RUNTIME_AUTHORIZERS``.
    """

    async def connect(self) -> None:
        headers = _headers(self.scope)
        self.groups_joined: set[str] = set()
        auth = headers.get("authorization", "")
        scheme, _, token = auth.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            await self.close(code=4401)
            return
        try:
            self.user, self.credential = await database_sync_to_async(DAEMON_AUTHENTICATORS[-1])(
                token.strip()
            )
        except APIException:
            await self.close(code=4401)
            return
        query = _query(self.scope)
        ids: list[str] = []
        for value in query.get("runtime_ids", []) + query.get("runtime_id", []):
            ids.extend(v for v in value.split(",") if v)
        self.runtime_ids = sorted(set(ids))
        authorized = bool(self.runtime_ids) and any(
            [
                await database_sync_to_async(check)(self.user, self.credential, self.runtime_ids)
                for check in DAEMON_RUNTIME_AUTHORIZERS
            ]
        )
        if not authorized:
            await self.close(code=4403)
            return
        self.client_capabilities = headers.get("x-client-capabilities", "")
        await self.accept()
        for runtime_id in self.runtime_ids:
            group = realtime.runtime_group(runtime_id)
            await self.channel_layer.group_add(group, self.channel_name)
            self.groups_joined.add(group)

    async def disconnect(self, code: int) -> None:
        for group in getattr(self, "groups_joined", ()):
            with contextlib.suppress(Exception):
                await self.channel_layer.group_discard(group, self.channel_name)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        raw = text_data if text_data is not None else (bytes_data or b"").decode("utf-8", "replace")
        if len(raw.encode()) > MAX_FRAME_BYTES:
            await self.close(code=1009)
            return
        with contextlib.suppress(ValueError):
            content = json.loads(raw)
            if isinstance(content, dict):
                await self.receive_json(content)

    async def receive_json(self, content: dict[str, Any], **kwargs: Any) -> None:
        handler = DAEMON_FRAME_HANDLERS.get(str(content.get("type")))
        payload = content.get("payload") if isinstance(content.get("payload"), dict) else {}
        if handler is None:
            return
        reply = await database_sync_to_async(handler)(self, payload)
        if reply is not None:
            await self.send_json(reply)

    async def daemon_frame(self, message: dict[str, Any]) -> None:
        await self.send_json(message["frame"])
