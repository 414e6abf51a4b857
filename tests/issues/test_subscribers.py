"""Issue subscribers (spec §3.7): the automatic rules, opt-outs, and the routes."""

from __future__ import annotations

import uuid

import pytest

from issues.models import Issue, IssueSubscriber
from issues.services.subscribers import subscriptions_delete_for_member
from tests.issues.conversation_fixtures import *  # noqa: F403
from tests.issues.conversation_fixtures import ctx_for, mention, of_type
from workspaces.context import Actor
from workspaces.models import Member

pytestmark = pytest.mark.django_db

SUBSCRIBER_KEYS = {"issue_id", "user_type", "user_id", "reason", "created_at"}
NOT_A_MEMBER = {"error": "target user is not a member of this workspace", "code": "not_a_member"}


def active(issue) -> dict[str, str]:
    rows = IssueSubscriber.objects.filter(issue=issue, unsubscribed_at__isnull=True)
    return {str(r.user_id): r.reason for r in rows}


def update(ws, issue, by=None, **fields):
    from issues.services.issues import issue_update

    fields = {k: str(v) if isinstance(v, uuid.UUID) else v for k, v in fields.items()}
    return issue_update(
        ctx=ctx_for(ws.workspace, by or ws.owner), issue_ref=issue.id, fields=fields
    )


def comment(api, ws, issue, user, content="hi"):
    return (
        api.as_user(user)
        .post(f"/api/issues/{issue.id}/comments", json={"content": content}, ws=ws.workspace)
        .want(201)
        .json()
    )


def url(issue, suffix: str) -> str:
    return f"/api/issues/{issue.id}/{suffix}"


# --- automatic rules --------------------------------------------------------------------------


def test_creator_assignee_and_mentioned_on_create(ws, other_ws, make_issue, events, commit):
    description = f"{mention('member', ws.admin.id)} {mention('member', other_ws.owner.id)}"
    with commit():
        issue = make_issue(
            assignee_type="member", assignee_id=ws.member.id, description=description
        )
    assert active(issue) == {
        str(ws.owner.id): "creator",
        str(ws.member.id): "assignee",
        str(ws.admin.id): "mentioned",
    }
    added = of_type(events, "subscriber:added")
    assert [e.payload for e in added] == [
        {"issue_id": str(issue.id), "user_type": "member", "user_id": str(u.id), "reason": r}
        for u, r in ((ws.owner, "creator"), (ws.member, "assignee"), (ws.admin, "mentioned"))
    ]
    assert added[0].workspace_id == str(ws.workspace.id)


def test_self_assigned_creator_is_subscribed_once(ws, make_issue):
    issue = make_issue(assignee_type="member", assignee_id=ws.owner.id)
    assert active(issue) == {str(ws.owner.id): "creator"}


def test_new_assignee_and_new_mentions_on_update(ws, make_issue, events, commit):
    issue = make_issue(description=mention("member", ws.admin.id))
    with commit():
        update(ws, issue, assignee_type="member", assignee_id=ws.member.id)
    assert active(issue)[str(ws.member.id)] == "assignee"
    assert [e.payload["reason"] for e in of_type(events, "subscriber:added")] == ["assignee"]

    IssueSubscriber.objects.filter(issue=issue, user_id=ws.admin.id).delete()
    events.clear()
    with commit():
        # The admin was mentioned before: only newly added mentions count.
        update(ws, issue, description=f"{mention('member', ws.admin.id)} and more")
    assert str(ws.admin.id) not in active(issue)
    assert of_type(events, "subscriber:added") == []


def test_commenter_and_mentioned_on_comment(api, ws, make_issue, events, commit):
    issue = make_issue()
    with commit():
        comment(api, ws, issue, ws.member, f"ping {mention('member', ws.admin.id)}")
    assert active(issue) == {
        str(ws.owner.id): "creator",
        str(ws.member.id): "commenter",
        str(ws.admin.id): "mentioned",
    }
    assert [e.payload["reason"] for e in of_type(events, "subscriber:added")] == [
        "commenter",
        "mentioned",
    ]
    events.clear()
    with commit():
        comment(api, ws, issue, ws.member, "again")
    assert of_type(events, "subscriber:added") == []  # nothing new, nothing announced


