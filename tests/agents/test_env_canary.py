"""SEC-01 secret canary and SEC-02 ciphertext at rest.

A ``CANARY_<uuid>`` value set through the env endpoint must appear in no agent API response, no
event, no log line, no admin page and not in the database column; only the audited reveal and the
env write's own response carry it.
"""

from __future__ import annotations

import json
import logging
import uuid

import pytest
from django.db import connection

from agents.models import Agent, AgentTask
from tests.agents.agents_helpers import create_agent, make_runtime

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(make_user):
    from django.test import Client

    client = Client()
    client.force_login(make_user("root@example.com", is_staff=True, is_superuser=True))
    return client


@pytest.fixture
def canary():
    return f"CANARY_{uuid.uuid4().hex}"


def test_canary_never_leaves_the_env_endpoint(
    api, ws, canary, captured_events, caplog, staff_client, django_capture_on_commit_callbacks
):
    caplog.set_level(logging.DEBUG)
    owner = api.as_user(ws.owner)
    runtime = make_runtime(ws.workspace, ws.owner)
    seen: list[str] = []

    def call(method, path, **kw):
        resp = getattr(owner, method)(path, ws=ws.workspace, **kw)
        assert resp.status < 500, resp.body
        seen.append(f"{method.upper()} {path} {resp.status}\n{resp.body.decode()}")
        return resp

    with django_capture_on_commit_callbacks(execute=True):
        agent = create_agent(api, ws, ws.owner, runtime, name="holder", mcp_config={"k": "v"})
        base = f"/api/agents/{agent['id']}"
        put = owner.put(
            f"{base}/env", json={"custom_env": {"SECRET": canary, "OTHER": "x"}}, ws=ws.workspace
        ).want(200)
        assert canary in put.body.decode()  # the writer's own response
        AgentTask.objects.create(workspace=ws.workspace, agent_id=agent["id"], status="queued")

        call("get", "/api/agents")
        call("get", "/api/agents", include_archived="true")
        call("get", base)
        call("put", base, json={"description": "updated", "max_concurrent_tasks": 2})
        call("post", "/api/agents", json={"name": "second", "runtime_id": str(runtime.id)})
        call("get", f"{base}/tasks")
        call("post", f"{base}/cancel-tasks")
        call("post", f"{base}/archive")
        call("post", f"{base}/restore")
        call("put", base, json={"custom_env": {"SECRET": "x"}})  # refused: must not echo
        # A second env write keeps the value via the sentinel; its response is the writer's.
        owner.put(f"{base}/env", json={"custom_env": {"SECRET": "****"}}, ws=ws.workspace).want(200)

    # The audited reveal is the one read path that returns it.
    reveal = owner.get(f"{base}/env", ws=ws.workspace).want(200)
    assert reveal.json()["custom_env"]["SECRET"] == canary

    leaks = [text for text in seen if canary in text]
    assert not leaks, leaks
    assert seen, "no responses captured"
    for event in captured_events:
        assert canary not in json.dumps(event.envelope(), default=str), event.type
    assert captured_events.of("agent:status")
    assert canary not in caplog.text
    for record in caplog.records:
        assert canary not in str(record.args)

    changelist = staff_client.get("/admin/agents/agent/")
    change = staff_client.get(f"/admin/agents/agent/{agent['id']}/change/")
    assert changelist.status_code == 200
    assert change.status_code == 200
    assert canary not in changelist.content.decode()
    page = change.content.decode()
    assert canary not in page
    assert "SECRET" in page  # key names are shown, values are not

    with connection.cursor() as cur:
        cur.execute("SELECT custom_env, custom_env_keys::text FROM agent WHERE id = %s",
                    [agent["id"]])  # fmt: skip
        stored, keys = cur.fetchone()
    assert canary not in stored
    assert stored.startswith("gAAAA")
    assert "SECRET" in keys
    with connection.cursor() as cur:
        cur.execute("SELECT details::text FROM activity_log WHERE action LIKE 'agent_env%%'")
        audit = " ".join(r[0] for r in cur.fetchall())
    assert canary not in audit
    assert "SECRET" in audit


def test_ciphertext_at_rest_and_tampering_raises(api, ws, canary):
    runtime = make_runtime(ws.workspace, ws.owner)
    agent = create_agent(api, ws, ws.owner, runtime, custom_env={"K": canary})
    with connection.cursor() as cur:
        cur.execute("SELECT custom_env FROM agent WHERE id = %s", [agent["id"]])
        (token,) = cur.fetchone()
    assert canary not in token
    # Flip one character in the middle of the token: the HMAC no longer verifies.
    i = len(token) // 2
    tampered = token[:i] + ("A" if token[i] != "A" else "B") + token[i + 1 :]
    with connection.cursor() as cur:
        cur.execute("UPDATE agent SET custom_env = %s WHERE id = %s", [tampered, agent["id"]])
    with pytest.raises(ValueError, match="cannot be decrypted"):
        Agent.objects.get(pk=agent["id"])
    # Renders that never decrypt keep working.
    api.as_user(ws.owner).get(f"/api/agents/{agent['id']}", ws=ws.workspace).want(200)
