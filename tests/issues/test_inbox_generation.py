"""Inbox generation (spec §3.8): who gets which item when issues and comments change."""

from __future__ import annotations

import uuid
from datetime import date

import pytest

from issues.models import InboxItem, IssueSubscriber, NotificationPreference
from tests.issues.conversation_fixtures import *  # noqa: F403
from tests.issues.conversation_fixtures import ctx_for, mention, of_type
from workspaces.models import Member, Role

pytestmark = pytest.mark.django_db


@pytest.fixture
def watcher(ws, make_user):
    user = make_user("watcher@example.com", name="Watcher")
    Member.objects.create(workspace=ws.workspace, user=user, role=Role.MEMBER)
    return user


def watch(issue, user, reason="manual"):
    IssueSubscriber.objects.create(
        workspace_id=issue.workspace_id, issue=issue, user_type="member", user_id=user.id,
        reason=reason,
    )  # fmt: skip


def items(user, **filters) -> list[InboxItem]:
    return list(InboxItem.objects.filter(recipient_id=user.id, **filters).order_by("created_at"))


def kinds(user) -> list[str]:
    return [i.type for i in items(user)]


def update(ws, issue, by=None, **fields):
    from issues.services.issues import issue_update

    fields = {k: str(v) if isinstance(v, uuid.UUID | date) else v for k, v in fields.items()}
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


def mute(ws, user, **groups):
    NotificationPreference.objects.create(workspace=ws.workspace, user=user, preferences=groups)


# --- issues -----------------------------------------------------------------------------------


def test_assignee_of_a_new_issue_is_notified(ws, make_issue, events, commit):
    with commit():
        issue = make_issue("Fix it", assignee_type="member", assignee_id=ws.member.id)
    [item] = items(ws.member)
    assert (item.type, item.severity, item.title, item.body) == (
        "issue_assigned", "action_required", "Fix it", None,
    )  # fmt: skip
    assert (item.actor_type, item.actor_id, item.issue_id) == ("member", ws.owner.id, issue.id)
    assert item.details == {}
    assert item.workspace_id == ws.workspace.id
    [event] = of_type(events, "inbox:new")
    assert event.user_ids == (str(ws.member.id),)
    payload = event.payload["item"]
    assert payload["id"] == str(item.id)
    assert payload["issue_status"] == issue.status
    assert payload["recipient_id"] == str(ws.member.id)
    assert kinds(ws.owner) == []  # the creator acted: nothing for them


def test_self_assignment_notifies_nobody(ws, make_issue):
    make_issue(assignee_type="member", assignee_id=ws.owner.id)
    assert not InboxItem.objects.exists()


def test_description_mentions_notify_members(ws, other_ws, make_issue):
    description = " ".join(
        mention("member", u.id) for u in (ws.admin, ws.owner, other_ws.owner, ws.member)
    )
    make_issue(description=description, assignee_type="member", assignee_id=ws.member.id)
    assert kinds(ws.admin) == ["mentioned"]
    assert kinds(ws.member) == ["issue_assigned"]  # assigned already: not mentioned twice
    assert kinds(ws.owner) == []
    assert not InboxItem.objects.filter(recipient_id=other_ws.owner.id).exists()


def test_reassignment(ws, make_issue, watcher):
    issue = make_issue(assignee_type="member", assignee_id=ws.member.id)
    watch(issue, watcher)
    InboxItem.objects.all().delete()
    update(ws, issue, assignee_type="member", assignee_id=ws.admin.id)
    details = {
        "prev_assignee_type": "member",
        "prev_assignee_id": str(ws.member.id),
        "new_assignee_type": "member",
        "new_assignee_id": str(ws.admin.id),
    }
    [assigned] = items(ws.admin)
    assert (assigned.type, assigned.severity, assigned.details) == (
        "issue_assigned", "action_required", details,
    )  # fmt: skip
    [unassigned] = items(ws.member)
    assert (unassigned.type, unassigned.severity, unassigned.details) == (
        "unassigned", "info", details,
    )  # fmt: skip
    [changed] = items(watcher)
    assert (changed.type, changed.details) == ("assignee_changed", details)
    assert kinds(ws.owner) == []


def test_field_changes_reach_subscribers(ws, make_issue, watcher):
    issue = make_issue(status="todo")
    watch(issue, watcher)
    update(ws, issue, status="in_progress")
    update(ws, issue, priority="high")
    update(ws, issue, due_date=date(2030, 1, 2))
    update(ws, issue, start_date=date(2030, 1, 1))
    got = items(watcher)
    assert [(i.type, i.details) for i in got] == [
        ("status_changed", {"from": "todo", "to": "in_progress"}),
        ("priority_changed", {"from": "none", "to": "high"}),
        ("due_date_changed", {"from": "", "to": "2030-01-02"}),
        ("start_date_changed", {"from": "", "to": "2030-01-01"}),
    ]
    assert all(i.severity == "info" and i.title == issue.title for i in got)
    assert kinds(ws.owner) == []  # creator subscribed, but the actor is skipped


