"""POST /api/daemon/heartbeat: liveness, 404 semantics, pending local-skill work."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from runtimes.models import AgentRuntime
from runtimes.services.registration import HEARTBEAT_WRITE_INTERVAL
from skills.models import LocalSkillRequest
from tests.runtimes.helpers import make_runtime

pytestmark = pytest.mark.django_db


def beat(api, user, runtime_id, **extra):
    return api.as_user(user).post(
        "/api/daemon/heartbeat", json={"runtime_id": str(runtime_id), **extra}
    )


def test_heartbeat_marks_online_and_updates_last_seen(api, ws):
    old = timezone.now() - timedelta(minutes=10)
    rt = make_runtime(ws.workspace, ws.member, status="offline", last_seen_at=old)
    assert beat(api, ws.member, rt.id).want(200).json() == {"status": "ok"}
    rt.refresh_from_db()
    assert rt.status == "online"
    assert rt.last_seen_at > old


def test_heartbeat_writes_are_coarse(api, ws):
    recent = timezone.now() - HEARTBEAT_WRITE_INTERVAL / 2
    rt = make_runtime(ws.workspace, ws.member, last_seen_at=recent)
    beat(api, ws.member, rt.id).want(200)
    rt.refresh_from_db()
    assert rt.last_seen_at == recent
    stale = timezone.now() - HEARTBEAT_WRITE_INTERVAL * 2
    AgentRuntime.objects.filter(pk=rt.pk).update(last_seen_at=stale)
    beat(api, ws.member, rt.id).want(200)
    rt.refresh_from_db()
    assert rt.last_seen_at > stale


def test_deleted_runtime_is_404_runtime_not_found(api, ws):
    rt = make_runtime(ws.workspace, ws.member)
    rid = rt.id
    rt.delete()
    resp = beat(api, ws.member, rid).want(404)
    assert resp.json()["error"] == "runtime not found"


def test_heartbeat_validation(api, ws):
    api.as_user(ws.member).post("/api/daemon/heartbeat", json={}).want(400)
    beat(api, ws.member, "not-a-uuid").want(400)


def test_foreign_runtime_is_404_and_untouched(api, ws, other_ws):
    old = timezone.now() - timedelta(minutes=10)
    rt = make_runtime(ws.workspace, ws.member, status="offline", last_seen_at=old)
    resp = beat(api, other_ws.owner, rt.id).want(404)
    assert resp.json()["error"] != "runtime not found"  # no re-register loop for a stranger
    rt.refresh_from_db()
    assert rt.status == "offline"
    assert rt.last_seen_at == old


def test_heartbeat_carries_pending_local_skill_work(api, ws):
    rt = make_runtime(ws.workspace, ws.member)
    listing = LocalSkillRequest.objects.create(
        workspace=ws.workspace, runtime=rt, kind=LocalSkillRequest.Kind.LIST, requested_by=ws.member
    )
    imports = [
        LocalSkillRequest.objects.create(
            workspace=ws.workspace,
            runtime=rt,
            kind=LocalSkillRequest.Kind.IMPORT,
            requested_by=ws.member,
            params={"skill_key": f"k{i}"},
        )
        for i in range(2)
    ]
    body = beat(api, ws.member, rt.id, supports_batch_import=True).want(200).json()
    assert body["status"] == "ok"
    assert body["pending_local_skills"] == {"id": str(listing.id)}
    assert body["pending_local_skill_import"]["id"] in {str(r.id) for r in imports}
    assert len(body["pending_local_skill_imports"]) == 2
    # Handed out once.
    assert beat(api, ws.member, rt.id, supports_batch_import=True).json() == {"status": "ok"}


def test_local_skill_list_result_callback(api, ws, other_ws):
    rt = make_runtime(ws.workspace, ws.member)
    req = LocalSkillRequest.objects.create(
        workspace=ws.workspace, runtime=rt, kind=LocalSkillRequest.Kind.LIST, requested_by=ws.member
    )
    beat(api, ws.member, rt.id).want(200)
    path = f"/api/daemon/runtimes/{rt.id}/local-skills/{req.id}/result"
    body = {"status": "completed", "skills": [], "supported": True}
    api.as_user(other_ws.owner).post(path, json=body).want(404)
    req.refresh_from_db()
    assert req.status == "running"
    assert api.as_user(ws.member).post(path, json=body).want(200).json() == {"status": "ok"}
    req.refresh_from_db()
    assert req.status == "completed"


def test_local_skill_import_result_callback_failure(api, ws):
    rt = make_runtime(ws.workspace, ws.member)
    req = LocalSkillRequest.objects.create(
        workspace=ws.workspace,
        runtime=rt,
        kind=LocalSkillRequest.Kind.IMPORT,
        requested_by=ws.member,
        params={"skill_key": "k"},
    )
    beat(api, ws.member, rt.id).want(200)
    path = f"/api/daemon/runtimes/{rt.id}/local-skills/import/{req.id}/result"
    api.as_user(ws.member).post(path, json={"status": "failed", "error": "boom"}).want(200)
    req.refresh_from_db()
    assert req.status == "failed"
