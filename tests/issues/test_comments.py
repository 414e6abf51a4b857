"""Comments (spec §3.5): create, edit, delete, resolve, reactions, events, errors, isolation."""

from __future__ import annotations

import re
import uuid

import pytest

from issues.models import Attachment, Comment, CommentReaction, Issue
from issues.services import comments as comment_services
from issues.wire import issue_prefix
from tests.issues.conversation_fixtures import *  # noqa: F403
from tests.issues.conversation_fixtures import of_type

pytestmark = pytest.mark.django_db

TIME_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
COMMENT_KEYS = {
    "id", "issue_id", "author_type", "author_id", "content", "type", "parent_id", "created_at",
    "updated_at", "revision", "resolved_at", "resolved_by_type", "resolved_by_id", "reactions",
    "attachments",
}  # fmt: skip
REACTION_KEYS = {"id", "comment_id", "actor_type", "actor_id", "emoji", "created_at"}


def comments_url(issue) -> str:
    return f"/api/issues/{issue.id}/comments"


def post_comment(api, ws, issue, user=None, **body):
    body.setdefault("content", "hello")
    return api.as_user(user or ws.owner).post(comments_url(issue), json=body, ws=ws.workspace)


def error(resp) -> str:
    return resp.json()["error"]


# --- create -----------------------------------------------------------------------------------


def test_create_returns_comment_shape_and_bumps_issue(api, ws, make_issue):
    issue = make_issue()
    before = Issue.objects.get(pk=issue.pk)
    body = post_comment(api, ws, issue, content="first!").want(201).json()
    assert set(body) == COMMENT_KEYS | {"issue_revision"}
    assert body["issue_id"] == str(issue.id)
    assert body["author_type"] == "member"
    assert body["author_id"] == str(ws.owner.id)
    assert body["content"] == "first!"
    assert body["type"] == "comment"
    assert body["parent_id"] is None
    assert body["revision"] == 1
    assert body["resolved_at"] is None
    assert body["reactions"] == []
    assert body["attachments"] == []
    assert TIME_RE.match(body["created_at"])
    after = Issue.objects.get(pk=issue.pk)
    assert after.revision == before.revision + 1 == body["issue_revision"]
    assert after.last_activity_at >= before.last_activity_at if before.last_activity_at else True
    assert after.last_activity_at is not None


def test_create_by_identifier_and_progress_update(api, ws, make_issue):
    issue = make_issue()
    ident = f"{issue_prefix(ws.workspace)}-{issue.number}"
    body = (
        api.as_user(ws.member)
        .post(
            f"/api/issues/{ident.lower()}/comments",
            json={"content": "status", "type": "progress_update"},
            ws=ws.workspace,
        )
        .want(201)
        .json()
    )
    assert body["type"] == "progress_update"
    assert body["author_id"] == str(ws.member.id)


def test_create_event_payload(api, ws, make_issue, events, commit):
    issue = make_issue(assignee_type="member", assignee_id=ws.member.id)
    with commit():
        body = post_comment(api, ws, issue).want(201).json()
    [event] = of_type(events, "comment:created")
    assert set(event.payload) == {
        "comment", "issue_title", "issue_assignee_type", "issue_assignee_id", "issue_status",
        "issue_revision",
    }  # fmt: skip
    assert event.payload["comment"] == body
    assert event.payload["issue_title"] == issue.title
    assert event.payload["issue_assignee_type"] == "member"
    assert event.payload["issue_assignee_id"] == str(ws.member.id)
    assert event.payload["issue_status"] == issue.status
    assert event.payload["issue_revision"] == body["issue_revision"]
    assert event.workspace_id == str(ws.workspace.id)
    assert (event.actor_type, event.actor_id) == ("member", str(ws.owner.id))


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({}, "content is required"),
        ({"content": ""}, "content is required"),
        ({"content": "\x00\x00"}, "content is required"),
        ({"content": 5}, "invalid request body"),
        ({"content": "x", "type": "system"}, "invalid comment type"),
        ({"content": "x", "type": "status_change"}, "invalid comment type"),
        ({"content": "x", "parent_id": "nope"}, "invalid parent_id"),
        ({"content": "x", "parent_id": str(uuid.uuid4())}, "invalid parent comment"),
        ({"content": "x", "attachment_ids": ["nope"]}, "invalid attachment_ids"),
        ({"content": "x", "attachment_ids": "nope"}, "invalid request body"),
    ],
)
def test_create_errors(api, ws, make_issue, body, message):
    issue = make_issue()
    resp = api.as_user(ws.owner).post(comments_url(issue), json=body, ws=ws.workspace).want(400)
    assert error(resp) == message
    assert not Comment.objects.filter(issue=issue).exists()


