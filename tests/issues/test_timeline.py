"""``GET /api/issues/{id}/timeline`` (spec §3.6): merged comments and activity."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from issues import selectors_conversation
from issues.models import ActivityLog, Attachment, Comment, CommentReaction
from tests.issues.conversation_fixtures import *  # noqa: F403

pytestmark = pytest.mark.django_db

T0 = timezone.now().replace(microsecond=0) - timedelta(days=1)
ACTIVITY_KEYS = {"type", "id", "actor_type", "actor_id", "created_at", "action", "details"}


@pytest.fixture
def issue(make_issue):
    issue = make_issue("Timeline")
    ActivityLog.objects.filter(issue=issue).delete()  # only what each test writes
    return issue


def at(minutes: int):
    return T0 + timedelta(minutes=minutes)


def activity(ws, issue, minutes, action="status_changed", **fields):
    return ActivityLog.objects.create(
        workspace=ws.workspace, issue=issue, action=action, created_at=at(minutes), **fields
    )


def comment(ws, issue, minutes, content="c", **fields):
    return Comment.objects.create(
        workspace=ws.workspace, issue=issue, author_type="member", author_id=ws.owner.id,
        content=content, created_at=at(minutes), updated_at=at(minutes), **fields,
    )  # fmt: skip


def get(api, ws, issue, **params):
    return api.as_user(ws.member).get(f"/api/issues/{issue.id}/timeline", ws=ws.workspace, **params)


def test_flat_ascending_with_both_shapes(api, ws, issue):
    a = activity(
        ws, issue, 0, actor_type="member", actor_id=ws.owner.id,
        details={"from": "todo", "to": "done"},
    )  # fmt: skip
    c = comment(ws, issue, 1, "hello")
    CommentReaction.objects.create(
        workspace=ws.workspace, comment=c, actor_type="member", actor_id=ws.member.id, emoji="👀"
    )
    system = activity(ws, issue, 2, action="task_failed")
    reply = comment(ws, issue, 3, "re", parent=c, resolved_at=at(4), resolved_by_type="member",
                    resolved_by_id=ws.owner.id)  # fmt: skip
    body = get(api, ws, issue).want(200).json()
    assert [e["id"] for e in body] == [str(a.id), str(c.id), str(system.id), str(reply.id)]
    first = body[0]
    assert set(first) == ACTIVITY_KEYS
    assert first["details"] == {"from": "todo", "to": "done"}
    assert (first["actor_type"], first["actor_id"]) == ("member", str(ws.owner.id))
    assert (body[2]["actor_type"], body[2]["actor_id"], body[2]["details"]) == ("", "", {})
    entry = body[1]
    assert entry == {
        "type": "comment",
        "id": str(c.id),
        "actor_type": "member",
        "actor_id": str(ws.owner.id),
        "created_at": at(1).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "content": "hello",
        "updated_at": at(1).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "revision": 1,
        "comment_type": "comment",
        "reactions": [
            {
                "id": str(c.reactions.get().id),
                "comment_id": str(c.id),
                "actor_type": "member",
                "actor_id": str(ws.member.id),
                "emoji": "👀",
                "created_at": entry["reactions"][0]["created_at"],
            }
        ],
    }
    assert body[3]["parent_id"] == str(c.id)
    assert body[3]["resolved_by_id"] == str(ws.owner.id)
    assert "reactions" not in body[3]
    assert "attachments" not in body[3]
    assert "X-Timeline-Truncated" not in get(api, ws, issue).headers


def test_empty_timeline_is_an_empty_list(api, ws, issue):
    assert get(api, ws, issue).want(200).json() == []
    assert get(api, ws, issue, limit="50").want(200).json() == {
        "entries": [],
        "next_cursor": None,
        "prev_cursor": None,
        "has_more_before": False,
        "has_more_after": False,
    }


@pytest.mark.parametrize("param", ["limit", "before", "after", "around"])
def test_paging_params_give_the_legacy_page_newest_first(api, ws, issue, param):
    a = activity(ws, issue, 0)
    c = comment(ws, issue, 1)
    body = get(api, ws, issue, **{param: "x"}).want(200).json()
    assert [e["id"] for e in body["entries"]] == [str(c.id), str(a.id)]
    assert body["next_cursor"] is None
    assert body["prev_cursor"] is None
    assert body["has_more_before"] is False
    assert body["has_more_after"] is False
    assert "target_index" not in body


def test_around_locates_the_anchor(api, ws, issue):
    a = activity(ws, issue, 0)
    comment(ws, issue, 1)
    body = get(api, ws, issue, around=str(a.id)).want(200).json()
    assert body["target_index"] == 1


def test_each_kind_is_capped_and_reported(api, ws, issue, monkeypatch):
    monkeypatch.setattr(selectors_conversation, "TIMELINE_HARD_CAP", 2)
    for i in range(3):
        activity(ws, issue, i)
    comment(ws, issue, 10)
    resp = get(api, ws, issue).want(200)
    assert resp.headers["X-Timeline-Truncated"] == "activity"
    assert [e["type"] for e in resp.json()] == ["activity", "activity", "comment"]
    for i in range(2):
        comment(ws, issue, 20 + i)
    resp = get(api, ws, issue, limit="10").want(200)
    assert resp.headers["X-Timeline-Truncated"] == "activity,comment"
    assert resp.json()["has_more_before"] is True


def test_query_count_is_flat(api, ws, issue, django_assert_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def populate(n):
        for i in range(n):
            c = comment(ws, issue, i)
            activity(ws, issue, i)
            CommentReaction.objects.create(
                workspace=ws.workspace, comment=c, actor_type="member", actor_id=ws.owner.id,
                emoji="👍",
            )  # fmt: skip
            Attachment.objects.create(
                workspace=ws.workspace, issue=issue, comment=c, uploader_type="member",
                uploader_id=ws.owner.id, filename="f", file=f"attachments/t{i}",
            )  # fmt: skip

    populate(1)
    with CaptureQueriesContext(connection) as one:
        get(api, ws, issue).want(200)
    populate(29)
    with django_assert_num_queries(len(one.captured_queries)):
        body = get(api, ws, issue).want(200).json()
    assert len(body) == 60
    assert all("attachments" in e for e in body if e["type"] == "comment")


def test_issue_service_activity_shows_up(api, ws, make_issue):
    issue = make_issue("With history")
    body = get(api, ws, issue).want(200).json()
    if ActivityLog.objects.filter(issue=issue).exists():  # written by the issue core
        assert body[0]["type"] == "activity"
        assert body[0]["action"] == "created"
