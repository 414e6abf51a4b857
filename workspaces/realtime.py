"""Real-time fan-out: from a committed service write to every connected socket that may see it.

``multica_site.events.publish`` hands committed events to :func:`channel_layer_sink`, which

1. queues the event for the process's publisher thread, which
2. numbers workspace events with a per-workspace, strictly increasing ``seq`` (a PostgreSQL
   upsert per workspace per batch of queued events: the database, not Redis, is the source of
   truth, so a Redis restart shows up in clients as a gap they resync from, never as numbers
   going backwards), and sends the frames in order.

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


def allocate_seqs(workspace_id: str, count: int = 1) -> int | None:
    """Reserve the next ``count`` event numbers of a workspace in one statement; returns the
    last of them (the block is ``last - count + 1 … last``).

    ``None`` when the workspace is gone (``workspace:deleted`` is still delivered, unnumbered).
    """
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO workspace_event_seq (workspace_id, seq) "
                "SELECT id, %s FROM workspace WHERE id = %s "
                "ON CONFLICT (workspace_id) DO UPDATE SET seq = workspace_event_seq.seq + %s "
                "RETURNING seq",
                [count, workspace_id, count],
            )
            row = cursor.fetchone()
    except IntegrityError:  # deleted between the SELECT and the insert
        return None
    return row[0] if row else None


class Publisher:
    """One thread per process that numbers workspace events and sends frames in order.

    Workspace events are numbered here, off the request thread: the thread drains whatever is
    queued (up to :attr:`BATCH`) and reserves each workspace's numbers for the whole batch in
    one statement, so a claim that dispatches eight tasks costs one upsert, not eight. Frames
    then go out in the order they were queued: workspace frames with one Redis PUBLISH each
    (read by every server process's :class:`WorkspaceHub`), everything else (user rooms,
    daemon sockets) through the channel layer. The thread's database connection is closed when
    it has been idle for ``REALTIME_PUBLISHER_IDLE_CLOSE_SECONDS`` (default :attr:`IDLE_CLOSE`;
    0 closes it whenever the queue runs empty, as the tests do so that no connection outlives
    the test database) and when the publisher is closed.
    """

    BATCH = 256
    IDLE_CLOSE = 30.0

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

    def workspace_event(self, event: Event) -> None:
        """A committed workspace event, numbered and encoded by the publisher thread."""
        self._put(("event", event))

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

    def close(self, timeout: float = 5.0) -> None:
        """Send what is queued, then stop the thread (it closes its database connection)."""
        with self._lock:
            thread = self._thread
        if thread is None or not thread.is_alive():
            return
        self._queue.put(None)
        thread.join(timeout)

    def _take_batch(self) -> tuple[list[tuple[str, Any]], bool]:
        """Block for one item (closing an idle database connection meanwhile), then drain."""
        idle = float(getattr(settings, "REALTIME_PUBLISHER_IDLE_CLOSE_SECONDS", self.IDLE_CLOSE))
        while True:
            try:
                first = self._queue.get(timeout=idle) if idle > 0 else self._queue.get_nowait()
                break
            except queue.Empty:
                connection.close()
                if idle <= 0:
                    first = self._queue.get()
                    break
        if first is None:
            return [], True
        batch = [first]
        while len(batch) < self.BATCH:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                break
            if item is None:
                return batch, True
            batch.append(item)
        return batch, False

    def _number(self, batch: list[tuple[str, Any]]) -> dict[int, int | None]:
        """``id(event) → seq`` for the batch's workspace events: one upsert per workspace."""
        per_workspace: dict[str, list[Event]] = {}
        for kind, body in batch:
            if kind == "event":
                per_workspace.setdefault(body.workspace_id, []).append(body)
        seqs: dict[int, int | None] = {}
        for workspace_id, events in per_workspace.items():
            try:
                last = allocate_seqs(workspace_id, len(events))
            except Exception:  # database down: these frames are lost; clients resync on a gap
                logger.warning("realtime: numbering events failed", exc_info=True)
                connection.close()
                continue
            for offset, event in enumerate(events):
                seqs[id(event)] = None if last is None else last - len(events) + 1 + offset
        return seqs

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        layer = get_channel_layer()
        client = redis_sync.Redis.from_url(settings.REDIS_URL, socket_timeout=10)
        try:
            stop = False
            while not stop:
                batch, stop = self._take_batch()
                try:
                    self._send_batch(batch, client, loop, layer)
                finally:
                    with self._lock:
                        self._pending -= len(batch)
                        if self._pending == 0:
                            self._idle.set()
        finally:
            connection.close()
            loop.close()

    def _send_batch(self, batch: list[tuple[str, Any]], client: Any, loop: Any, layer: Any) -> None:
        """Number the batch's workspace events, then send everything in order: runs of
        workspace frames go to Redis in one pipelined round trip; channel-layer sends
        between them flush the run first, so the order of the queue is kept."""
        # Daemon wakeups first: they go to daemon sockets, which see no workspace frames, so
        # sending them ahead of the batch's numbering and publishing changes no order anyone
        # observes and takes a database round trip off the assignment-to-wakeup path.
        for kind, body in batch:
            if kind == "group" and body[1].get("type") == "daemon.frame":
                try:
                    loop.run_until_complete(layer.group_send(*body))
                except Exception:  # Redis down: the daemon's poll picks the task up anyway
                    logger.warning("realtime: waking %s failed", body[0], exc_info=True)
        batch = [
            (kind, body)
            for kind, body in batch
            if not (kind == "group" and body[1].get("type") == "daemon.frame")
        ]
        seqs = self._number(batch) if batch else {}
        pipe = client.pipeline(transaction=False)
        piped = 0

        def flush() -> None:
            nonlocal piped
            if piped:
                piped = 0
                try:
                    pipe.execute()
                except Exception:  # Redis down: frames are hints; clients resync on gaps
                    logger.warning("realtime: publishing workspace frames failed", exc_info=True)
                    pipe.reset()

        for kind, body in batch:
            if kind == "event":
                if id(body) not in seqs:
                    continue
                sends = _event_sends(body, seqs[id(body)])
            else:
                sends = [(kind, body)]
            for target_kind, (target, payload) in sends:
                if target_kind == "workspace":
                    pipe.publish(hub_channel(target), payload)
                    piped += 1
                    continue
                flush()
                try:
                    loop.run_until_complete(layer.group_send(target, payload))
                except Exception:  # Redis down: frames are hints; clients resync on gaps
                    logger.warning("realtime: sending to %s failed", target, exc_info=True)
        flush()


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
            # A burst arrives already buffered, and reading it does not yield: let the
            # sockets' writers drain their outboxes between frames, or a healthy client would
            # be dropped as slow after 256 frames of one burst.
            await asyncio.sleep(0)


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
    publisher.workspace_event(event)