def test_create_body_must_be_an_object(api, ws, make_issue):
    issue = make_issue()
    resp = api.as_user(ws.owner).post(comments_url(issue), json=["x"], ws=ws.workspace).want(400)
    assert error(resp) == "invalid request body"


def test_parent_must_belong_to_the_same_issue(api, ws, make_issue):
    a, b = make_issue("a"), make_issue("b")
    other = post_comment(api, ws, b).want(201).json()
    resp = post_comment(api, ws, a, parent_id=other["id"]).want(400)
    assert error(resp) == "invalid parent comment"


def test_nul_bytes_are_stripped(api, ws, make_issue):
    issue = make_issue()
    body = post_comment(api, ws, issue, content="a\x00b").want(201).json()
    assert body["content"] == "ab"


def test_unknown_issue_is_404(api, ws):
    resp = api.as_user(ws.owner).post(
        f"/api/issues/{uuid.uuid4()}/comments", json={"content": "x"}, ws=ws.workspace
    )
    resp.want(404)
    assert error(resp) == "issue not found"


def test_reply_reopens_a_resolved_thread(api, ws, make_issue, events, commit):
    issue = make_issue()
    root = post_comment(api, ws, issue, content="root").want(201).json()
    api.as_user(ws.owner).post(f"/api/comments/{root['id']}/resolve", ws=ws.workspace).want(200)
    with commit():
        reply = post_comment(api, ws, issue, content="again", parent_id=root["id"]).want(201)
    assert reply.json()["parent_id"] == root["id"]
    assert Comment.objects.get(pk=root["id"]).resolved_at is None
    [unresolved] = of_type(events, "comment:unresolved")
    assert unresolved.payload["comment"]["id"] == root["id"]
    assert unresolved.payload["comment"]["resolved_at"] is None


def test_attachments_are_linked_and_rendered(api, ws, make_issue):
    issue = make_issue()
    att = Attachment.objects.create(
        workspace=ws.workspace, uploader_type="member", uploader_id=ws.owner.id,
        filename="a.txt", file="attachments/a", content_type="text/plain", size_bytes=1,
    )  # fmt: skip
    body = post_comment(api, ws, issue, attachment_ids=[str(att.id)]).want(201).json()
    [rendered] = body["attachments"]
    assert rendered["id"] == str(att.id)
    assert rendered["comment_id"] == body["id"]
    assert rendered["issue_id"] == str(issue.id)


def test_foreign_attachment_is_refused(api, ws, other_ws, make_issue):
    issue = make_issue()
    att = Attachment.objects.create(
        workspace=other_ws.workspace, uploader_type="member", uploader_id=other_ws.owner.id,
        filename="a.txt", file="attachments/b", content_type="text/plain", size_bytes=1,
    )  # fmt: skip
    resp = post_comment(api, ws, issue, attachment_ids=[str(att.id)]).want(400)
    assert error(resp) == "invalid attachment_ids"
    assert not Comment.objects.filter(issue=issue).exists()
    assert Attachment.objects.get(pk=att.pk).comment_id is None


# --- trigger hooks ----------------------------------------------------------------------------


def test_trigger_outcomes_come_from_hooks(api, ws, make_issue, monkeypatch, events, commit):
    issue = make_issue()
    seen = []

    def hook(trigger):
        seen.append(trigger)
        return [{"target_type": "agent", "target_id": "x", "status": "queued", "reason_code": ""}]

    monkeypatch.setattr(comment_services, "COMMENT_TRIGGER_HOOKS", [hook])
    with commit():
        body = post_comment(api, ws, issue, suppress_agent_ids=[str(uuid.UUID(int=1))]).want(201)
    assert body.json()["trigger_outcomes"][0]["status"] == "queued"
    assert seen[0].suppress_agent_ids == (uuid.UUID(int=1),)
    assert not seen[0].edited
    # The broadcast never carries the author's private trigger feedback.
    assert "trigger_outcomes" not in of_type(events, "comment:created")[0].payload["comment"]
    # /note never triggers; no outcome means no key.
    note = post_comment(api, ws, issue, content="  /NOTE for humans").want(201).json()
    assert "trigger_outcomes" not in note
    assert len(seen) == 1


# --- update -----------------------------------------------------------------------------------