def test_actor_is_skipped_even_when_subscribed(ws, make_issue, watcher):
    issue = make_issue()
    watch(issue, watcher)
    update(ws, issue, by=watcher, priority="low")
    assert kinds(watcher) == []
    assert kinds(ws.owner) == ["priority_changed"]


def test_mutes_per_group(api, ws, make_issue, watcher):
    issue = make_issue()
    watch(issue, watcher)
    mute(ws, watcher, status_changes="muted", comments="muted", updates="all")
    update(ws, issue, status="in_progress")
    update(ws, issue, priority="urgent")
    comment(api, ws, issue, ws.member, f"hey {mention('member', watcher.id)}")
    # muting comment volume never silences someone asking for you by name
    assert kinds(watcher) == ["priority_changed", "mentioned"]
    mute_mentions = NotificationPreference.objects.get(user=watcher)
    mute_mentions.preferences = {"mentions": "muted"}
    mute_mentions.save()
    comment(api, ws, issue, ws.member, f"again {mention('member', watcher.id)}")
    assert kinds(watcher)[-1] == "new_comment"


def test_agent_subscribers_get_nothing(ws, make_issue):
    issue = make_issue()
    agent_id = uuid.uuid4()
    IssueSubscriber.objects.create(
        workspace=ws.workspace, issue=issue, user_type="agent", user_id=agent_id, reason="manual"
    )
    update(ws, issue, by=ws.member, status="done")
    assert not InboxItem.objects.filter(recipient_id=agent_id).exists()
    assert kinds(ws.owner) == ["status_changed"]


def test_delegated_subscribers_only_hear_arrivals(ws, make_issue, watcher):
    issue = make_issue(status="todo")
    watch(issue, watcher, reason="delegated")
    update(ws, issue, status="in_progress")
    update(ws, issue, priority="high")
    assert kinds(watcher) == []
    update(ws, issue, status="in_review")
    assert kinds(watcher) == ["status_changed"]


def test_status_changes_bubble_to_the_parent(ws, make_issue, watcher):
    parent = make_issue("parent")
    child = make_issue("child", parent_issue_id=parent.id)
    watch(parent, watcher)
    watch(child, ws.admin)
    update(ws, child, by=ws.member, status="done")
    [item] = items(watcher)
    assert (item.type, item.issue_id) == ("status_changed", child.id)
    assert kinds(ws.admin) == ["status_changed"]
    assert kinds(ws.owner) == ["status_changed"]  # creator of both: notified once


def test_terminal_status_retires_task_failed_items(ws, make_issue, events, commit):
    issue = make_issue()
    stale = InboxItem.objects.create(
        workspace=ws.workspace, recipient_id=ws.member.id, type="task_failed", issue=issue
    )
    with commit():
        update(ws, issue, status="done")
    stale.refresh_from_db()
    assert stale.archived
    [event] = of_type(events, "inbox:batch-archived")
    assert event.payload == {
        "recipient_id": str(ws.member.id),
        "count": 1,
        "issue_id": str(issue.id),
        "reason": "issue_status_terminal",
    }
    assert event.user_ids == (str(ws.member.id),)


# --- comments ---------------------------------------------------------------------------------


def test_comments_notify_subscribers_and_mentioned(api, ws, make_issue, watcher):
    issue = make_issue()
    watch(issue, watcher)
    body = comment(api, ws, issue, ws.member, f"look {mention('member', ws.admin.id)}")
    [new] = items(watcher)
    assert (new.type, new.severity, new.title, new.body) == (
        "new_comment", "info", issue.title, body["content"],
    )  # fmt: skip
    assert new.details == {"comment_id": body["id"]}
    assert kinds(ws.owner) == ["new_comment"]
    [mentioned] = items(ws.admin)
    assert (mentioned.type, mentioned.details) == ("mentioned", {"comment_id": body["id"]})
    assert kinds(ws.member) == []  # the author


def test_mention_all_reaches_every_member_but_the_author(api, ws, make_issue, watcher):
    issue = make_issue()
    comment(api, ws, issue, ws.admin, "[@all](mention://all/all)")
    assert kinds(ws.member) == ["mentioned"]
    assert kinds(watcher) == ["mentioned"]
    assert kinds(ws.owner) == ["new_comment", "mentioned"]
    assert kinds(ws.admin) == []


def test_reaction_notifies_the_comment_author(api, ws, make_issue):
    issue = make_issue()
    body = comment(api, ws, issue, ws.member)
    InboxItem.objects.all().delete()
    url = f"/api/comments/{body['id']}/reactions"
    api.as_user(ws.admin).post(url, json={"emoji": "🚀"}, ws=ws.workspace).want(201)
    api.as_user(ws.member).post(url, json={"emoji": "🚀"}, ws=ws.workspace).want(201)
    [item] = items(ws.member)
    assert (item.type, item.details) == (
        "reaction_added",
        {"emoji": "🚀", "comment_id": body["id"]},
    )
    assert item.actor_id == ws.admin.id