def test_opt_out_is_never_overridden_by_rules(api, ws, make_issue, events, commit):
    issue = make_issue()
    api.as_user(ws.member).post(url(issue, "subscribe"), ws=ws.workspace).want(200)
    api.as_user(ws.member).post(url(issue, "unsubscribe"), ws=ws.workspace).want(200)
    events.clear()
    with commit():
        update(ws, issue, assignee_type="member", assignee_id=ws.member.id)
        comment(api, ws, issue, ws.member)
        comment(api, ws, issue, ws.owner, mention("member", ws.member.id))
    assert str(ws.member.id) not in active(issue)
    assert of_type(events, "subscriber:added") == []


def test_system_comments_subscribe_nobody(ws, make_issue):
    from issues.services.comments import comment_create

    issue = make_issue()
    ctx = ctx_for(ws.workspace, ws.owner, actor=Actor.system())
    comment_create(ctx=ctx, issue_ref=issue.id, content="platform note")
    assert active(issue) == {str(ws.owner.id): "creator"}


# --- routes -----------------------------------------------------------------------------------


def test_list_shape_and_order(api, ws, make_issue):
    issue = make_issue(assignee_type="member", assignee_id=ws.member.id)
    body = api.as_user(ws.admin).get(url(issue, "subscribers"), ws=ws.workspace).want(200).json()
    assert [(s["user_id"], s["reason"]) for s in body] == [
        (str(ws.owner.id), "creator"),
        (str(ws.member.id), "assignee"),
    ]
    assert all(set(s) == SUBSCRIBER_KEYS for s in body)
    assert body[0]["issue_id"] == str(issue.id)
    assert body[0]["user_type"] == "member"


def test_subscribe_self_and_others(api, ws, make_issue, events, commit):
    issue = make_issue()
    with commit():
        resp = api.as_user(ws.member).post(url(issue, "subscribe"), ws=ws.workspace).want(200)
    assert resp.json() == {"subscribed": True}
    assert active(issue)[str(ws.member.id)] == "manual"
    [event] = of_type(events, "subscriber:added")
    assert event.payload == {
        "issue_id": str(issue.id),
        "user_type": "member",
        "user_id": str(ws.member.id),
        "reason": "manual",
    }
    api.as_user(ws.member).post(
        url(issue, "subscribe"),
        json={"user_id": str(ws.admin.id), "user_type": "member"},
        ws=ws.workspace,
    ).want(200)
    assert active(issue)[str(ws.admin.id)] == "manual"


@pytest.mark.parametrize(
    "target",
    [
        {"user_id": str(uuid.uuid4())},
        {"user_id": "not-a-uuid"},
        {"user_id": str(uuid.uuid4()), "user_type": "agent"},
        {"user_type": "squad"},
    ],
)
def test_subscribe_target_must_belong(api, ws, make_issue, target):
    issue = make_issue()
    resp = api.as_user(ws.member).post(url(issue, "subscribe"), json=target, ws=ws.workspace)
    assert resp.want(403).json() == NOT_A_MEMBER
    resp = api.as_user(ws.member).post(url(issue, "unsubscribe"), json=target, ws=ws.workspace)
    assert resp.want(403).json() == NOT_A_MEMBER


def test_subscribe_another_workspaces_user_is_refused(api, ws, other_ws, make_issue):
    issue = make_issue()
    resp = api.as_user(ws.member).post(
        url(issue, "subscribe"), json={"user_id": str(other_ws.owner.id)}, ws=ws.workspace
    )
    assert resp.want(403).json() == NOT_A_MEMBER
    assert str(other_ws.owner.id) not in active(issue)


