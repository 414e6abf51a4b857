"""The daemon socket against a real server process (uvicorn) running the real runtimes app:
handshake authorization by runtime, ``daemon:heartbeat`` → ``daemon:heartbeat_ack``."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta

import pytest
from django.utils import timezone
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from runtimes.models import AgentRuntime
from skills.models import LocalSkillRequest
from tests.live_server import LiveServer
from tests.realtime.conftest import rt_redis, server_db_url  # noqa: F401
from tests.runtimes.helpers import make_runtime, mint_daemon_token
from workspaces.tokens import issue_jwt

pytestmark = [
    pytest.mark.websockets,
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
]


@pytest.fixture(scope="module")
def server(server_db_url, rt_redis):  # noqa: F811
    # The project's own settings: the real runtimes app, no daemon stub.
    srv = LiveServer(server_db_url, rt_redis, settings_module="multica_site.settings.local")
    yield srv
    srv.stop()


def dial(server, token, runtime_ids):
    return connect(
        f"{server.ws_url}/api/daemon/ws?runtime_ids={','.join(str(r) for r in runtime_ids)}",
        additional_headers={"Authorization": f"Bearer {token}", "X-Client-Platform": "daemon"},
        open_timeout=10,
    )


def heartbeat(sock, runtime_id, **extra):
    sock.send(
        json.dumps(
            {"type": "daemon:heartbeat", "payload": {"runtime_id": str(runtime_id), **extra}}
        )
    )
    return json.loads(sock.recv(timeout=10))


def test_heartbeat_ack_over_a_real_socket(server, ws):
    old = timezone.now() - timedelta(minutes=10)
    rt = make_runtime(ws.workspace, ws.member, status="offline", last_seen_at=old)
    req = LocalSkillRequest.objects.create(
        workspace=ws.workspace, runtime=rt, kind=LocalSkillRequest.Kind.LIST, requested_by=ws.member
    )
    with dial(server, issue_jwt(ws.member), [rt.id]) as sock:
        ack = heartbeat(sock, rt.id, supports_batch_import=True)
        assert ack == {
            "type": "daemon:heartbeat_ack",
            "payload": {
                "runtime_id": str(rt.id),
                "status": "ok",
                "server_capabilities": [],
                "runtime_gone": False,
                "pending_local_skills": {"id": str(req.id)},
            },
        }
        rt.refresh_from_db()
        assert rt.status == "online"
        assert rt.last_seen_at > old
        # A runtime deleted while connected: runtime_gone.
        gone = make_runtime(ws.workspace, ws.member, provider="codex")
        gone_id = gone.id
        gone.delete()
        ack = heartbeat(sock, gone_id)["payload"]
        assert ack["status"] == "runtime_gone"
        assert ack["runtime_gone"] is True


def test_foreign_runtime_heartbeat_is_runtime_gone_and_untouched(server, ws, other_ws):
    mine = make_runtime(other_ws.workspace, other_ws.owner, daemon_id="x")
    old = timezone.now() - timedelta(minutes=10)
    victim = make_runtime(ws.workspace, ws.owner, status="offline", last_seen_at=old)
    with dial(server, issue_jwt(other_ws.owner), [mine.id]) as sock:
        ack = heartbeat(sock, victim.id)["payload"]
        assert ack["runtime_gone"] is True
    victim.refresh_from_db()
    assert victim.status == "offline"
    assert victim.last_seen_at == old


def test_handshake_refuses_foreign_or_unknown_runtimes(server, ws, other_ws):
    victim = make_runtime(ws.workspace, ws.owner)
    with pytest.raises(InvalidStatus):
        dial(server, issue_jwt(other_ws.owner), [victim.id])
    with pytest.raises(InvalidStatus):
        dial(server, issue_jwt(ws.owner), [uuid.uuid4()])


def test_task_token_refused_on_the_socket(server, ws):
    rt = make_runtime(ws.workspace, ws.owner)
    with pytest.raises(InvalidStatus):
        dial(server, "mat_" + "0" * 40, [rt.id])


def test_daemon_token_on_the_socket(server, ws):
    """A daemon token opens the socket for its own runtimes and heartbeats over it."""
    rt = make_runtime(ws.workspace, ws.member)
    raw = mint_daemon_token(ws.workspace, ws.member)
    with dial(server, raw, [rt.id]) as sock:
        sock.send(json.dumps({"type": "daemon:heartbeat", "payload": {"runtime_id": str(rt.id)}}))
        ack = json.loads(sock.recv(timeout=10))
    assert ack["type"] == "daemon:heartbeat_ack"
    assert ack["payload"]["runtime_gone"] is False
    assert AgentRuntime.objects.filter(pk=rt.pk).exists()
