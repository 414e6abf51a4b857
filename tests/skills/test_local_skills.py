"""Runtime local skills (spec §8.3): browser routes, daemon services, timeouts, conflicts."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils.timezone import now

from multica_site.errors import NotFound
from skills.models import LocalSkillRequest, Skill, SkillFile
from skills.services.local_skills import (
    local_skill_request_complete,
    local_skill_requests_pending,
)
from tests.skills.helpers import make_runtime
from workspaces.models import Member

pytestmark = pytest.mark.django_db


@pytest.fixture
def rt(ws):
    return make_runtime(ws.workspace, ws.member)


def base(rt):
    return f"/api/runtimes/{rt.id}/local-skills"


def age(req_id, **delta):
    """Move a request's timestamps back instead of sleeping."""
    past = now() - timedelta(**delta)
    LocalSkillRequest.objects.filter(id=req_id).update(created_at=past, updated_at=past)


BUNDLE = {
    "name": "reviewer",
    "description": "Reviews code",
    "content": "# Reviewer",
    "source_path": "/home/u/.claude/skills/reviewer",
    "provider": "claude",
    "files": [
        {"path": "refs/a.md", "content": "a"},
        {"path": "../escape.md", "content": "x"},
        {"path": "SKILL.md", "content": "dup"},
    ],
}


def test_list_request_lifecycle(api, ws, rt):
    user = api.as_user(ws.member)
    body = user.post(base(rt), ws=ws.workspace).want(200).json()
    assert set(body) == {
        "id",
        "runtime_id",
        "status",
        "supported",
        "mcp_supported",
        "created_at",
        "updated_at",
    }
    assert body["status"] == "pending"
    assert body["supported"] is True
    assert body["mcp_supported"] is False
    assert body["runtime_id"] == str(rt.id)
    rid = body["id"]

    ack = local_skill_requests_pending(rt)
    assert ack == {"pending_local_skills": {"id": rid}}
    assert local_skill_requests_pending(rt) == {}  # claimed once
    polled = user.get(f"{base(rt)}/{rid}", ws=ws.workspace).want(200).json()
    assert polled["status"] == "running"

    skills = [
        {
            "key": "reviewer",
            "name": "reviewer",
            "source_path": "/x",
            "provider": "claude",
            "file_count": 2,
        }
    ]
    result = {
        "status": "completed",
        "skills": skills,
        "mcp_servers": [{"name": "gh", "enabled": True}],
        "mcp_supported": True,
    }
    assert local_skill_request_complete(rt, rid, result) == {"status": "ok"}
    polled = user.get(f"{base(rt)}/{rid}", ws=ws.workspace).want(200).json()
    assert polled["status"] == "completed"
    assert polled["skills"] == skills
    assert polled["mcp_servers"] == [{"name": "gh", "enabled": True}]
    assert polled["mcp_supported"] is True
    assert "error" not in polled
    # A late report for a finished request is ignored.
    local_skill_request_complete(rt, rid, error="late")
    assert user.get(f"{base(rt)}/{rid}", ws=ws.workspace).json()["status"] == "completed"


def test_list_failure_reports_error(api, ws, rt):
    rid = api.as_user(ws.member).post(base(rt), ws=ws.workspace).json()["id"]
    local_skill_requests_pending(rt)
    local_skill_request_complete(rt, rid, {"status": "failed", "error": "no skills dir"})
    polled = api.as_user(ws.member).get(f"{base(rt)}/{rid}", ws=ws.workspace).json()
    assert polled["status"] == "failed"
    assert polled["error"] == "no skills dir"
    assert "skills" not in polled


def test_owner_only_and_online_only(api, ws, rt, make_user):
    # Even a workspace owner/admin is refused: the files are on the owner's machine.
    for user in (ws.owner, ws.admin):
        resp = api.as_user(user).post(base(rt), ws=ws.workspace)
        assert resp.want(403).json()["error"] == "insufficient permissions"
        resp = api.as_user(user).post(
            f"{base(rt)}/import", json={"skill_key": "k"}, ws=ws.workspace
        )
        assert resp.want(403).json()["error"] == "insufficient permissions"
    rid = api.as_user(ws.member).post(base(rt), ws=ws.workspace).json()["id"]
    resp = api.as_user(ws.admin).get(f"{base(rt)}/{rid}", ws=ws.workspace)
    assert resp.want(403).json()["error"] == "insufficient permissions"
    rt.status = "offline"
    rt.save()
    resp = api.as_user(ws.member).post(base(rt), ws=ws.workspace)
    assert resp.want(503).json()["error"] == "runtime is offline"
    resp = api.as_user(ws.member).post(
        f"{base(rt)}/import", json={"skill_key": "k"}, ws=ws.workspace
    )
    assert resp.want(503).json()["error"] == "runtime is offline"
    # Polling still works offline.
    api.as_user(ws.member).get(f"{base(rt)}/{rid}", ws=ws.workspace).want(200)
    assert LocalSkillRequest.objects.count() == 1