def test_author_edits_and_revisions_move(api, ws, make_issue, events, commit):
    issue = make_issue()
    created = post_comment(api, ws, issue, user=ws.member, content="v1").want(201).json()
    with commit():
        body = (
            api.as_user(ws.member)
            .put(f"/api/comments/{created['id']}", json={"content": "v2"}, ws=ws.workspace)
            .want(200)
            .json()
        )
    assert body["content"] == "v2"
    assert body["revision"] == 2
    assert body["issue_revision"] == created["issue_revision"] + 1
    [event] = of_type(events, "comment:updated")
    assert event.payload["comment"]["content"] == "v2"
    assert event.payload["issue_revision"] == body["issue_revision"]
    # Same content again: nothing changes, the issue is not bumped.
    same = (
        api.as_user(ws.member)
        .put(f"/api/comments/{created['id']}", json={"content": "v2"}, ws=ws.workspace)
        .want(200)
        .json()
    )
    assert same["revision"] == 2
    assert "issue_revision" not in same


def test_only_author_or_admin_can_edit(api, ws, make_issue):
    issue = make_issue()
    created = post_comment(api, ws, issue, user=ws.admin).want(201).json()
    resp = api.as_user(ws.member).put(
        f"/api/comments/{created['id']}", json={"content": "hack"}, ws=ws.workspace
    )
    resp.want(403)
    assert resp.json() == {"error": "only comment author or admin can edit", "code": "forbidden"}
    assert Comment.objects.get(pk=created["id"]).content == "hello"
    api.as_user(ws.owner).put(
        f"/api/comments/{created['id']}", json={"content": "by owner"}, ws=ws.workspace
    ).want(200)


def test_edit_with_stale_revision_conflicts(api, ws, make_issue):
    issue = make_issue()
    created = post_comment(api, ws, issue).want(201).json()
    url = f"/api/comments/{created['id']}"
    api.as_user(ws.owner).put(
        url, json={"content": "v2", "expected_revision": 1}, ws=ws.workspace
    ).want(200)
    resp = api.as_user(ws.owner).put(
        url, json={"content": "v3", "expected_revision": 1}, ws=ws.workspace
    )
    resp.want(409)
    assert resp.json() == {
        "error": "resource changed since it was loaded",
        "code": "revision_conflict",
        "resource_type": "comment",
        "resource_id": created["id"],
        "expected_revision": 1,
        "actual_revision": 2,
    }
    bad = api.as_user(ws.owner).put(
        url, json={"content": "v3", "expected_revision": 0}, ws=ws.workspace
    )
    assert error(bad.want(400)) == "expected_revision must be a positive integer"
    base = api.as_user(ws.owner).put(
        url, json={"content": "v3", "content_base": "v1"}, ws=ws.workspace
    )
    assert base.want(409).json() == {
        "error": "resource field changed since it was loaded",
        "code": "revision_conflict",
        "resource_type": "comment",
        "resource_id": created["id"],
    }
    assert Comment.objects.get(pk=created["id"]).content == "v2"


@pytest.mark.parametrize(
    ("body", "message"),
    [({}, "content is required"), ({"content": 1}, "invalid request body"),
     ({"content": "x", "expected_revision": "1"}, "invalid request body")],
)  # fmt: skip
def test_edit_errors(api, ws, make_issue, body, message):
    issue = make_issue()
    created = post_comment(api, ws, issue).want(201).json()
    resp = api.as_user(ws.owner).put(f"/api/comments/{created['id']}", json=body, ws=ws.workspace)
    assert error(resp.want(400)) == message


def test_edit_replaces_the_attachment_set(api, ws, make_issue):
    issue = make_issue()

    def attachment(name):
        return Attachment.objects.create(
            workspace=ws.workspace, uploader_type="member", uploader_id=ws.owner.id,
            filename=name, file=f"attachments/{name}", content_type="text/plain", size_bytes=1,
        )  # fmt: skip

    a, b = attachment("a"), attachment("b")
    created = post_comment(api, ws, issue, attachment_ids=[str(a.id)]).want(201).json()
    body = (
        api.as_user(ws.owner)
        .put(
            f"/api/comments/{created['id']}",
            json={"content": "hello", "attachment_ids": [str(b.id)]},
            ws=ws.workspace,
        )
        .want(200)
        .json()
    )
    assert [x["id"] for x in body["attachments"]] == [str(b.id)]
    assert body["revision"] == 2  # an attachment-only edit is still a visible change
    assert Attachment.objects.get(pk=a.pk).comment_id is None


# --- delete -----------------------------------------------------------------------------------


