"""``POST /api/skills/import``: .zip/.skill bundles, safety limits, conflict modes."""

from __future__ import annotations

import zipfile

import pytest

from multica_site.errors import ValidationError
from skills.models import Skill, SkillFile
from skills.services import bundles
from tests.skills.helpers import SKILL_MD, make_zip, upload

pytestmark = pytest.mark.django_db


def test_root_level_bundle(api, ws, captured_events, django_capture_on_commit_callbacks):
    data = make_zip(
        {
            "SKILL.md": SKILL_MD,
            "scripts/run.py": "print(1)\n",
            "reference/guide.md": "guide",
            "docs/": b"",
            "__MACOSX/._SKILL.md": b"\x00\x05junk",
            ".DS_Store": b"\x00junk",
            "LICENSE.txt": "MIT",
            "img/logo.png": b"\x89PNG\r\n\x1a\n\x00\x00",
        }
    )
    with django_capture_on_commit_callbacks(execute=True):
        body = upload(api, ws.member, ws.workspace, data).want(201).json()
    assert body["name"] == "pdf-tools"
    assert body["description"] == "Work with PDFs"
    assert body["content"] == SKILL_MD
    assert body["created_by"] == str(ws.member.id)
    assert [f["path"] for f in body["files"]] == ["reference/guide.md", "scripts/run.py"]
    assert captured_events.of("skill:created")[0].payload["skill"] == body


def test_single_folder_bundle_and_name_fallbacks(api, ws):
    data = make_zip({"my-skill/SKILL.md": "# no front matter", "my-skill/a.md": "a"})
    body = upload(api, ws.member, ws.workspace, data, filename="x.skill").want(201).json()
    assert body["name"] == "my-skill"
    assert body["description"] == ""
    assert [f["path"] for f in body["files"]] == ["a.md"]
    data = make_zip({"SKILL.md": "---\ndescription: only desc\n---\nbody"})
    body = upload(api, ws.member, ws.workspace, data, filename="fancy.skill").want(201).json()
    assert body["name"] == "fancy"
    assert body["description"] == "only desc"


def test_shallowest_skill_md_wins_and_nested_skill_md_is_dropped(api, ws):
    data = make_zip(
        {
            "outer/SKILL.md": "---\nname: outer\n---\n",
            "outer/inner/SKILL.md": "---\nname: inner\n---\n",
            "outer/inner/x.md": "x",
            "elsewhere/y.md": "not under the root",
        }
    )
    body = upload(api, ws.member, ws.workspace, data).want(201).json()
    assert body["name"] == "outer"
    assert [f["path"] for f in body["files"]] == ["inner/x.md"]


def test_front_matter_parsing():
    assert bundles.parse_front_matter("---\nname: a\ndescription: |\n  multi\n---\n") == (
        "a",
        "multi",
    )
    assert bundles.parse_front_matter("no front matter") == ("", "")
    assert bundles.parse_front_matter("---\nname: [unclosed\n---\n") == ("", "")
    assert bundles.parse_front_matter("---\nname: {a: 1}\ndescription: ok\n---\n") == ("", "ok")
    bomb = "---\na: &a [x, x, x]\nb: &b [*a, *a, *a]\nc: &c [*b, *b, *b]\nname: *c\n---\n"
    assert bundles.parse_front_matter(bomb) == ("", "")


@pytest.mark.parametrize(
    ("entries", "message"),
    [
        ({"SKILL.md": SKILL_MD, "../evil.md": "x"}, "archive entry has an unsafe path: ../evil.md"),
        (
            {"SKILL.md": SKILL_MD, "a/../../evil.md": "x"},
            "archive entry has an unsafe path: a/../../evil.md",
        ),
        (
            {"SKILL.md": SKILL_MD, "/etc/cron.d/x": "x"},
            "archive entry has an unsafe path: /etc/cron.d/x",
        ),
        ({"SKILL.md": SKILL_MD, "a\\..\\b": "x"}, "archive entry has an unsafe path: a\\..\\b"),
        ({"readme.md": "no skill"}, "archive does not contain a SKILL.md"),
    ],
)
def test_unsafe_or_incomplete_archives_are_refused(api, ws, entries, message):
    resp = upload(api, ws.member, ws.workspace, make_zip(entries)).want(400).json()
    assert resp["error"] == message
    assert not Skill.objects.exists()


