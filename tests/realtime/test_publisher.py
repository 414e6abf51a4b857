"""The publisher thread numbers a batch of workspace events with one upsert per workspace and
sends the frames in the order the events were committed."""

from __future__ import annotations

import json
import time

import pytest
import redis
from django.conf import settings
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from multica_site.events import Event, publish
from workspaces import realtime

pytestmark = pytest.mark.django_db(transaction=True)


def _event(workspace_id, n: int) -> Event:
    return Event(type="issue:updated", payload={"n": n}, workspace_id=str(workspace_id))


def test_a_batch_costs_one_upsert_per_workspace(ws, other_ws):
    a, b = str(ws.workspace.id), str(other_ws.workspace.id)
    batch = [("event", _event(a if n % 3 else b, n)) for n in range(9)]
    with CaptureQueriesContext(connection) as queries:
        seqs = realtime.Publisher()._number(batch)
    upserts = [q for q in queries.captured_queries if "workspace_event_seq" in q["sql"]]
    assert len(upserts) == 2

    def numbered(ws_id: str) -> list[int | None]:
        return [seqs[id(e)] for _, e in batch if e.workspace_id == ws_id]

    assert numbered(a) == list(range(1, 7))
    assert numbered(b) == [1, 2, 3]
    again = realtime.Publisher()._number([("event", _event(a, 99))])
    assert list(again.values()) == [7]


def test_a_deleted_workspace_leaves_its_events_unnumbered():
    import uuid

    seqs = realtime.Publisher()._number([("event", _event(uuid.uuid4(), 1))])
    assert list(seqs.values()) == [None]


def test_committed_events_reach_redis_numbered_in_order(ws):
    client = redis.Redis.from_url(settings.REDIS_URL)
    pubsub = client.pubsub(ignore_subscribe_messages=True)
    pubsub.subscribe(realtime.hub_channel(ws.workspace.id))
    publisher = realtime.Publisher()
    old, realtime.publisher = realtime.publisher, publisher
    try:
        with transaction.atomic():
            for n in range(8):
                publish("issue:updated", {"n": n}, workspace_id=ws.workspace.id)
        assert publisher.flush(10)
    finally:
        realtime.publisher = old
        publisher.close()
    frames = []
    deadline = time.monotonic() + 10
    while len(frames) < 8 and time.monotonic() < deadline:
        message = pubsub.get_message(timeout=1)
        if message:
            frames.append(json.loads(message["data"]))
    pubsub.close()
    assert [f["payload"]["n"] for f in frames] == list(range(8))
    seqs = [f["seq"] for f in frames]
    assert seqs == list(range(seqs[0], seqs[0] + 8))


def test_close_stops_the_thread_after_sending():
    publisher = realtime.Publisher()
    publisher.send("user.nobody", {"type": "event.frame", "text": "{}"})
    publisher.close()
    assert publisher.flush(0.1)
    assert publisher._thread is not None
    assert not publisher._thread.is_alive()