def test_delete_rules_event_and_replies(api, ws, make_issue, events, commit):
    issue = make_issue()
    root = post_comment(api, ws, issue, user=ws.member, content="root").want(201).json()
    reply = post_comment(api, ws, issue, content="reply", parent_id=root["id"]).want(201).json()
    resp = api.as_user(ws.admin).delete(f"/api/comments/{reply['id']}", ws=ws.workspace)
    resp.want(204)
    denied = api.as_user(ws.owner).delete(f"/api/comments/{uuid.uuid4()}", ws=ws.workspace)
    assert error(denied.want(404)) == "comment not found"
    other = post_comment(api, ws, issue, user=ws.owner, content="owner's").want(201).json()
    forbidden = api.as_user(ws.member).delete(f"/api/comments/{other['id']}", ws=ws.workspace)
    assert forbidden.want(403).json()["error"] == "only comment author or admin can delete"

    revision = Issue.objects.get(pk=issue.pk).revision
    post_comment(api, ws, issue, content="r2", parent_id=root["id"]).want(201)
    with commit():
        api.as_user(ws.member).delete(f"/api/comments/{root['id']}", ws=ws.workspace).want(204)
    assert set(Comment.objects.filter(issue=issue).values_list("content", flat=True)) == {"owner's"}
    [event] = of_type(events, "comment:deleted")
    assert event.payload == {
        "comment_id": root["id"],
        "issue_id": str(issue.id),
        "issue_revision": revision + 2,
    }


# --- resolve ----------------------------------------------------------------------------------


def test_resolve_and_unresolve(api, ws, make_issue, events, commit):
    issue = make_issue()
    created = post_comment(api, ws, issue).want(201).json()
    url = f"/api/comments/{created['id']}/resolve"
    with commit():
        body = api.as_user(ws.member).post(url, ws=ws.workspace).want(200).json()
        again = api.as_user(ws.member).post(url, ws=ws.workspace).want(200).json()
    assert TIME_RE.match(body["resolved_at"])
    assert (body["resolved_by_type"], body["resolved_by_id"]) == ("member", str(ws.member.id))
    assert body["revision"] == 2
    assert again == body  # idempotent
    assert len(of_type(events, "comment:resolved")) == 1
    assert of_type(events, "comment:resolved")[0].payload == {"comment": body}
    with commit():
        undone = api.as_user(ws.owner).delete(url, ws=ws.workspace).want(200).json()
        api.as_user(ws.owner).delete(url, ws=ws.workspace).want(200)
    assert undone["resolved_at"] is None
    assert undone["resolved_by_id"] is None
    assert undone["revision"] == 3
    assert len(of_type(events, "comment:unresolved")) == 1


def test_one_resolution_per_thread(api, ws, make_issue, events, commit):
    issue = make_issue()
    root = post_comment(api, ws, issue, content="q").want(201).json()
    a = post_comment(api, ws, issue, content="a", parent_id=root["id"]).want(201).json()
    b = post_comment(api, ws, issue, content="b", parent_id=a["id"]).want(201).json()
    api.as_user(ws.owner).post(f"/api/comments/{a['id']}/resolve", ws=ws.workspace).want(200)
    with commit():
        api.as_user(ws.owner).post(f"/api/comments/{b['id']}/resolve", ws=ws.workspace).want(200)
    assert Comment.objects.get(pk=a["id"]).resolved_at is None
    assert Comment.objects.get(pk=b["id"]).resolved_at is not None
    assert [e.payload["comment"]["id"] for e in of_type(events, "comment:unresolved")] == [a["id"]]


# --- reactions --------------------------------------------------------------------------------


