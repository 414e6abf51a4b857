"""The issues admin renders, searches by title or number, and deletes through the service."""

from __future__ import annotations

import pytest
from django.test import Client

from issues.models import ActivityLog, Issue
from issues.services.reactions import issue_reaction_add
from tests.issues.issue_fixtures import *  # noqa: F403

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(make_user):
    user = make_user("root@example.com", is_staff=True, is_superuser=True)
    client = Client()
    client.force_login(user)
    return client


def test_admin_pages_render(staff, ctx, make_issue):
    issue = make_issue(ctx, "Needle in the admin")
    make_issue(ctx, "Other")
    issue_reaction_add(ctx=ctx, issue_ref=issue.id, emoji="👍")
    for url in (
        "/admin/issues/issue/",
        "/admin/issues/issuestatus/",
        "/admin/issues/issuereaction/",
        "/admin/issues/activitylog/",
        f"/admin/issues/issue/{issue.pk}/change/",
    ):
        assert staff.get(url).status_code == 200, url
    page = staff.get("/admin/issues/issue/", {"q": "needle"}).content.decode()
    assert "Needle in the admin" in page
    assert "Other" not in page
    page = staff.get("/admin/issues/issue/", {"q": f"ACME-{issue.number}"}).content.decode()
    assert "Needle in the admin" in page
    assert staff.get("/admin/issues/issue/add/").status_code == 403


def test_admin_delete_goes_through_the_service(staff, ctx, make_issue, events):
    issue = make_issue(ctx)
    with events.commit():
        response = staff.post(f"/admin/issues/issue/{issue.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not Issue.objects.filter(pk=issue.pk).exists()
    assert events.payloads("issue:deleted") == [{"issue_id": str(issue.id)}]
    assert not ActivityLog.objects.filter(issue_id=issue.pk).exists()
