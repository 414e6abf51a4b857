"""Mentions: parsing ``[@Label](mention://type/id)`` and the stored CommentMention rows."""

from __future__ import annotations

import uuid

import pytest

from issues.models import CommentMention, Issue
from issues.services.mentions import Mention, mentions_in_workspace, mentions_parse
from tests.issues.conversation_fixtures import *  # noqa: F403
from tests.issues.conversation_fixtures import mention

U1 = uuid.UUID("11111111-1111-4111-8111-111111111111")
U2 = uuid.UUID("22222222-2222-4222-8222-222222222222")


def parsed(content):
    return [(m.type, m.id, m.label) for m in mentions_parse(content)]


def test_parse_every_type_in_order():
    content = (
        f"hi [@Ann](mention://member/{U1}) and [@Bot](mention://agent/{U2}), "
        f"see [MUL-1](mention://issue/{U1}) cc [@all](mention://all/all) "
        f"[@Team](mention://squad/{U2})"
    )
    assert parsed(content) == [
        ("member", U1, "Ann"),
        ("agent", U2, "Bot"),
        ("issue", U1, "MUL-1"),
        ("all", None, "all"),
        ("squad", U2, "Team"),
    ]


def test_parse_deduplicates_case_insensitively():
    content = (
        f"[@A](mention://member/{U1}) [@A again](mention://member/{str(U1).upper()}) "
        f"[@B](mention://agent/{U1}) [@all](mention://all/all) [@everyone](mention://all/all)"
    )
    assert parsed(content) == [("member", U1, "A"), ("agent", U1, "B"), ("all", None, "all")]


def test_labels_with_brackets():
    assert parsed(f"[@David[TF]](mention://member/{U1})") == [("member", U1, "David[TF]")]


@pytest.mark.parametrize(
    "content",
    [
        "",
        None,
        "plain text @someone",
        "[@x](mention://member/not-a-uuid)",
        "[@x](mention://member/abc)",
        "[@x](mention://member/all)",
        f"[@x](mention://robot/{U1})",
        f"[@x](mention:/member/{U1})",
        f"[@x](https://member/{U1})",
        f"[@x](mention://member/{U1}",
        f"[@x]\n(mention://member/{U1})",
        f"[](mention://member/{U1})",
    ],
)
def test_malformed_mentions_are_ignored(content):
    assert mentions_parse(content) == []


@pytest.mark.django_db
def test_foreign_and_unknown_targets_are_dropped(ws, other_ws, make_issue):
    issue = make_issue()
    foreign_issue = Issue.objects.create(
        workspace=other_ws.workspace, number=1, title="theirs", creator_type="member",
        creator_id=other_ws.owner.id,
    )  # fmt: skip
    mentions = [
        Mention("member", ws.member.id),
        Mention("member", other_ws.owner.id),  # a user of another workspace
        Mention("member", uuid.uuid4()),
        Mention("issue", issue.id),
        Mention("issue", uuid.uuid4()),
        Mention("issue", foreign_issue.id),
        Mention("agent", uuid.uuid4()),  # no agent of this workspace has that id
        Mention("squad", uuid.uuid4()),
        Mention("all", None),
    ]
    kept = mentions_in_workspace(workspace_id=ws.workspace.id, mentions=mentions)
    assert [(m.type, m.id) for m in kept] == [
        ("member", ws.member.id),
        ("issue", issue.id),
        ("all", None),
    ]


@pytest.mark.django_db
def test_comment_mentions_are_stored_and_reparsed_on_edit(api, ws, other_ws, make_issue):
    issue = make_issue()
    content = (
        f"{mention('member', ws.member.id, 'Member')} {mention('member', other_ws.owner.id)} "
        f"{mention('issue', issue.id, 'ACME-1')} [@all](mention://all/all)"
    )
    created = (
        api.as_user(ws.owner)
        .post(f"/api/issues/{issue.id}/comments", json={"content": content}, ws=ws.workspace)
        .want(201)
        .json()
    )
    rows = CommentMention.objects.filter(comment_id=created["id"]).order_by("target_type")
    assert [(r.target_type, r.target_id, r.label) for r in rows] == [
        ("all", None, "all"),
        ("issue", issue.id, "ACME-1"),
        ("member", ws.member.id, "Member"),
    ]
    assert not CommentMention.objects.filter(target_id=other_ws.owner.id).exists()
    assert {r.workspace_id for r in rows} == {ws.workspace.id}

    api.as_user(ws.owner).put(
        f"/api/comments/{created['id']}",
        json={"content": f"now {mention('member', ws.admin.id, 'Admin')}"},
        ws=ws.workspace,
    ).want(200)
    rows = CommentMention.objects.filter(comment_id=created["id"])
    assert [(r.target_type, r.target_id) for r in rows] == [("member", ws.admin.id)]
