"""``GET /api/issues/{id}/comments`` (spec §3.5): every read mode, its errors, the cap, and a
pinned query budget."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from issues import selectors_conversation
from issues.models import Attachment, Comment, CommentReaction
from tests.issues.conversation_fixtures import *  # noqa: F403

pytestmark = pytest.mark.django_db

T0 = timezone.now().replace(microsecond=0) - timedelta(days=1)


@pytest.fixture
def issue(make_issue):
    return make_issue("Discussed")


@pytest.fixture
def add(ws, issue):
    """``add(content, minutes, parent=None)``: a comment at T0 + minutes."""

    def make(content: str, minutes: int, parent: Comment | None = None, **fields) -> Comment:
        at = T0 + timedelta(minutes=minutes)
        return Comment.objects.create(
            workspace=ws.workspace, issue=issue, author_type="member", author_id=ws.owner.id,
            content=content, parent=parent, created_at=at, updated_at=at, **fields,
        )  # fmt: skip

    return make


def get(api, ws, issue, **params):
    return api.as_user(ws.member).get(f"/api/issues/{issue.id}/comments", ws=ws.workspace, **params)


def contents(resp) -> list[str]:
    return [c["content"] for c in resp.json()]


def iso(minutes: int) -> str:
    return (T0 + timedelta(minutes=minutes)).strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.fixture
def threads(add):
    """Two threads: A (root a, replies a1 → a2) active last at 5; B (root b, reply b1) at 4."""
    a = add("a", 0)
    b = add("b", 1)
    a1 = add("a1", 2, parent=a)
    b1 = add("b1", 4, parent=b)
    a2 = add("a2", 5, parent=a1)
    return {"a": a, "b": b, "a1": a1, "b1": b1, "a2": a2}


def test_default_is_everything_chronological(api, ws, issue, threads):
    resp = get(api, ws, issue).want(200)
    assert contents(resp) == ["a", "b", "a1", "b1", "a2"]
    assert "X-Comments-Truncated" not in resp.headers
    assert "X-Multica-Next-Before" not in resp.headers


def test_since(api, ws, issue, threads):
    assert contents(get(api, ws, issue, since=iso(1)).want(200)) == ["a1", "b1", "a2"]
    fractional = (T0 + timedelta(minutes=1, seconds=30)).isoformat()
    assert contents(get(api, ws, issue, since=fractional).want(200)) == ["a1", "b1", "a2"]


def test_thread_from_any_anchor(api, ws, issue, threads):
    assert contents(get(api, ws, issue, thread=threads["a2"].id).want(200)) == ["a", "a1", "a2"]
    assert contents(get(api, ws, issue, thread=threads["b"].id).want(200)) == ["b", "b1"]
    since = get(api, ws, issue, thread=threads["a"].id, since=iso(1)).want(200)
    assert contents(since) == ["a1", "a2"]


def test_thread_tail_and_reply_cursor(api, ws, issue, threads):
    resp = get(api, ws, issue, thread=threads["a"].id, tail=1).want(200)
    assert contents(resp) == ["a", "a2"]
    cursor = (resp.headers["X-Multica-Next-Before"], resp.headers["X-Multica-Next-Before-Id"])
    assert cursor[1] == str(threads["a2"].id)
    older = get(
        api, ws, issue, thread=threads["a"].id, tail=1, before=cursor[0], before_id=cursor[1]
    )
    assert contents(older.want(200)) == ["a", "a1"]
    assert "X-Multica-Next-Before" not in older.headers  # nothing older than a1
    root_only = get(api, ws, issue, thread=threads["a"].id, tail=0).want(200)
    assert contents(root_only) == ["a"]


def test_recent_threads_and_thread_cursor(api, ws, issue, threads):
    resp = get(api, ws, issue, recent=1).want(200)
    assert contents(resp) == ["a", "a1", "a2"]
    assert resp.headers["X-Multica-Next-Before-Id"] == str(threads["a"].id)
    before = resp.headers["X-Multica-Next-Before"]
    older = get(api, ws, issue, recent=1, before=before, before_id=str(threads["a"].id))
    assert contents(older.want(200)) == ["b", "b1"]
    both = get(api, ws, issue, recent=5).want(200)
    assert contents(both) == ["b", "b1", "a", "a1", "a2"]  # freshest thread last
    assert "X-Multica-Next-Before" not in both.headers


def test_roots_only_with_stats(api, ws, issue, threads):
    body = get(api, ws, issue, roots_only="true").want(200).json()
    assert [(c["content"], c["reply_count"], c["last_activity_at"]) for c in body] == [
        ("a", 2, iso(5)),
        ("b", 1, iso(4)),
    ]
    assert "reply_count" not in get(api, ws, issue).json()[0]
    newer = get(api, ws, issue, **{"roots-only": "true", "since": iso(0)}).want(200)
    assert contents(newer) == ["b"]


def test_summary_clips_to_200_code_points(api, ws, issue, add):
    add("é" * 250, 0)
    add("short", 1)
    body = get(api, ws, issue, summary="true").want(200).json()
    assert body[0]["content"] == "é" * 200 + "…"
    assert body[0]["content_truncated"] is True
    assert (body[1]["content"], body[1]["content_truncated"]) == ("short", False)
    assert "content_truncated" not in get(api, ws, issue).json()[0]


def test_fold_collapses_resolved_threads(api, ws, issue, threads):
    now = timezone.now()
    Comment.objects.filter(pk=threads["a1"].pk).update(resolved_at=now)
    body = get(api, ws, issue, fold="true").want(200).json()
    assert [c["content"] for c in body] == ["a", "b", "a1", "b1"]
    root = body[0]
    assert (root["thread_resolved"], root["folded_count"]) == (True, 1)
    assert "thread_resolved" not in body[1]


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"since": "yesterday"}, "invalid since parameter; expected RFC3339 format"),
        ({"since": "2026-01-01T00:00:00"}, "invalid since parameter; expected RFC3339 format"),
        ({"roots_only": "yes"}, "invalid roots_only parameter; expected boolean"),
        ({"summary": "1"}, "invalid summary parameter; expected boolean"),
        ({"fold": "maybe"}, "invalid fold parameter; expected boolean"),
        ({"roots_only": "true", "thread": "x"}, "roots_only and thread are mutually exclusive"),
        ({"roots_only": "true", "recent": "1"}, "roots_only and recent are mutually exclusive"),
        ({"roots_only": "true", "tail": "1"}, "roots_only and tail are mutually exclusive"),
        (
            {"roots_only": "true", "before": "2026-01-01T00:00:00Z"},
            "roots_only does not support before / before_id",
        ),
        ({"thread": "x", "recent": "1"}, "thread and recent are mutually exclusive"),
        ({"tail": "1"}, "tail requires thread (it is a thread-scoped limit)"),
        (
            {"recent": "1", "before": "2026-01-01T00:00:00Z"},
            "before and before_id must be set together (composite cursor)",
        ),
        (
            {"thread": str(uuid.uuid4()), "before": "2026-01-01T00:00:00Z", "before_id": "x"},
            "before / before_id require recent (thread cursor) or thread + tail (reply cursor)",
        ),
        (
            {"recent": "1", "before": "nope", "before_id": str(uuid.uuid4())},
            "invalid before parameter; expected RFC3339 format",
        ),
        (
            {"recent": "1", "before": "2026-01-01T00:00:00Z", "before_id": "x"},
            "invalid before_id parameter; expected UUID",
        ),
        ({"recent": "0"}, "invalid recent parameter; expected positive integer"),
        ({"recent": "abc"}, "invalid recent parameter; expected positive integer"),
        (
            {"thread": str(uuid.uuid4()), "tail": "-1"},
            "invalid tail parameter; expected non-negative integer",
        ),
        ({"thread": "not-a-uuid"}, "invalid thread parameter; expected UUID"),
        ({"fold": "true", "since": "2026-01-01T00:00:00Z"}, "fold and since are mutually"),
        ({"fold": "true", "thread": str(uuid.uuid4()), "tail": "1"}, "fold and tail are mutually"),
        ({"fold": "true", "roots_only": "true"}, "fold and roots_only are mutually exclusive"),
    ],
)
def test_bad_parameters(api, ws, issue, params, message):
    resp = get(api, ws, issue, **params).want(400)
    assert resp.json()["error"].startswith(message)


def test_thread_anchor_of_another_issue_is_404(api, ws, issue, make_issue, add):
    other = make_issue("Other")
    foreign = Comment.objects.create(
        workspace=ws.workspace, issue=other, author_type="member", author_id=ws.owner.id,
        content="x",
    )  # fmt: skip
    resp = get(api, ws, issue, thread=foreign.id).want(404)
    assert resp.json()["error"] == "thread anchor not found in this issue"


def test_cap_keeps_the_newest_and_completes_threads(api, ws, issue, add, monkeypatch):
    monkeypatch.setattr(selectors_conversation, "COMMENT_HARD_CAP", 3)
    monkeypatch.setattr(selectors_conversation, "COMMENT_PROBE_LIMIT", 4)
    root = add("root", 0)
    add("old", 1)
    add("x", 2)
    add("y", 3)
    add("reply", 4, parent=root)
    resp = get(api, ws, issue).want(200)
    assert resp.headers["X-Comments-Truncated"] == "true"
    # Newest three are x, y, reply; the reply's root is restored so the thread renders.
    assert contents(resp) == ["root", "x", "y", "reply"]
    exact = get(api, ws, issue, since=iso(0)).want(200)
    assert contents(exact) == ["old", "x", "y"]
    assert exact.headers["X-Comments-Truncated"] == "true"


def _populate(ws, issue, add, n: int) -> None:
    for i in range(n):
        c = add(f"c{i}", i)
        CommentReaction.objects.create(
            workspace=ws.workspace, comment=c, actor_type="member", actor_id=ws.owner.id, emoji="👍"
        )
        Attachment.objects.create(
            workspace=ws.workspace, issue=issue, comment=c, uploader_type="member",
            uploader_id=ws.owner.id, filename=f"f{i}", file=f"attachments/f{i}",
        )  # fmt: skip


@pytest.mark.parametrize("params", [{}, {"roots_only": "true"}, {"recent": "50"}])
def test_list_query_count_is_flat(api, ws, issue, add, django_assert_num_queries, params):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    _populate(ws, issue, add, 1)
    with CaptureQueriesContext(connection) as one:
        body = get(api, ws, issue, **params).want(200).json()
    assert len(body[0]["reactions"]) == 1
    assert len(body[0]["attachments"]) == 1
    Comment.objects.filter(issue=issue).delete()
    _populate(ws, issue, add, 30)
    with django_assert_num_queries(len(one.captured_queries)):
        body = get(api, ws, issue, **params).want(200).json()
    assert len(body) == 30
    assert all(len(c["reactions"]) == 1 and len(c["attachments"]) == 1 for c in body)


def test_default_list_query_budget(api, ws, issue, add, django_assert_max_num_queries):
    _populate(ws, issue, add, 30)
    # auth (user, workspace, member) + issue + comments + reactions + attachments
    with django_assert_max_num_queries(7):
        get(api, ws, issue).want(200)
