"""The daemon socket transport: bearer auth in the handshake, one group per runtime."""

from __future__ import annotations

import json
import uuid

import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from workspaces import realtime
from workspaces.tokens import issue_jwt

pytestmark = [
    pytest.mark.websockets,
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("layer_on_rt_redis"),
]


def dial(server, token, runtime_ids):
    query = ",".join(runtime_ids)
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return connect(
        f"{server.ws_url}/api/daemon/ws?runtime_ids={query}",
        additional_headers=headers,
        open_timeout=10,
    )


def test_handshake_needs_a_bearer_token(asgi_server):
    with pytest.raises(InvalidStatus):
        dial(asgi_server, None, [str(uuid.uuid4())])
    with pytest.raises(InvalidStatus):
        dial(asgi_server, "garbage", [str(uuid.uuid4())])


def test_runtime_access_is_checked(asgi_server, ws):
    # No runtime authorizer grants these ids (runtimes are registered by the daemon protocol).
    with pytest.raises(InvalidStatus):
        dial(asgi_server, issue_jwt(ws.owner), [str(uuid.uuid4())])


def test_frames_reach_only_the_runtime_group(asgi_server, ws):
    """The server's stub runtimes domain (tests/realtime/daemon_stub) grants ids starting with
    'aaaaaaaa'; frames for a runtime reach only its sockets."""
    mine = "aaaaaaaa-0000-4000-8000-000000000001"
    other = "aaaaaaaa-0000-4000-8000-000000000002"
    with (
        dial(asgi_server, issue_jwt(ws.owner), [mine]) as a,
        dial(asgi_server, issue_jwt(ws.owner), [other]) as b,
    ):
        a.send(json.dumps({"type": "daemon:heartbeat", "payload": {"runtime_id": mine}}))
        ack = json.loads(a.recv(timeout=5))
        assert ack["type"] == "daemon:heartbeat_ack"
        assert ack["payload"]["runtime_id"] == mine
        realtime.send_to_runtime(mine, "daemon:task_available", {"runtime_id": mine})
        realtime.publisher.flush()
        frame = json.loads(a.recv(timeout=5))
        assert frame == {"type": "daemon:task_available", "payload": {"runtime_id": mine}}
        with pytest.raises(TimeoutError):
            b.recv(timeout=1)