def test_not_a_zip(api, ws):
    resp = upload(api, ws.member, ws.workspace, b"plain text").want(400).json()
    assert resp["error"] == "uploaded file is not a valid .skill/.zip archive"


def test_zip_bomb_is_refused_without_inflating(api, ws, monkeypatch):
    # 16 MiB of zeros compresses to ~16 KiB; the per-file cap stops it.
    data = make_zip({"SKILL.md": SKILL_MD, "bomb.txt": b"0" * (16 * 1024 * 1024)})
    assert len(data) < 1024 * 1024
    resp = upload(api, ws.member, ws.workspace, data).want(400).json()
    assert resp["error"] == f"file bomb.txt exceeds {bundles.MAX_FILE_BYTES} bytes"
    # Many files under the per-file cap still hit the total cap.
    entries = {"SKILL.md": SKILL_MD}
    entries.update({f"f{i}.txt": "y" * (900 * 1024) for i in range(7)})
    resp = upload(api, ws.member, ws.workspace, make_zip(entries)).want(400).json()
    assert resp["error"] == f"import bundle exceeds {bundles.MAX_TOTAL_BYTES} byte limit"
    assert not Skill.objects.exists()


def test_lying_header_is_caught_while_reading(monkeypatch):
    data = make_zip({"SKILL.md": SKILL_MD, "big.txt": b"z" * 5000}, compression=zipfile.ZIP_STORED)
    monkeypatch.setattr(bundles, "MAX_FILE_BYTES", 4000)
    original = zipfile.ZipFile.infolist

    def lying(self):
        infos = original(self)
        for info in infos:
            if info.filename == "big.txt":
                info.file_size = 10  # the header claims 10 bytes
        return infos

    monkeypatch.setattr(zipfile.ZipFile, "infolist", lying)
    with pytest.raises(ValidationError, match=r"exceeds|valid"):
        bundles.parse_skill_archive(data, "x.zip")


def test_too_many_files(api, ws, monkeypatch):
    monkeypatch.setattr(bundles, "MAX_FILE_COUNT", 3)
    entries = {"SKILL.md": SKILL_MD, **{f"f{i}.md": "x" for i in range(4)}}
    resp = upload(api, ws.member, ws.workspace, make_zip(entries)).want(400).json()
    assert resp["error"] == "import bundle exceeds 3 file limit"


def test_missing_file_and_bad_on_conflict_and_url(api, ws):
    client = api.as_user(ws.member)
    resp = client.client.post(
        "/api/skills/import",
        data={"on_conflict": "fail"},
        format="multipart",
        HTTP_X_WORKSPACE_ID=str(ws.workspace.id),
        **client._headers,
    )
    assert resp.status_code == 400
    assert resp.json()["error"] == 'a skill archive file is required (form field "file")'
    data = make_zip({"SKILL.md": SKILL_MD})
    resp = upload(api, ws.member, ws.workspace, data, on_conflict="merge").want(400).json()
    assert resp["error"] == "on_conflict must be one of: fail, overwrite, rename, skip"
    resp = client.post(
        "/api/skills/import", json={"url": "https://github.com/a/b"}, ws=ws.workspace
    )
    assert resp.want(400).json()["error"] == bundles.URL_IMPORT_UNSUPPORTED
    resp = client.post("/api/skills/import", json=[1], ws=ws.workspace)
    assert resp.want(400).json()["error"] == "invalid request body"


def _existing(ws, creator):
    skill = Skill.objects.create(
        workspace=ws.workspace, name="pdf-tools", content="old", created_by=creator
    )
    SkillFile.objects.create(skill=skill, path="old.md", content="old")
    return skill


