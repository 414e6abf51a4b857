"""Inbox routes and notification preferences (spec §3.8)."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from issues.models import InboxItem, Issue
from tests.issues.conversation_fixtures import *  # noqa: F403
from tests.issues.conversation_fixtures import of_type
from workspaces.models import Member, Role

pytestmark = pytest.mark.django_db

ITEM_KEYS = {
    "id", "workspace_id", "recipient_type", "recipient_id", "type", "severity", "issue_id",
    "title", "body", "read", "archived", "created_at", "issue_status", "actor_type", "actor_id",
    "details",
}  # fmt: skip
NOT_FOUND = {"error": "inbox item not found", "code": "not_found"}


@pytest.fixture
def issue(ws):
    return Issue.objects.create(
        workspace=ws.workspace, number=501, title="Inboxed", creator_type="member",
        creator_id=ws.owner.id, status="in_progress",
    )  # fmt: skip


@pytest.fixture
def item(ws):
    """``item(user, issue=None, minutes=0, **fields)``"""
    base = timezone.now() - timedelta(hours=1)

    def make(user, issue=None, minutes=0, workspace=None, **fields):
        return InboxItem.objects.create(
            workspace=workspace or ws.workspace, recipient_id=user.id,
            type=fields.pop("type", "new_comment"), issue=issue,
            title=issue.title if issue else "", created_at=base + timedelta(minutes=minutes),
            **fields,
        )  # fmt: skip

    return make


def get(api, ws, user, path, **kw):
    return api.as_user(user).get(path, ws=ws.workspace, **kw)


def post(api, ws, user, path, **kw):
    return api.as_user(user).post(path, ws=ws.workspace, **kw)


# --- lists ------------------------------------------------------------------------------------


def test_list_is_mine_active_and_newest_first(api, ws, issue, item):
    older = item(ws.member, issue, 0, actor_type="member", actor_id=ws.owner.id, details={"a": "b"})
    newer = item(ws.member, None, 5, type="quick_create_done", body="text")
    item(ws.member, issue, 10, archived=True)
    item(ws.owner, issue, 3)
    body = get(api, ws, ws.member, "/api/inbox").want(200).json()
    assert [b["id"] for b in body] == [str(newer.id), str(older.id)]
    assert all(set(b) == ITEM_KEYS for b in body)
    assert body[1] == {
        "id": str(older.id),
        "workspace_id": str(ws.workspace.id),
        "recipient_type": "member",
        "recipient_id": str(ws.member.id),
        "type": "new_comment",
        "severity": "info",
        "issue_id": str(issue.id),
        "title": "Inboxed",
        "body": None,
        "read": False,
        "archived": False,
        "created_at": body[1]["created_at"],
        "issue_status": "in_progress",
        "actor_type": "member",
        "actor_id": str(ws.owner.id),
        "details": {"a": "b"},
    }
    assert (body[0]["issue_id"], body[0]["issue_status"], body[0]["body"]) == (None, None, "text")


def test_archived_list_excludes_issues_with_active_items(api, ws, issue, item, make_issue):
    other = Issue.objects.create(
        workspace=ws.workspace, number=502, title="Done", creator_type="member",
        creator_id=ws.owner.id,
    )  # fmt: skip
    item(ws.member, issue, 0, archived=True)
    item(ws.member, issue, 1)  # a fresh active item: the issue is back in the main inbox
    gone = item(ws.member, other, 2, archived=True)
    body = get(api, ws, ws.member, "/api/inbox/archived").want(200).json()
    assert [b["id"] for b in body] == [str(gone.id)]


def test_unread_count(api, ws, issue, item):
    item(ws.member, issue, 0)
    item(ws.member, issue, 1, read=True)
    item(ws.member, issue, 2, archived=True)
    item(ws.owner, issue, 3)
    assert get(api, ws, ws.member, "/api/inbox/unread-count").want(200).json() == {"count": 1}


def test_unread_summary_spans_my_workspaces(api, ws, other_ws, issue, item):
    Member.objects.create(workspace=other_ws.workspace, user=ws.member, role=Role.MEMBER)
    theirs = Issue.objects.create(
        workspace=other_ws.workspace, number=1, title="x", creator_type="member",
        creator_id=other_ws.owner.id,
    )  # fmt: skip
    item(ws.member, issue, 0)
    item(ws.member, issue, 1)  # same issue group: counted once
    item(ws.member, None, 2)
    item(ws.member, theirs, 0, workspace=other_ws.workspace, read=True)
    item(ws.member, theirs, 1, workspace=other_ws.workspace)
    body = get(api, ws, ws.member, "/api/inbox/unread-summary").want(200).json()
    assert sorted((b["workspace_id"], b["count"]) for b in body) == sorted(
        [(str(ws.workspace.id), 2), (str(other_ws.workspace.id), 1)]
    )
    # A newest item that is read hides the group; a workspace I left is not counted.
    Member.objects.filter(workspace=other_ws.workspace, user=ws.member).delete()
    body = get(api, ws, ws.member, "/api/inbox/unread-summary").want(200).json()
    assert body == [{"workspace_id": str(ws.workspace.id), "count": 2}]


# --- item actions -----------------------------------------------------------------------------


def test_read_unread(api, ws, issue, item, events, commit):
    it = item(ws.member, issue)
    with commit():
        body = post(api, ws, ws.member, f"/api/inbox/{it.id}/read").want(200).json()
    assert body["read"] is True
    assert body["issue_status"] == "in_progress"
    [event] = of_type(events, "inbox:read")
    assert event.payload == {"item_id": str(it.id), "recipient_id": str(ws.member.id)}
    assert event.user_ids == (str(ws.member.id),)
    with commit():
        body = post(api, ws, ws.member, f"/api/inbox/{it.id}/unread").want(200).json()
    assert body["read"] is False
    assert of_type(events, "inbox:unread")[0].payload["item_id"] == str(it.id)


def test_archive_is_issue_level(api, ws, issue, item, events, commit):
    a = item(ws.member, issue, 0)
    b = item(ws.member, issue, 1, read=True)
    mine_elsewhere = item(ws.member, None, 2)
    someone_else = item(ws.owner, issue, 3)
    with commit():
        body = post(api, ws, ws.member, f"/api/inbox/{b.id}/archive").want(200).json()
    assert body["archived"] is True
    archived = set(InboxItem.objects.filter(archived=True).values_list("id", flat=True))
    assert archived == {a.id, b.id}
    assert mine_elsewhere.id not in archived
    assert someone_else.id not in archived
    [event] = of_type(events, "inbox:archived")
    assert event.payload == {
        "item_id": str(b.id),
        "issue_id": str(issue.id),
        "recipient_id": str(ws.member.id),
    }
    with commit():
        body = post(api, ws, ws.member, f"/api/inbox/{a.id}/unarchive").want(200).json()
    assert body["archived"] is False
    assert not InboxItem.objects.filter(recipient_id=ws.member.id, archived=True).exists()
    assert InboxItem.objects.get(pk=b.id).read is True  # read state survives
    assert of_type(events, "inbox:unarchived")[0].payload["issue_id"] == str(issue.id)


@pytest.mark.parametrize("action", ["read", "unread", "archive", "unarchive"])
def test_someone_elses_item_is_404(api, ws, other_ws, issue, item, action):
    owners = item(ws.owner, issue)
    resp = post(api, ws, ws.member, f"/api/inbox/{owners.id}/{action}").want(404)
    assert resp.json() == NOT_FOUND
    missing = post(api, ws, ws.member, f"/api/inbox/{uuid.uuid4()}/{action}").want(404)
    assert missing.json() == NOT_FOUND
    # Another workspace's member naming my item from their own workspace.
    intruder = api.as_user(other_ws.owner).post(
        f"/api/inbox/{owners.id}/{action}", ws=other_ws.workspace
    )
    assert intruder.want(404).json() == NOT_FOUND
    owners.refresh_from_db()
    assert (owners.read, owners.archived) == (False, False)


# --- batch actions ----------------------------------------------------------------------------


def test_mark_all_read(api, ws, issue, item, events, commit):
    item(ws.member, issue, 0)
    item(ws.member, issue, 1)
    item(ws.member, issue, 2, read=True)
    item(ws.member, issue, 3, archived=True)
    item(ws.owner, issue, 4)
    with commit():
        body = post(api, ws, ws.member, "/api/inbox/mark-all-read").want(200).json()
    assert body == {"count": 2}
    assert InboxItem.objects.filter(recipient_id=ws.owner.id, read=False).count() == 1
    [event] = of_type(events, "inbox:batch-read")
    assert event.payload == {"recipient_id": str(ws.member.id), "count": 2}
    assert event.user_ids == (str(ws.member.id),)


def test_archive_batches(api, ws, issue, item, events, commit):
    done = Issue.objects.create(
        workspace=ws.workspace, number=503, title="Shipped", creator_type="member",
        creator_id=ws.owner.id, status="done",
    )  # fmt: skip
    item(ws.member, done, 0)
    item(ws.member, issue, 1)
    item(ws.member, issue, 2, read=True)
    item(ws.member, None, 3)
    with commit():
        assert post(api, ws, ws.member, "/api/inbox/archive-completed").json() == {"count": 1}
        assert post(api, ws, ws.member, "/api/inbox/archive-all-read").json() == {"count": 1}
        assert post(api, ws, ws.member, "/api/inbox/archive-all").json() == {"count": 2}
        assert post(api, ws, ws.member, "/api/inbox/archive-all").json() == {"count": 0}
    assert [e.payload["count"] for e in of_type(events, "inbox:batch-archived")] == [1, 1, 2, 0]
    assert not InboxItem.objects.filter(archived=False).exists()


def test_batches_touch_only_this_workspace(api, ws, other_ws, item):
    Member.objects.create(workspace=other_ws.workspace, user=ws.member, role=Role.MEMBER)
    theirs = item(ws.member, None, 0, workspace=other_ws.workspace)
    post(api, ws, ws.member, "/api/inbox/mark-all-read").want(200)
    post(api, ws, ws.member, "/api/inbox/archive-all").want(200)
    theirs.refresh_from_db()
    assert (theirs.read, theirs.archived) == (False, False)


# --- notification preferences -----------------------------------------------------------------


PREFS = "/api/notification-preferences"


def test_preferences_get_put_patch(api, ws):
    member = api.as_user(ws.member)
    empty = member.get(PREFS, ws=ws.workspace).want(200).json()
    assert empty == {"workspace_id": str(ws.workspace.id), "preferences": {}}
    body = member.put(
        PREFS, json={"preferences": {"comments": "muted", "updates": "all"}}, ws=ws.workspace
    )
    assert body.want(200).json()["preferences"] == {"comments": "muted", "updates": "all"}
    merged = member.patch(PREFS, json={"preferences": {"mentions": "muted"}}, ws=ws.workspace)
    assert merged.want(200).json()["preferences"] == {
        "comments": "muted",
        "updates": "all",
        "mentions": "muted",
    }
    replaced = member.put(PREFS, json={"preferences": {"mentions": "all"}}, ws=ws.workspace)
    assert replaced.want(200).json()["preferences"] == {"mentions": "all"}
    assert member.get(PREFS, ws=ws.workspace).json()["preferences"] == {"mentions": "all"}
    # Per user: the owner's map is still empty.
    assert api.as_user(ws.owner).get(PREFS, ws=ws.workspace).json()["preferences"] == {}


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({}, "preferences field is required"),
        ({"preferences": None}, "preferences field is required"),
        ({"preferences": {"chatter": "muted"}}, "invalid preference group: chatter"),
        ({"preferences": {"comments": "loud"}}, "invalid preference value: loud"),
        ({"preferences": {"comments": 1}}, "invalid request body"),
        ({"preferences": ["comments"]}, "invalid request body"),
        (["preferences"], "invalid request body"),
    ],
)
@pytest.mark.parametrize("method", ["put", "patch"])
def test_preferences_errors(api, ws, body, message, method):
    resp = getattr(api.as_user(ws.member), method)(PREFS, json=body, ws=ws.workspace)
    assert resp.want(400).json()["error"] == message


def test_list_query_count_is_flat(api, ws, issue, item, django_assert_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    item(ws.member, issue, 0)
    with CaptureQueriesContext(connection) as one:
        get(api, ws, ws.member, "/api/inbox").want(200)
    for i in range(29):
        other = Issue.objects.create(
            workspace=ws.workspace, number=600 + i, title=f"i{i}", creator_type="member",
            creator_id=ws.owner.id,
        )  # fmt: skip
        item(ws.member, other, i + 1)
    with django_assert_num_queries(len(one.captured_queries)):
        body = get(api, ws, ws.member, "/api/inbox").want(200).json()
    assert len(body) == 30
    assert all(b["issue_status"] for b in body)
