"""Skills CRUD and files (spec §8.1–8.2): shapes, rules, error sentences, events, queries."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from skills import selectors
from skills.models import Skill, SkillFile
from workspaces.context import system_context

pytestmark = pytest.mark.django_db

SKILL_KEYS = {
    "id",
    "workspace_id",
    "name",
    "description",
    "content",
    "config",
    "created_by",
    "created_at",
    "updated_at",
}
FILE_KEYS = {"id", "skill_id", "path", "content", "created_at", "updated_at"}


def create(api, ws, user=None, **body):
    body.setdefault("name", "writer")
    return api.as_user(user or ws.member).post("/api/skills", json=body, ws=ws.workspace)


def test_create_returns_skill_with_files_and_publishes(
    api, ws, captured_events, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        body = (
            create(
                api,
                ws,
                name="writer",
                description="Writes",
                content="# Writer",
                config={"origin": {"type": "manual"}},
                files=[{"path": "refs/style.md", "content": "be brief"}],
            )
            .want(201)
            .json()
        )
    assert set(body) == SKILL_KEYS | {"files"}
    assert body["created_by"] == str(ws.member.id)
    assert body["workspace_id"] == str(ws.workspace.id)
    assert body["config"] == {"origin": {"type": "manual"}}
    assert body["created_at"].endswith("Z")
    assert len(body["created_at"]) == 20
    (f,) = body["files"]
    assert set(f) == FILE_KEYS
    assert f["path"] == "refs/style.md"
    assert f["skill_id"] == body["id"]
    (event,) = captured_events.of("skill:created")
    assert event.payload["skill"] == body
    assert event.actor_type == "member"
    assert event.actor_id == str(ws.member.id)


def test_create_defaults_and_name_rules(api, ws):
    body = create(api, ws, name="plain").want(201).json()
    assert body["description"] == ""
    assert body["content"] == ""
    assert body["config"] == {}
    assert body["files"] == []
    resp = create(api, ws, name="").want(400).json()
    assert resp["error"] == "name is required"
    create(api, ws, name="   ").want(400)
    assert create(api, ws, name=5).want(400).json()["error"] == "invalid request body"
    resp = create(api, ws, name="plain").want(409).json()
    assert resp["error"] == "a skill with this name already exists"


@pytest.mark.parametrize(
    "path",
    [
        "",
        "/etc/passwd",
        "../escape.md",
        "a/../../b.md",
        "a/..",
        "..",
        "..\\win.md",
        "a\\b.md",
        "C:/x.md",
        "c:x.md",
        "\\\\server\\share",
        ".",
        "./",
        "a/\x01b",
    ],
)
def test_create_rejects_unsafe_paths(api, ws, path):
    resp = create(api, ws, files=[{"path": path, "content": "x"}]).want(400).json()
    assert resp["error"] == f"invalid file path: {path}"
    assert not Skill.objects.exists()


@pytest.mark.parametrize("path", ["SKILL.md", "skill.md", "./SKILL.md", "SKILL.md/"])
def test_skill_md_is_reserved(api, ws, path):
    resp = create(api, ws, files=[{"path": path, "content": "x"}]).want(400).json()
    assert resp["error"] == "SKILL.md is reserved for the primary skill content"
    assert not Skill.objects.exists()


def test_paths_are_canonicalised_and_nested_skill_md_allowed(api, ws):
    body = (
        create(
            api,
            ws,
            files=[
                {"path": "./docs//a.md", "content": "1"},
                {"path": "docs/a.md", "content": "2"},
                {"path": "sub/SKILL.md", "content": "nested"},
            ],
        )
        .want(201)
        .json()
    )
    assert [(f["path"], f["content"]) for f in body["files"]] == [
        ("docs/a.md", "2"),
        ("sub/SKILL.md", "nested"),
    ]


def test_nul_bytes_are_stripped(api, ws):
    body = create(api, ws, name="n\x00ul", content="a\x00b").want(201).json()
    assert body["name"] == "nul"
    assert body["content"] == "ab"


def test_list_is_summaries_by_name(api, ws):
    create(api, ws, name="zeta", content="big body").want(201)
    create(api, ws, name="alpha").want(201)
    rows = api.as_user(ws.admin).get("/api/skills", ws=ws.workspace).want(200).json()
    assert [r["name"] for r in rows] == ["alpha", "zeta"]
    assert set(rows[0]) == SKILL_KEYS - {"content"}


def test_get_returns_files_and_404s(api, ws, other_ws):
    sid = create(api, ws, files=[{"path": "b.md"}, {"path": "a.md"}]).want(201).json()["id"]
    body = api.as_user(ws.owner).get(f"/api/skills/{sid}", ws=ws.workspace).want(200).json()
    assert [f["path"] for f in body["files"]] == ["a.md", "b.md"]
    foreign = Skill.objects.create(workspace=other_ws.workspace, name="foreign")
    for missing in (foreign.id, "00000000-0000-0000-0000-000000000000"):
        resp = api.as_user(ws.owner).get(f"/api/skills/{missing}", ws=ws.workspace)
        assert resp.want(404).json()["error"] == "skill not found"


def test_update_partial_and_files_replace(
    api, ws, captured_events, django_capture_on_commit_callbacks
):
    sid = create(api, ws, content="c1", files=[{"path": "old.md", "content": "o"}]).json()["id"]
    path = f"/api/skills/{sid}"
    body = api.as_user(ws.member).put(path, json={"description": "d2"}, ws=ws.workspace)
    body = body.want(200).json()
    assert body["description"] == "d2"
    assert body["content"] == "c1"
    assert [f["path"] for f in body["files"]] == ["old.md"]
    with django_capture_on_commit_callbacks(execute=True):
        body = (
            api.as_user(ws.member)
            .put(path, json={"files": [{"path": "new.md", "content": "n"}]}, ws=ws.workspace)
            .want(200)
            .json()
        )
    assert [f["path"] for f in body["files"]] == ["new.md"]
    assert list(SkillFile.objects.values_list("path", flat=True)) == ["new.md"]
    assert captured_events.of("skill:updated")[0].payload["skill"] == body
    body = api.as_user(ws.member).put(path, json={"files": []}, ws=ws.workspace).want(200).json()
    assert body["files"] == []
    resp = api.as_user(ws.member).put(path, json={"files": [{"path": "../x"}]}, ws=ws.workspace)
    assert resp.want(400).json()["error"] == "invalid file path: ../x"
    resp = api.as_user(ws.member).put(path, json={"name": ""}, ws=ws.workspace)
    assert resp.want(400).json()["error"] == "name is required"


def test_update_rename_conflict(api, ws):
    create(api, ws, name="taken").want(201)
    sid = create(api, ws, name="mine").json()["id"]
    resp = api.as_user(ws.member).put(f"/api/skills/{sid}", json={"name": "taken"}, ws=ws.workspace)
    assert resp.want(409).json()["error"] == "a skill with this name already exists"


def test_manage_rule(api, ws, make_user):
    from workspaces.models import Member

    other = make_user("other@example.com")
    Member.objects.create(workspace=ws.workspace, user=other, role="member")
    sid = create(api, ws, user=ws.member).json()["id"]
    path = f"/api/skills/{sid}"
    denied = "only the skill creator can manage this skill"
    for method, kw in (
        ("put", {"json": {"description": "x"}}),
        ("delete", {}),
    ):
        resp = getattr(api.as_user(other), method)(path, ws=ws.workspace, **kw)
        assert resp.want(403).json()["error"] == denied
    resp = api.as_user(other).put(f"{path}/files", json={"path": "a.md"}, ws=ws.workspace)
    assert resp.want(403).json()["error"] == denied
    # A member may still read it.
    api.as_user(other).get(path, ws=ws.workspace).want(200)
    api.as_user(other).get(f"{path}/files", ws=ws.workspace).want(200)
    # Workspace admins (and owners) manage any skill.
    api.as_user(ws.admin).put(path, json={"description": "by admin"}, ws=ws.workspace).want(200)
    api.as_user(ws.owner).put(f"{path}/files", json={"path": "o.md"}, ws=ws.workspace).want(200)
    assert Skill.objects.get().description == "by admin"


def test_delete(api, ws, captured_events, django_capture_on_commit_callbacks):
    sid = create(api, ws, files=[{"path": "a.md"}]).json()["id"]
    with django_capture_on_commit_callbacks(execute=True):
        resp = api.as_user(ws.member).delete(f"/api/skills/{sid}", ws=ws.workspace).want(204)
    assert resp.body == b""
    assert not Skill.objects.exists()
    assert not SkillFile.objects.exists()
    assert captured_events.of("skill:deleted")[0].payload == {"skill_id": sid}
    api.as_user(ws.member).delete(f"/api/skills/{sid}", ws=ws.workspace).want(404)


def test_file_endpoints(api, ws):
    sid = create(api, ws).json()["id"]
    base = f"/api/skills/{sid}/files"
    user = api.as_user(ws.member)
    f1 = user.put(base, json={"path": "a.md", "content": "1"}, ws=ws.workspace).want(200).json()
    assert set(f1) == FILE_KEYS
    f2 = user.put(base, json={"path": "a.md", "content": "2"}, ws=ws.workspace).want(200).json()
    assert f2["id"] == f1["id"]
    assert f2["content"] == "2"
    resp = user.put(base, json={"path": "SKILL.md", "content": "x"}, ws=ws.workspace)
    assert resp.want(400).json()["error"] == "SKILL.md is reserved for the primary skill content"
    resp = user.put(base, json={"path": "../x", "content": "x"}, ws=ws.workspace)
    assert resp.want(400).json()["error"] == "invalid file path"
    assert [f["path"] for f in user.get(base, ws=ws.workspace).want(200).json()] == ["a.md"]
    user.delete(f"{base}/{f1['id']}", ws=ws.workspace).want(204)
    resp = user.delete(f"{base}/{f1['id']}", ws=ws.workspace)
    assert resp.want(404).json()["error"] == "skill file not found"
    assert user.get(base, ws=ws.workspace).want(200).json() == []


def test_file_of_another_skill_cannot_be_deleted_through_mine(api, ws):
    mine = create(api, ws, name="mine").json()["id"]
    theirs = create(api, ws, name="theirs", files=[{"path": "t.md"}]).json()
    fid = theirs["files"][0]["id"]
    resp = api.as_user(ws.member).delete(f"/api/skills/{mine}/files/{fid}", ws=ws.workspace)
    assert resp.want(404).json()["error"] == "skill file not found"
    assert SkillFile.objects.filter(id=fid).exists()


def test_foreign_skill_writes_are_404_and_write_nothing(api, ws, other_ws):
    foreign = Skill.objects.create(
        workspace=other_ws.workspace, name="foreign", created_by=other_ws.owner
    )
    f = SkillFile.objects.create(skill=foreign, path="x.md", content="secret")
    user = api.as_user(ws.owner)
    for method, path, kw in (
        ("put", f"/api/skills/{foreign.id}", {"json": {"name": "pwned"}}),
        ("delete", f"/api/skills/{foreign.id}", {}),
        ("get", f"/api/skills/{foreign.id}/files", {}),
        ("put", f"/api/skills/{foreign.id}/files", {"json": {"path": "x.md", "content": "p"}}),
        ("delete", f"/api/skills/{foreign.id}/files/{f.id}", {}),
    ):
        resp = getattr(user, method)(path, ws=ws.workspace, **kw)
        assert resp.want(404).json()["error"] == "skill not found"
    foreign.refresh_from_db()
    f.refresh_from_db()
    assert foreign.name == "foreign"
    assert f.content == "secret"


def test_list_query_count_is_constant(api, ws, django_assert_num_queries):
    ctx = system_context(ws.workspace)
    for i in range(5):
        Skill.objects.create(workspace=ws.workspace, name=f"s{i}", content="x" * 1000)
    with django_assert_num_queries(1):
        rows = list(selectors.skill_list(ctx=ctx))
    assert len(rows) == 5
    with CaptureQueriesContext(connection) as few:
        api.as_user(ws.owner).get("/api/skills", ws=ws.workspace).want(200)
    for i in range(5, 15):
        Skill.objects.create(workspace=ws.workspace, name=f"s{i}")
    with CaptureQueriesContext(connection) as many:
        api.as_user(ws.owner).get("/api/skills", ws=ws.workspace).want(200)
    assert len(few) == len(many)
    # The list never selects the SKILL.md body.
    assert all('"content"' not in q["sql"] for q in many.captured_queries if "skill" in q["sql"])


def test_detail_query_count(api, ws, django_assert_num_queries):
    ctx = system_context(ws.workspace)
    skill = Skill.objects.create(workspace=ws.workspace, name="s")
    for i in range(5):
        SkillFile.objects.create(skill=skill, path=f"f{i}.md")
    with django_assert_num_queries(2):
        got = selectors.skill_get(ctx=ctx, skill_id=skill.id)
        assert len(selectors.skill_file_list(skill=got)) == 5