def test_reactions(api, ws, make_issue, events, commit):
    issue = make_issue()
    created = post_comment(api, ws, issue).want(201).json()
    url = f"/api/comments/{created['id']}/reactions"
    with commit():
        body = api.as_user(ws.member).post(url, json={"emoji": "🎉"}, ws=ws.workspace).want(201)
        dup = api.as_user(ws.member).post(url, json={"emoji": "🎉"}, ws=ws.workspace).want(201)
    body, dup = body.json(), dup.json()
    assert set(body) == REACTION_KEYS | {"comment_revision"}
    assert body["comment_revision"] == 2
    assert (body["actor_type"], body["actor_id"], body["emoji"]) == (
        "member",
        str(ws.member.id),
        "🎉",
    )
    assert dup["id"] == body["id"]
    assert "comment_revision" not in dup
    [added] = of_type(events, "reaction:added")
    assert added.payload["reaction"] == body
    assert added.payload["issue_id"] == str(issue.id)
    listed = api.as_user(ws.owner).get(comments_url(issue), ws=ws.workspace).want(200).json()
    assert listed[0]["reactions"] == [{k: body[k] for k in REACTION_KEYS}]

    with commit():
        api.as_user(ws.member).delete(url, json={"emoji": "🎉"}, ws=ws.workspace).want(204)
        api.as_user(ws.member).delete(url, json={"emoji": "🎉"}, ws=ws.workspace).want(204)
    [removed] = of_type(events, "reaction:removed")
    assert removed.payload == {
        "comment_id": created["id"],
        "issue_id": str(issue.id),
        "emoji": "🎉",
        "actor_type": "member",
        "actor_id": str(ws.member.id),
        "comment_revision": 3,
    }
    assert not CommentReaction.objects.exists()
    missing = api.as_user(ws.member).post(url, json={}, ws=ws.workspace).want(400)
    assert error(missing) == "emoji is required"


# --- isolation --------------------------------------------------------------------------------


def test_another_workspaces_comment_is_404_and_untouched(api, ws, other_ws, make_issue):
    issue = make_issue()
    created = post_comment(api, ws, issue).want(201).json()
    intruder = api.as_user(other_ws.owner)
    calls = [
        ("put", f"/api/comments/{created['id']}", {"content": "pwned"}),
        ("delete", f"/api/comments/{created['id']}", None),
        ("post", f"/api/comments/{created['id']}/resolve", None),
        ("delete", f"/api/comments/{created['id']}/resolve", None),
        ("post", f"/api/comments/{created['id']}/reactions", {"emoji": "x"}),
        ("delete", f"/api/comments/{created['id']}/reactions", {"emoji": "x"}),
    ]
    for method, url, body in calls:
        resp = getattr(intruder, method)(url, json=body, ws=other_ws.workspace).want(404)
        assert error(resp) == "comment not found"
    for suffix in ("comments", "timeline", "subscribers"):
        intruder.get(f"/api/issues/{issue.id}/{suffix}", ws=other_ws.workspace).want(404)
    intruder.post(comments_url(issue), json={"content": "x"}, ws=other_ws.workspace).want(404)
    comment = Comment.objects.get(pk=created["id"])
    assert (comment.content, comment.revision, comment.resolved_at) == ("hello", 1, None)
    assert Comment.objects.filter(issue=issue).count() == 1
    assert not CommentReaction.objects.exists()


def test_system_comments_carry_the_zero_author(ws, make_issue):
    from tests.issues.conversation_fixtures import ctx_for
    from workspaces.context import Actor

    issue = make_issue()
    ctx = ctx_for(ws.workspace, ws.owner, actor=Actor.system())
    result = comment_services.comment_create(ctx=ctx, issue_ref=issue.id, content="note")
    body = result.wire()
    assert (body["author_type"], body["author_id"]) == ("system", str(uuid.UUID(int=0)))


def test_attachment_deletion_reannounces_the_comment(
    api, ws, make_issue, events, commit, monkeypatch
):
    from issues.services import attachments as attachment_services
    from tests.issues.conversation_fixtures import ctx_for
    from workspaces.services import workspaces as workspace_services

    # Registration mutates module-level hook lists: keep it local to this test.
    monkeypatch.setattr(attachment_services, "COMMENT_ATTACHMENTS_CHANGED_HOOKS", [])
    monkeypatch.setattr(workspace_services, "MEMBER_REMOVED_HOOKS", [])
    comment_services.register()
    comment_services.register()  # idempotent
    assert (
        attachment_services.COMMENT_ATTACHMENTS_CHANGED_HOOKS.count(
            comment_services.comment_attachments_changed
        )
        == 1
    )
    issue = make_issue()
    att = Attachment.objects.create(
        workspace=ws.workspace, uploader_type="member", uploader_id=ws.owner.id,
        filename="a.txt", file="attachments/gone", content_type="text/plain", size_bytes=1,
    )  # fmt: skip
    created = post_comment(api, ws, issue, attachment_ids=[str(att.id)]).want(201).json()
    with commit():
        attachment_services.attachment_delete(
            ctx=ctx_for(ws.workspace, ws.owner), attachment_id=att.id
        )
    [event] = of_type(events, "comment:updated")
    assert event.payload["comment"]["id"] == created["id"]
    assert event.payload["comment"]["attachments"] == []
    assert event.payload["comment"]["revision"] == 2