def test_unsubscribe_keeps_a_tombstone_and_resubscribe_clears_it(
    api, ws, make_issue, events, commit
):
    issue = make_issue()
    with commit():
        resp = api.as_user(ws.owner).post(url(issue, "unsubscribe"), ws=ws.workspace).want(200)
    assert resp.json() == {"subscribed": False}
    row = IssueSubscriber.objects.get(issue=issue, user_id=ws.owner.id)
    assert row.unsubscribed_at is not None
    assert row.opt_out_scope == "issue"
    assert of_type(events, "subscriber:removed")[0].payload == {
        "issue_id": str(issue.id),
        "user_type": "member",
        "user_id": str(ws.owner.id),
    }
    listed = api.as_user(ws.owner).get(url(issue, "subscribers"), ws=ws.workspace).json()
    assert listed == []
    api.as_user(ws.owner).post(url(issue, "subscribe"), ws=ws.workspace).want(200)
    row.refresh_from_db()
    assert (row.unsubscribed_at, row.opt_out_scope, row.reason) == (None, None, "manual")


def test_unsubscribe_subtree(api, ws, make_issue, events, commit):
    parent = make_issue("parent", by=ws.admin)
    child = make_issue("child", parent_issue_id=parent.id)
    grandchild = make_issue("grandchild", parent_issue_id=child.id)
    unrelated = make_issue("unrelated")
    with commit():
        api.as_user(ws.owner).post(url(parent, "unsubscribe/subtree"), ws=ws.workspace).want(200)
    removed = {e.payload["issue_id"] for e in of_type(events, "subscriber:removed")}
    assert removed == {str(parent.id), str(child.id), str(grandchild.id)}
    root = IssueSubscriber.objects.get(issue=parent, user_id=ws.owner.id)
    assert (root.opt_out_scope, root.reason) == ("subtree", "manual")
    assert root.unsubscribed_at is not None
    for issue in (child, grandchild):
        assert str(ws.owner.id) not in active(issue)
    assert active(unrelated) == {str(ws.owner.id): "creator"}


def test_departing_member_loses_subscriptions(ws, make_issue):
    issue = make_issue(assignee_type="member", assignee_id=ws.member.id)
    member = Member.objects.get(workspace=ws.workspace, user=ws.member)
    subscriptions_delete_for_member(ws.workspace, member, Actor("member", str(ws.owner.id)))
    assert active(issue) == {str(ws.owner.id): "creator"}


def test_another_workspace_cannot_touch_subscriptions(api, ws, other_ws, make_issue):
    issue = make_issue()
    intruder = api.as_user(other_ws.owner)
    for suffix in ("subscribe", "unsubscribe", "unsubscribe/subtree"):
        resp = intruder.post(url(issue, suffix), ws=other_ws.workspace).want(404)
        assert resp.json()["error"] == "issue not found"
    assert active(issue) == {str(ws.owner.id): "creator"}
    assert not IssueSubscriber.objects.filter(user_id=other_ws.owner.id).exists()
    assert Issue.objects.filter(workspace=other_ws.workspace).count() == 0


def test_member_removal_hook_drops_subscriptions(api, ws, make_issue, monkeypatch):
    from issues.services import attachments as attachment_services
    from issues.services import comments as comment_services
    from workspaces.services import workspaces as workspace_services

    monkeypatch.setattr(attachment_services, "COMMENT_ATTACHMENTS_CHANGED_HOOKS", [])
    monkeypatch.setattr(workspace_services, "MEMBER_REMOVED_HOOKS", [])
    comment_services.register()
    issue = make_issue(assignee_type="member", assignee_id=ws.member.id)
    member = Member.objects.get(workspace=ws.workspace, user=ws.member)
    api.as_user(ws.owner).delete(f"/api/workspaces/{ws.workspace.id}/members/{member.id}").want(204)
    assert not IssueSubscriber.objects.filter(user_id=ws.member.id).exists()
    assert active(issue) == {str(ws.owner.id): "creator"}