def test_duplicate_without_on_conflict_is_409_with_existing(api, ws):
    skill = _existing(ws, ws.member)
    resp = upload(api, ws.member, ws.workspace, make_zip({"SKILL.md": SKILL_MD})).want(409).json()
    assert resp["error"] == "a skill with this name already exists"
    assert resp["existing_skill"] == {
        "id": str(skill.id),
        "name": "pdf-tools",
        "created_by": str(ws.member.id),
        "can_overwrite": True,
    }


def test_on_conflict_fail_and_skip(api, ws):
    skill = _existing(ws, ws.owner)
    data = make_zip({"SKILL.md": SKILL_MD})
    resp = upload(api, ws.member, ws.workspace, data, on_conflict="fail").want(409).json()
    assert resp["status"] == "conflict"
    assert resp["reason"] == bundles.CONFLICT_REASON
    assert resp["existing_skill"]["can_overwrite"] is False
    resp = upload(api, ws.member, ws.workspace, data, on_conflict="skip").want(200).json()
    assert resp == {
        "status": "skipped",
        "reason": "a skill with this name already exists",
        "existing_skill": {
            "id": str(skill.id),
            "name": "pdf-tools",
            "created_by": str(ws.owner.id),
            "can_overwrite": False,
        },
    }
    assert Skill.objects.count() == 1


def test_on_conflict_overwrite_is_creator_only(
    api, ws, captured_events, django_capture_on_commit_callbacks
):
    skill = _existing(ws, ws.member)
    data = make_zip({"SKILL.md": SKILL_MD, "new.md": "n"})
    # Even a workspace owner may not overwrite another's skill by import.
    resp = upload(api, ws.owner, ws.workspace, data, on_conflict="overwrite").want(403).json()
    assert resp["status"] == "failed"
    assert resp["reason"] == "only the skill creator can overwrite this skill"
    with django_capture_on_commit_callbacks(execute=True):
        resp = upload(api, ws.member, ws.workspace, data, on_conflict="overwrite").want(200)
    body = resp.json()
    assert body["status"] == "updated"
    assert body["skill"]["id"] == str(skill.id)
    assert body["skill"]["content"] == SKILL_MD
    assert [f["path"] for f in body["skill"]["files"]] == ["new.md"]
    assert captured_events.of("skill:updated")[0].payload["skill"] == body["skill"]
    assert Skill.objects.count() == 1


def test_on_conflict_rename(api, ws):
    _existing(ws, ws.owner)
    Skill.objects.create(workspace=ws.workspace, name="pdf-tools-2")
    data = make_zip({"SKILL.md": SKILL_MD})
    resp = upload(api, ws.member, ws.workspace, data, on_conflict="rename").want(201).json()
    assert resp["status"] == "created"
    assert resp["reason"] == "renamed to avoid an existing skill"
    assert resp["skill"]["name"] == "pdf-tools-3"
    assert resp["existing_skill"]["name"] == "pdf-tools"


def test_on_conflict_without_conflict_is_structured_created(api, ws):
    data = make_zip({"SKILL.md": SKILL_MD})
    resp = upload(api, ws.member, ws.workspace, data, on_conflict="fail").want(201).json()
    assert resp["status"] == "created"
    assert resp["skill"]["name"] == "pdf-tools"
    assert set(resp) == {"status", "skill"}


def test_import_lands_in_the_callers_workspace_only(api, ws, other_ws):
    Skill.objects.create(workspace=other_ws.workspace, name="pdf-tools")
    body = upload(api, ws.member, ws.workspace, make_zip({"SKILL.md": SKILL_MD})).want(201)
    assert body.json()["workspace_id"] == str(ws.workspace.id)
    resp = upload(api, other_ws.owner, ws.workspace, make_zip({"SKILL.md": SKILL_MD}))
    assert resp.want(404).json()["error"] == "workspace not found"
