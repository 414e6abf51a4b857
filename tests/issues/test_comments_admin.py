"""The conversation admin (issues.admin_conversation): every page renders, nothing is writable."""

from __future__ import annotations

import pytest
from django.test import Client

import issues.admin_conversation  # noqa: F401 - registers the models (issues.admin imports it too)
from issues.models import (
    Comment,
    CommentMention,
    CommentReaction,
    InboxItem,
    IssueSubscriber,
    NotificationPreference,
)
from tests.issues.conversation_fixtures import *  # noqa: F403

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(make_user):
    user = make_user("staff@example.com", is_staff=True, is_superuser=True)
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def rows(ws, make_issue):
    issue = make_issue()
    comment = Comment.objects.create(
        workspace=ws.workspace, issue=issue, author_type="member", author_id=ws.owner.id,
        content="x" * 200,
    )  # fmt: skip
    CommentMention.objects.create(
        workspace=ws.workspace, comment=comment, target_type="all", label="all"
    )
    return {
        "comment": comment,
        "commentreaction": CommentReaction.objects.create(
            workspace=ws.workspace,
            comment=comment,
            actor_type="member",
            actor_id=ws.owner.id,
            emoji="👍",
        ),
        "issuesubscriber": IssueSubscriber.objects.get_or_create(
            workspace=ws.workspace,
            issue=issue,
            user_type="member",
            user_id=ws.admin.id,
            defaults={"reason": "manual"},
        )[0],
        "inboxitem": InboxItem.objects.create(
            workspace=ws.workspace, recipient_id=ws.member.id, type="mentioned", issue=issue
        ),
        "notificationpreference": NotificationPreference.objects.create(
            workspace=ws.workspace, user=ws.member, preferences={"comments": "muted"}
        ),
    }


def test_pages_render_read_only(staff, rows):
    for name, obj in rows.items():
        base = f"/admin/issues/{name}/"
        assert staff.get(base).status_code == 200, name
        assert staff.get(f"{base}?q=x").status_code == 200, name
        change = staff.get(f"{base}{obj.pk}/change/")
        assert change.status_code == 200, name
        assert b'name="_save"' not in change.content, name
        assert staff.get(f"{base}add/").status_code == 403, name
        assert staff.post(f"{base}{obj.pk}/delete/", {"post": "yes"}).status_code == 403, name
    assert Comment.objects.filter(pk=rows["comment"].pk).exists()
