"""The browser socket against the real server process, with real WebSocket clients."""

from __future__ import annotations

import json
import threading
import time

import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import connect

from workspaces.context import WorkspaceIdentifiers, resolve_workspace_context
from workspaces.services.workspaces import member_remove, workspace_update
from workspaces.tokens import issue_jwt

pytestmark = [
    pytest.mark.filterwarnings("ignore::DeprecationWarning"),
    pytest.mark.websockets,
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("layer_on_rt_redis"),
]


def ctx_for(user, workspace):
    return resolve_workspace_context(
        user=user, credential=None, identifiers=WorkspaceIdentifiers(workspace_id=str(workspace.id))
    )


def open_socket(asgi_server, workspace, *, user=None, token_frame=None, origin=None, **kw):
    headers = {}
    if user is not None:
        headers["Cookie"] = f"multica_auth={issue_jwt(user)}"
    if origin:
        headers["Origin"] = origin
    ws = connect(
        f"{asgi_server.ws_url}/ws?workspace_id={workspace.id}",
        additional_headers=headers,
        open_timeout=10,
        **kw,
    )
    if token_frame is not None:
        ws.send(json.dumps({"type": "auth", "payload": {"token": token_frame}}))
        assert json.loads(ws.recv(timeout=10)) == {"type": "auth_ack"}
    return ws


def recv_json(ws, timeout=5.0):
    return json.loads(ws.recv(timeout=timeout))


def wait_joined(ws):
    """A ping round trip proves the consumer has started (groups joined before accept/ack)."""
    ws.send(json.dumps({"type": "ping"}))
    assert recv_json(ws) == {"type": "pong"}


def test_cookie_auth_event_arrives_after_commit(asgi_server, ws):
    from django.db import transaction

    sock = open_socket(asgi_server, ws.workspace, user=ws.member)
    wait_joined(sock)
    ctx = ctx_for(ws.owner, ws.workspace)
    with transaction.atomic():
        workspace_update(ctx=ctx, name="Renamed")
        time.sleep(0.3)
        with pytest.raises(TimeoutError):
            sock.recv(timeout=0.3)  # nothing before commit
    frame = recv_json(sock)
    assert frame["type"] == "workspace:updated"
    assert frame["payload"]["workspace"]["name"] == "Renamed"
    assert frame["actor_type"] == "member"
    assert frame["actor_id"] == str(ws.owner.id)
    assert isinstance(frame["seq"], int)
    sock.close()


def test_token_in_first_frame(asgi_server, ws):
    sock = open_socket(asgi_server, ws.workspace, token_frame=issue_jwt(ws.member))
    wait_joined(sock)
    workspace_update(ctx=ctx_for(ws.owner, ws.workspace), description="x")
    assert recv_json(sock)["type"] == "workspace:updated"
    sock.close()


def test_bad_token_frame_is_refused(asgi_server, ws):
    sock = open_socket(asgi_server, ws.workspace)
    sock.send(json.dumps({"type": "auth", "payload": {"token": "nope"}}))
    assert recv_json(sock) == {"error": "invalid token"}
    with pytest.raises(ConnectionClosed):
        sock.recv(timeout=5)


def test_first_frame_must_be_auth(asgi_server, ws):
    sock = open_socket(asgi_server, ws.workspace)
    sock.send(json.dumps({"type": "ping"}))
    assert recv_json(sock) == {"error": "expected auth message as first frame"}
    with pytest.raises(ConnectionClosed):
        sock.recv(timeout=5)


def test_non_member_is_refused(asgi_server, ws, other_ws):
    with pytest.raises(InvalidStatus):
        open_socket(asgi_server, ws.workspace, user=other_ws.owner)
    sock = open_socket(asgi_server, ws.workspace)
    sock.send(json.dumps({"type": "auth", "payload": {"token": issue_jwt(other_ws.owner)}}))
    assert recv_json(sock) == {"error": "not a member of this workspace"}


def test_wrong_origin_is_refused_and_same_host_allowed(asgi_server, ws):
    with pytest.raises(InvalidStatus):
        open_socket(asgi_server, ws.workspace, user=ws.member, origin="https://evil.example")
    host = asgi_server.url.removeprefix("http://")
    open_socket(asgi_server, ws.workspace, user=ws.member, origin=f"http://{host}").close()


def test_oversize_frame_closes(asgi_server, ws):
    sock = open_socket(asgi_server, ws.workspace, user=ws.member, max_size=None)
    wait_joined(sock)
    sock.send(json.dumps({"type": "ping", "pad": "x" * (65 * 1024)}))
    with pytest.raises(ConnectionClosed):
        sock.recv(timeout=5)


def test_no_auth_within_10_seconds_closes(asgi_server, ws):
    sock = open_socket(asgi_server, ws.workspace)
    started = time.monotonic()
    assert recv_json(sock, timeout=15) == {"error": "authentication timeout"}
    with pytest.raises(ConnectionClosed):
        sock.recv(timeout=5)
    assert 9 <= time.monotonic() - started < 14