def test_unknown_request_and_kind_mismatch(api, ws, rt):
    user = api.as_user(ws.member)
    rid = user.post(base(rt), ws=ws.workspace).json()["id"]
    resp = user.get(f"{base(rt)}/import/{rid}", ws=ws.workspace)
    assert resp.want(404).json()["error"] == "request not found"
    other_rt = make_runtime(ws.workspace, ws.member, daemon="d2")
    resp = user.get(f"{base(other_rt)}/{rid}", ws=ws.workspace)
    assert resp.want(404).json()["error"] == "request not found"
    resp = user.get(f"/api/runtimes/{ws.workspace.id}/local-skills/{rid}", ws=ws.workspace)
    assert resp.want(404).json()["error"] == "runtime not found"
    with pytest.raises(NotFound):
        local_skill_request_complete(other_rt, rid, {"skills": []})


def test_pending_timeout_applied_on_read(api, ws, rt):
    user = api.as_user(ws.member)
    rid = user.post(base(rt), ws=ws.workspace).json()["id"]
    age(rid, minutes=3, seconds=1)
    polled = user.get(f"{base(rt)}/{rid}", ws=ws.workspace).want(200).json()
    assert polled["status"] == "timeout"
    assert polled["error"] == "daemon did not respond within 3 minutes"
    assert local_skill_requests_pending(rt) == {}


def test_running_timeout_and_late_report_ignored(api, ws, rt):
    user = api.as_user(ws.member)
    rid = user.post(base(rt), ws=ws.workspace).json()["id"]
    local_skill_requests_pending(rt)
    LocalSkillRequest.objects.filter(id=rid).update(updated_at=now() - timedelta(seconds=61))
    polled = user.get(f"{base(rt)}/{rid}", ws=ws.workspace).json()
    assert polled["status"] == "timeout"
    assert polled["error"] == "daemon did not finish within 60 seconds"
    local_skill_request_complete(rt, rid, {"skills": [{"key": "x"}]})
    assert user.get(f"{base(rt)}/{rid}", ws=ws.workspace).json()["status"] == "timeout"


def test_overdue_pending_is_not_claimed(ws, rt):
    old = LocalSkillRequest.objects.create(
        workspace=ws.workspace, runtime=rt, kind="list", requested_by=ws.member
    )
    age(old.id, minutes=4)
    assert local_skill_requests_pending(rt) == {}
    old.refresh_from_db()
    assert old.status == "timeout"


def test_results_expire_after_retention(api, ws, rt):
    user = api.as_user(ws.member)
    rid = user.post(base(rt), ws=ws.workspace).json()["id"]
    age(rid, minutes=5, seconds=1)
    resp = user.get(f"{base(rt)}/{rid}", ws=ws.workspace)
    assert resp.want(404).json()["error"] == "request not found"
    user.post(base(rt), ws=ws.workspace).want(200)  # opening a new one purges the old row
    assert not LocalSkillRequest.objects.filter(id=rid).exists()


def test_import_request_validation(api, ws, rt):
    user = api.as_user(ws.member)
    url = f"{base(rt)}/import"
    assert user.post(url, json={}, ws=ws.workspace).want(400).json()["error"] == (
        "skill_key is required"
    )
    assert (
        user.post(url, json={"skill_key": "  "}, ws=ws.workspace).want(400).json()["error"]
        == "skill_key is required"
    )
    resp = user.post(url, json={"skill_key": "k", "action": "merge"}, ws=ws.workspace)
    assert resp.want(400).json()["error"] == "invalid action"
    resp = user.post(url, json={"skill_key": "k", "action": "overwrite"}, ws=ws.workspace)
    assert resp.want(400).json()["error"] == "invalid target_skill_id"
    resp = user.post(url, json=["k"], ws=ws.workspace)
    assert resp.want(400).json()["error"] == "invalid request body"
    assert not LocalSkillRequest.objects.exists()


def test_import_lifecycle_creates_skill(
    api, ws, rt, captured_events, django_capture_on_commit_callbacks
):
    user = api.as_user(ws.member)
    body = (
        user.post(
            f"{base(rt)}/import",
            json={"skill_key": " reviewer ", "description": "  mine  "},
            ws=ws.workspace,
        )
        .want(200)
        .json()
    )
    assert body["status"] == "pending"
    assert body["skill_key"] == "reviewer"
    assert body["description"] == "mine"
    assert "name" not in body
    rid = body["id"]
    ack = local_skill_requests_pending(rt)
    assert ack["pending_local_skill_import"] == {"id": rid, "skill_key": "reviewer"}
    assert ack["pending_local_skill_imports"] == [{"id": rid, "skill_key": "reviewer"}]
    with django_capture_on_commit_callbacks(execute=True):
        local_skill_request_complete(rt, rid, {"status": "completed", "skill": BUNDLE})
    polled = user.get(f"{base(rt)}/import/{rid}", ws=ws.workspace).want(200).json()
    assert polled["status"] == "completed"
    skill = polled["skill"]
    assert skill["name"] == "reviewer"
    assert skill["description"] == "mine"  # the request's override wins
    assert skill["created_by"] == str(ws.member.id)
    assert skill["config"]["origin"] == {
        "type": "runtime_local",
        "runtime_id": str(rt.id),
        "provider": "claude",
        "source_path": "/home/u/.claude/skills/reviewer",
    }
    assert [f["path"] for f in skill["files"]] == ["refs/a.md"]  # unsafe/reserved dropped
    (event,) = captured_events.of("skill:created")
    assert event.payload["skill"] == skill
    assert event.actor_id == str(ws.member.id)