def _event_sends(event: Event, seq: int | None) -> list[tuple[str, tuple[str, Any]]]:
    """What a numbered workspace event sends: its frame to the workspace, and for membership
    changes a word to the user's own room."""
    frame = frame_for(event, seq)
    sends: list[tuple[str, tuple[str, Any]]] = [("workspace", (event.workspace_id, frame))]
    if event.type == "member:added":
        # The added user's other connections (not on this workspace yet) learn about it too.
        for user_id in event.user_ids:
            message = {"type": "event.frame", "text": frame, "skip_workspace": event.workspace_id}
            sends.append(("group", (user_group(user_id), message)))
    if event.type == "member:removed":
        user_id = event.payload.get("user_id")
        if user_id:
            message = {"type": "member.revoked", "workspace_id": event.workspace_id}
            sends.append(("group", (user_group(user_id), message)))
    return sends


def send_to_runtime(runtime_id: Any, event_type: str, payload: dict[str, Any]) -> None:
    """A daemon-socket frame (``daemon:task_available`` …) to every socket of a runtime."""
    publisher.send(
        runtime_group(runtime_id),
        {"type": "daemon.frame", "frame": {"type": event_type, "payload": payload}},
    )


def register() -> None:
    from multica_site.events import add_sink  # noqa: PLC0415

    add_sink(channel_layer_sink)
