"""GET /api/runtimes, PATCH/DELETE /api/runtimes/{id}, health buckets."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from agents.models import Agent, AgentTask
from multica_site.events import add_sink, remove_sink
from runtimes.models import AgentRuntime
from runtimes.wire import runtime_health
from tests.runtimes.helpers import make_runtime

pytestmark = pytest.mark.django_db


@pytest.fixture
def events():
    captured = []
    add_sink(captured.append)
    yield captured
    remove_sink(captured.append)


def test_list_and_owner_me(api, ws, other_ws):
    mine = make_runtime(ws.workspace, ws.member, last_seen_at=timezone.now())
    make_runtime(ws.workspace, ws.owner, daemon_id="other")
    make_runtime(other_ws.workspace, other_ws.owner)
    client = api.as_user(ws.member)
    everything = client.get("/api/runtimes", ws=ws.workspace).want(200).json()
    assert len(everything) == 2
    only_mine = client.get("/api/runtimes", ws=ws.workspace, owner="me").want(200).json()
    assert [r["id"] for r in only_mine] == [str(mine.id)]
    row = only_mine[0]
    assert row["health"] == "online"
    assert set(row) >= {
        "id", "workspace_id", "daemon_id", "name", "custom_name", "runtime_mode", "provider",
        "launch_header", "status", "device_info", "metadata", "owner_id", "visibility",
        "profile_id", "last_seen_at", "created_at", "updated_at",
    }  # fmt: skip


@pytest.mark.parametrize(
    ("status", "age", "bucket"),
    [
        ("online", timedelta(seconds=10), "online"),
        ("online", timedelta(minutes=3), "recently_lost"),
        ("offline", timedelta(minutes=4), "recently_lost"),
        ("offline", timedelta(minutes=6), "offline"),
        ("offline", timedelta(days=5), "offline"),
        ("offline", timedelta(days=6, hours=1), "about_to_gc"),
    ],
)
def test_health_buckets(ws, status, age, bucket):
    now = timezone.now()
    rt = make_runtime(ws.workspace, ws.member, status=status, last_seen_at=now - age)
    assert runtime_health(rt, now=now) == bucket


def test_health_buckets_move_with_time(api, ws):
    rt = make_runtime(ws.workspace, ws.member, status="offline")
    for age, bucket in [
        (timedelta(minutes=1), "recently_lost"),
        (timedelta(days=7), "about_to_gc"),
    ]:
        AgentRuntime.objects.filter(pk=rt.pk).update(last_seen_at=timezone.now() - age)
        body = api.as_user(ws.member).get("/api/runtimes", ws=ws.workspace).json()
        assert body[0]["health"] == bucket


def test_patch_custom_name_and_visibility(api, ws, events, django_capture_on_commit_callbacks):
    rt = make_runtime(ws.workspace, ws.member)
    with django_capture_on_commit_callbacks(execute=True):
        body = (
            api.as_user(ws.member)
            .patch(
                f"/api/runtimes/{rt.id}",
                json={"custom_name": "  Studio  ", "visibility": "public"},
                ws=ws.workspace,
            )
            .want(200)
            .json()
        )
    assert body["custom_name"] == "Studio"
    assert body["visibility"] == "public"
    assert events[0].type == "daemon:register"
    assert events[0].payload["action"] == "update"
    api.as_user(ws.member).patch(
        f"/api/runtimes/{rt.id}", json={"custom_name": ""}, ws=ws.workspace
    ).want(200)
    rt.refresh_from_db()
    assert rt.custom_name is None


def test_patch_apply_to_machine(api, ws):
    rt = make_runtime(ws.workspace, ws.member)
    sibling = make_runtime(ws.workspace, ws.member, provider="codex")
    api.as_user(ws.member).patch(
        f"/api/runtimes/{rt.id}",
        json={"custom_name": "Box", "apply_to_machine": True},
        ws=ws.workspace,
    ).want(200)
    sibling.refresh_from_db()
    assert sibling.custom_name == "Box"


def test_patch_permissions(api, ws):
    rt = make_runtime(ws.workspace, ws.owner)
    resp = api.as_user(ws.member).patch(
        f"/api/runtimes/{rt.id}", json={"custom_name": "x"}, ws=ws.workspace
    )
    assert resp.want(403).json()["error"] == "you can only edit your own runtimes"
    # An admin may rename, but visibility is the runtime owner's call.
    api.as_user(ws.admin).patch(
        f"/api/runtimes/{rt.id}", json={"custom_name": "x"}, ws=ws.workspace
    ).want(200)
    api.as_user(ws.admin).patch(
        f"/api/runtimes/{rt.id}", json={"visibility": "public"}, ws=ws.workspace
    ).want(403)
    api.as_user(ws.owner).patch(
        f"/api/runtimes/{rt.id}", json={"custom_name": "x" * 101}, ws=ws.workspace
    ).want(400)
    api.as_user(ws.owner).patch(
        f"/api/runtimes/{rt.id}", json={"visibility": "secret"}, ws=ws.workspace
    ).want(400)


def test_delete_conflicts_with_active_agents(api, ws):
    rt = make_runtime(ws.workspace, ws.member)
    agent = Agent.objects.create(workspace=ws.workspace, name="bot", runtime=rt, owner=ws.member)
    body = api.as_user(ws.member).delete(f"/api/runtimes/{rt.id}", ws=ws.workspace).want(409).json()
    assert body["code"] == "runtime_has_active_agents"
    assert body["error"]
    assert [a["id"] for a in body["active_agents"]] == [str(agent.id)]
    assert AgentRuntime.objects.filter(pk=rt.pk).exists()


def test_delete_conflicts_with_unfinished_tasks(api, ws):
    rt = make_runtime(ws.workspace, ws.member)
    agent = Agent.objects.create(
        workspace=ws.workspace, name="bot", runtime=rt, owner=ws.member, archived_at=timezone.now()
    )
    AgentTask.objects.create(workspace=ws.workspace, agent=agent, runtime=rt, status="running")
    body = api.as_user(ws.member).delete(f"/api/runtimes/{rt.id}", ws=ws.workspace).want(409).json()
    assert body["code"] == "runtime_delete_not_drained"


def test_delete(api, ws, events, django_capture_on_commit_callbacks):
    rt = make_runtime(ws.workspace, ws.member)
    archived = Agent.objects.create(
        workspace=ws.workspace, name="old", runtime=rt, owner=ws.member, archived_at=timezone.now()
    )
    api.as_user(ws.owner).delete(f"/api/runtimes/{rt.id}", ws=ws.workspace)  # admin path
    assert not AgentRuntime.objects.filter(pk=rt.pk).exists()
    archived.refresh_from_db()
    assert archived.runtime_id is None
    rt2 = make_runtime(ws.workspace, ws.member, provider="codex")
    with django_capture_on_commit_callbacks(execute=True):
        resp = api.as_user(ws.member).delete(f"/api/runtimes/{rt2.id}", ws=ws.workspace)
    assert resp.want(200).json() == {"status": "ok"}
    assert events[-1].payload == {"action": "delete", "runtime_id": str(rt2.id)}
    # The daemon learns of the deletion on its next heartbeat.
    resp = api.as_user(ws.member).post("/api/daemon/heartbeat", json={"runtime_id": str(rt2.id)})
    assert resp.want(404).json()["error"] == "runtime not found"


def test_delete_permission(api, ws):
    rt = make_runtime(ws.workspace, ws.owner)
    api.as_user(ws.member).delete(f"/api/runtimes/{rt.id}", ws=ws.workspace).want(403)
    assert AgentRuntime.objects.filter(pk=rt.pk).exists()
