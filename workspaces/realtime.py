"""Real-time fan-out: from a committed service write to every connected socket that may see it.

``multica_site.events.publish`` hands committed events to :func:`channel_layer_sink`, which

1. numbers workspace events with a per-workspace, strictly increasing ``seq`` (a PostgreSQL
   upsert: the database, not Redis, is the source of truth, so a Redis restart shows up in
   clients as a gap they resync from, never as numbers going backwards);
2. queues the frame for the process's publisher thread, which sends frames in order.

Routing (spec §9): workspace events are published once to Redis (``multica:ws:<id>``) and each
server process's :class:`WorkspaceHub` pushes them to its sockets of that workspace; user-room
events go through the channel layer to ``user.<user_id>``; ``member:removed`` additionally tells
the removed user's sockets on that workspace to close. Frames are best-effort hints over a real
source of truth (the API).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import queue
import threading
from typing import Any

import redis as redis_sync
import redis.asyncio as redis_async
from channels.layers import get_channel_layer
from django.conf import settings
from django.db import IntegrityError, connection, transaction
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from multica_site.events import Event

logger = logging.getLogger("multica.realtime")

# Events that go to the recipient's personal room only (spec §9 "User-room only").
USER_ROOM_ONLY = frozenset(
    {
        "inbox:new",
        "inbox:read",
        "inbox:unread",
        "inbox:archived",
        "inbox:unarchived",
        "inbox:batch-read",
        "inbox:batch-archived",
        "invitation:created",
        "invitation:revoked",
    }
)


def user_group(user_id: Any) -> str:
    return f"user.{user_id}"


def runtime_group(runtime_id: Any) -> str:
    return f"daemon.runtime.{runtime_id}"


def next_seq(workspace_id: str) -> int | None:
    """Allocate the next event number of a workspace (its own statement, after commit).

    ``None`` when the workspace is gone (``workspace:deleted`` is still delivered, unnumbered).
    """
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO workspace_event_seq (workspace_id, seq) "
                "SELECT id, 1 FROM workspace WHERE id = %s "
                "ON CONFLICT (workspace_id) DO UPDATE SET seq = workspace_event_seq.seq + 1 "
                "RETURNING seq",
                [workspace_id],
            )
            row = cursor.fetchone()
    except IntegrityError:  # deleted between the SELECT and the insert
        return None
    return row[0] if row else None


class Publisher:
    """One thread per process that sends frames in order: workspace frames with one Redis
    PUBLISH each (read by every server process's :class:`WorkspaceHub`), everything else
    (user rooms, task rooms, daemon sockets) through the channel layer."""

    def __init__(self) -> None:
        self._queue: queue.SimpleQueue[tuple[str, Any] | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._idle = threading.Event()
        self._idle.set()
        self._pending = 0

    def send(self, group: str, message: dict[str, Any]) -> None:
        """A channel-layer message to a group."""
        self._put(("group", (group, message)))

    def publish_workspace(self, workspace_id: str, text: str) -> None:
        """A pre-encoded frame for every socket of a workspace, on every server process."""
        self._put(("workspace", (workspace_id, text)))

    def _put(self, item: tuple[str, Any]) -> None:
        with self._lock:
            self._pending += 1
            self._idle.clear()
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._run, name="multica-publisher", daemon=True
                )
                self._thread.start()
        self._queue.put(item)

    def flush(self, timeout: float = 5.0) -> bool:
        """Wait until every queued frame has been handed to Redis."""
        return self._idle.wait(timeout)

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        layer = get_channel_layer()
        client = redis_sync.Redis.from_url(settings.REDIS_URL, socket_timeout=10)
        while True:
            item = self._queue.get()
            if item is None:
                break
            kind, (target, body) = item
            try:
                if kind == "workspace":
                    client.publish(hub_channel(target), body)
                else:
                    loop.run_until_complete(layer.group_send(target, body))
            except Exception:  # Redis down: frames are hints; clients resync on the seq gap
                logger.warning("realtime: sending to %s failed", target, exc_info=True)
            finally:
                with self._lock:
                    self._pending -= 1
                    if self._pending == 0:
                        self._idle.set()
        loop.close()


def hub_channel(workspace_id: Any) -> str:
    return f"multica:ws:{workspace_id}"


class WorkspaceHub:
    """Per server process: one Redis pub/sub subscription per workspace with local sockets.

    Each frame is read once per process and pushed, already encoded, into every local socket's
    bounded outbox; the socket's own writer sends it. This replaces a per-socket channel-layer
    message (queue, deserialization, dispatch) on the hottest path: a workspace event fans out
    to every member's browser.
    """

    def __init__(self) -> None:
        self.rooms: dict[str, set[Any]] = {}
        self._client: Any = None
        self._pubsub: Any = None
        self._task: asyncio.Task | None = None
        self._lock = asyncio.Lock()

    async def join(self, workspace_id: str, sock: Any) -> None:
        async with self._lock:
            if self._pubsub is None:
                self._client = redis_async.Redis.from_url(
                    settings.REDIS_URL, socket_timeout=None, socket_connect_timeout=10
                )
                self._pubsub = self._client.pubsub(ignore_subscribe_messages=True)
            room = self.rooms.setdefault(workspace_id, set())
            room.add(sock)
            if len(room) == 1:
                await self._pubsub.subscribe(hub_channel(workspace_id))
            if self._task is None or self._task.done():
                self._task = asyncio.ensure_future(self._run())

    async def leave(self, workspace_id: str, sock: Any) -> None:
        async with self._lock:
            room = self.rooms.get(workspace_id)
            if room is None:
                return
            room.discard(sock)
            if not room:
                del self.rooms[workspace_id]
                with contextlib.suppress(Exception):
                    await self._pubsub.unsubscribe(hub_channel(workspace_id))

    async def _run(self) -> None:
        prefix = len(hub_channel(""))
        while self.rooms:
            try:
                message = await self._pubsub.get_message(timeout=1.0)
            except (RedisConnectionError, RedisTimeoutError, OSError):
                # redis-py reconnects and re-subscribes on the next read; frames published
                # meanwhile are lost and clients see the seq gap.
                logger.warning("realtime hub: Redis connection lost; resubscribing")
                await asyncio.sleep(0.5)
                continue
            if message is None or message.get("type") != "message":
                continue
            channel = message["channel"]
            workspace_id = (channel.decode() if isinstance(channel, bytes) else channel)[prefix:]
            data = message["data"]
            text = data.decode() if isinstance(data, bytes) else data
            for sock in tuple(self.rooms.get(workspace_id, ())):
                sock.deliver(text)


_hubs: dict[Any, WorkspaceHub] = {}


def hub() -> WorkspaceHub:
    """The hub of the running event loop (one per server process)."""
    loop = asyncio.get_running_loop()
    if loop not in _hubs:
        _hubs[loop] = WorkspaceHub()
    return _hubs[loop]


publisher = Publisher()


def frame_for(event: Event, seq: int | None = None) -> str:
    """The frame's text, encoded once for every socket that receives it."""
    frame = event.envelope()
    if seq is not None:
        frame["seq"] = seq
    return json.dumps(frame, separators=(",", ":"), ensure_ascii=False, default=str)


def channel_layer_sink(event: Event) -> None:
    """The events sink that feeds WebSockets (registered at app start)."""
    if event.type in USER_ROOM_ONLY or not event.workspace_id:
        frame = frame_for(event)
        for user_id in event.user_ids:
            publisher.send(user_group(user_id), {"type": "event.frame", "text": frame})
        return
    seq = next_seq(event.workspace_id)
    frame = frame_for(event, seq)
    publisher.publish_workspace(event.workspace_id, frame)
    if event.type == "member:added":
        # The added user's other connections (not on this workspace yet) learn about it too.
        for user_id in event.user_ids:
            publisher.send(
                user_group(user_id),
                {"type": "event.frame", "text": frame, "skip_workspace": event.workspace_id},
            )
    if event.type == "member:removed":
        user_id = event.payload.get("user_id")
        if user_id:
            publisher.send(
                user_group(user_id),
                {"type": "member.revoked", "workspace_id": event.workspace_id},
            )


def send_to_runtime(runtime_id: Any, event_type: str, payload: dict[str, Any]) -> None:
    """A daemon-socket frame (``daemon:task_available`` …) to every socket of a runtime."""
    publisher.send(
        runtime_group(runtime_id),
        {"type": "daemon.frame", "frame": {"type": event_type, "payload": payload}},
    )


def register() -> None:
    from multica_site.events import add_sink  # noqa: PLC0415

    add_sink(channel_layer_sink)