def test_subscribe_frames(asgi_server, ws):
    sock = open_socket(asgi_server, ws.workspace, user=ws.member)
    sock.send(
        json.dumps(
            {"type": "subscribe", "payload": {"scope": "workspace", "id": str(ws.workspace.id)}}
        )
    )
    assert recv_json(sock) == {
        "type": "subscribe_ack", "payload": {"scope": "workspace", "id": str(ws.workspace.id)}
    }  # fmt: skip
    sock.send(
        json.dumps({"type": "subscribe", "payload": {"scope": "user", "id": str(ws.owner.id)}})
    )
    assert recv_json(sock)["payload"]["error"] == "forbidden"
    sock.send(json.dumps({"type": "subscribe", "payload": {"scope": "galaxy", "id": "x"}}))
    assert recv_json(sock)["payload"]["error"] == "unknown_scope"
    sock.send(json.dumps({"type": "subscribe", "payload": "nope"}))
    assert recv_json(sock)["payload"]["error"] == "invalid payload"
    sock.close()


def test_nothing_crosses_workspaces(asgi_server, ws, other_ws):
    """1,000 events in workspace B; a client of workspace A receives none of them."""
    from django.db import connection

    from multica_site.events import publish
    from workspaces import realtime

    sock_a = open_socket(asgi_server, ws.workspace, user=ws.member)
    sock_b = open_socket(asgi_server, other_ws.workspace, user=other_ws.owner)
    wait_joined(sock_a)
    wait_joined(sock_b)
    for i in range(1000):
        publish("workspace:updated", {"n": i}, workspace_id=other_ws.workspace.id)
    realtime.publisher.flush(30)
    received_b = 0
    deadline = time.monotonic() + 30
    while received_b < 1000 and time.monotonic() < deadline:
        recv_json(sock_b, timeout=10)
        received_b += 1
    assert received_b == 1000
    with pytest.raises(TimeoutError):
        sock_a.recv(timeout=1)
    assert connection.connection is not None
    sock_a.close()
    sock_b.close()


def test_seq_is_strictly_increasing(asgi_server, ws):
    from multica_site.events import publish

    sock = open_socket(asgi_server, ws.workspace, user=ws.member)
    wait_joined(sock)
    for i in range(20):
        publish("workspace:updated", {"n": i}, workspace_id=ws.workspace.id)
    seqs = [recv_json(sock)["seq"] for _ in range(20)]
    assert seqs == list(range(seqs[0], seqs[0] + 20))


def test_gap_after_redis_restart(asgi_server, ws, rt_redis):
    """A Redis restart loses what was in flight: events published meanwhile are lost. Sockets
    either stay up (the layer re-subscribes) or are closed with 1012 and reconnect; either way
    the next event the client sees carries a seq gap, and the client resyncs from the API."""
    from multica_site.events import publish
    from workspaces import realtime

    sock = open_socket(asgi_server, ws.workspace, user=ws.member)
    wait_joined(sock)
    publish("workspace:updated", {"n": 0}, workspace_id=ws.workspace.id)
    first = recv_json(sock)["seq"]
    rt_redis.restart()
    publish("workspace:updated", {"n": 1}, workspace_id=ws.workspace.id)  # lost
    realtime.publisher.flush(10)
    frame = None
    close_codes: list = []
    deadline = time.monotonic() + 30
    while frame is None and time.monotonic() < deadline:
        publish("workspace:updated", {"n": 2}, workspace_id=ws.workspace.id)
        realtime.publisher.flush(10)
        try:
            frame = recv_json(sock, timeout=1)
        except TimeoutError:
            continue
        except ConnectionClosed as closed:
            close_codes.append(closed.rcvd.code if closed.rcvd else None)
            sock = open_socket(asgi_server, ws.workspace, user=ws.member)
            wait_joined(sock)
    assert frame is not None, "events never resumed after the Redis restart"
    assert set(close_codes) <= {1012}, "a socket dropped by Redis loss closes as a restart"
    assert frame["payload"] == {"n": 2}
    assert frame["seq"] > first + 1, "the lost event leaves a gap the client detects"
    sock.close()


def test_member_removal_closes_socket(asgi_server, ws):
    from workspaces.models import Member

    sock = open_socket(asgi_server, ws.workspace, user=ws.member)
    wait_joined(sock)
    member = Member.objects.get(workspace=ws.workspace, user=ws.member)
    started = time.monotonic()
    member_remove(ctx=ctx_for(ws.owner, ws.workspace), member_id=member.id)
    closed = threading.Event()
    try:
        while time.monotonic() - started < 5:
            sock.recv(timeout=5 - (time.monotonic() - started))
    except ConnectionClosed:
        closed.set()
    except TimeoutError:
        pass
    assert closed.is_set(), "socket still open 5 s after the member was removed"


def test_fan_out_across_server_processes(asgi_server, second_server, ws):
    """Clients on two server processes sharing Redis both get an event."""
    from multica_site.events import publish

    a = open_socket(asgi_server, ws.workspace, user=ws.member)
    b = open_socket(second_server, ws.workspace, user=ws.owner)
    wait_joined(a)
    wait_joined(b)
    publish("workspace:updated", {"n": "both"}, workspace_id=ws.workspace.id)
    fa, fb = recv_json(a), recv_json(b)
    assert fa["payload"] == fb["payload"] == {"n": "both"}
    assert fa["seq"] == fb["seq"]
    a.close()
    b.close()