def test_import_batch_claim(ws, rt):
    for i in range(12):
        LocalSkillRequest.objects.create(
            workspace=ws.workspace,
            runtime=rt,
            kind="import",
            requested_by=ws.member,
            params={"skill_key": f"k{i}"},
        )
    ack = local_skill_requests_pending(rt)
    assert len(ack["pending_local_skill_imports"]) == 10
    ack = local_skill_requests_pending(rt, batch_imports=False)
    assert "pending_local_skill_imports" not in ack
    assert ack["pending_local_skill_import"]["skill_key"] == "k10"


def _import(api, ws, rt, **body):
    body.setdefault("skill_key", "reviewer")
    rid = api.as_user(ws.member).post(f"{base(rt)}/import", json=body, ws=ws.workspace)
    rid = rid.want(200).json()["id"]
    local_skill_requests_pending(rt)
    local_skill_request_complete(rt, rid, {"skill": BUNDLE})
    return api.as_user(ws.member).get(f"{base(rt)}/import/{rid}", ws=ws.workspace).json()


def test_import_conflict_structured_and_legacy(api, ws, rt):
    existing = Skill.objects.create(workspace=ws.workspace, name="reviewer", created_by=ws.owner)
    legacy = _import(api, ws, rt)
    assert legacy["status"] == "failed"
    assert legacy["error"] == "a skill with this name already exists"
    polled = _import(api, ws, rt, supports_conflict=True)
    assert polled["status"] == "conflict"
    assert polled["supports_conflict"] is True
    assert polled["conflict"] == {
        "existing_skill_id": str(existing.id),
        "existing_created_by": str(ws.owner.id),
        "can_overwrite": False,
    }
    assert Skill.objects.count() == 1


def test_import_overwrite_by_creator(
    api, ws, rt, captured_events, django_capture_on_commit_callbacks
):
    mine = Skill.objects.create(workspace=ws.workspace, name="reviewer", created_by=ws.member)
    SkillFile.objects.create(skill=mine, path="old.md")
    polled = _import(api, ws, rt, supports_conflict=True)
    assert polled["conflict"]["can_overwrite"] is True
    with django_capture_on_commit_callbacks(execute=True):
        polled = _import(api, ws, rt, action="overwrite", target_skill_id=str(mine.id))
    assert polled["status"] == "completed"
    assert polled["action"] == "overwrite"
    assert polled["skill"]["id"] == str(mine.id)
    assert [f["path"] for f in polled["skill"]["files"]] == ["refs/a.md"]
    mine.refresh_from_db()
    assert mine.content == "# Reviewer"
    assert captured_events.of("skill:updated")


def test_import_overwrite_refused_for_non_creator_and_mismatch(api, ws, rt, other_ws):
    theirs = Skill.objects.create(
        workspace=ws.workspace, name="reviewer", content="keep", created_by=ws.owner
    )
    polled = _import(api, ws, rt, action="overwrite", target_skill_id=str(theirs.id))
    assert polled["status"] == "failed"
    assert polled["error"] == "you no longer have permission to overwrite this skill"
    renamed = Skill.objects.create(workspace=ws.workspace, name="other", created_by=ws.member)
    polled = _import(api, ws, rt, action="overwrite", target_skill_id=str(renamed.id))
    assert polled["error"] == "target skill name no longer matches the imported skill"
    foreign = Skill.objects.create(
        workspace=other_ws.workspace, name="reviewer", created_by=ws.member
    )
    polled = _import(api, ws, rt, action="overwrite", target_skill_id=str(foreign.id))
    assert polled["error"] == "target skill no longer exists"
    theirs.refresh_from_db()
    foreign.refresh_from_db()
    assert theirs.content == "keep"
    assert foreign.content == ""


def test_import_empty_bundle_fails(api, ws, rt):
    rid = (
        api.as_user(ws.member)
        .post(f"{base(rt)}/import", json={"skill_key": "k"}, ws=ws.workspace)
        .json()["id"]
    )
    local_skill_request_complete(rt, rid, {"status": "completed"})
    polled = api.as_user(ws.member).get(f"{base(rt)}/import/{rid}", ws=ws.workspace).json()
    assert polled["status"] == "failed"
    assert polled["error"] == "daemon returned an empty skill bundle"


def test_foreign_runtime_is_404(api, ws, other_ws):
    foreign = make_runtime(other_ws.workspace, other_ws.owner, daemon="x")
    Member.objects.create(workspace=other_ws.workspace, user=ws.member, role="member")
    foreign.owner = ws.member
    foreign.save()
    # Owned by the caller but in another workspace than the one the request names.
    resp = api.as_user(ws.member).post(f"/api/runtimes/{foreign.id}/local-skills", ws=ws.workspace)
    assert resp.want(404).json()["error"] == "runtime not found"
    assert not LocalSkillRequest.objects.exists()
