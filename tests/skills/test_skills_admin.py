"""The skills admin renders and is read-only."""

from __future__ import annotations

import pytest
from django.test import Client

from skills.models import LocalSkillRequest, Skill, SkillFile
from tests.skills.helpers import make_runtime

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(make_user):
    user = make_user("root@example.com", is_staff=True, is_superuser=True)
    client = Client()
    client.force_login(user)
    return client


def test_admin_pages_render_read_only(staff, ws):
    skill = Skill.objects.create(workspace=ws.workspace, name="s", created_by=ws.owner)
    SkillFile.objects.create(skill=skill, path="a.md")
    req = LocalSkillRequest.objects.create(
        workspace=ws.workspace,
        runtime=make_runtime(ws.workspace, ws.owner),
        kind="list",
        requested_by=ws.owner,
    )
    for url in (
        "/admin/skills/skill/",
        f"/admin/skills/skill/{skill.id}/change/",
        "/admin/skills/localskillrequest/",
        f"/admin/skills/localskillrequest/{req.id}/change/",
    ):
        assert staff.get(url).status_code == 200, url
    assert staff.get("/admin/skills/skill/add/").status_code == 403
    resp = staff.post(f"/admin/skills/skill/{skill.id}/change/", {"name": "renamed"})
    assert resp.status_code == 403
    skill.refresh_from_db()
    assert skill.name == "s"
