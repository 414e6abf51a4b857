"""``GET /api/issues`` (spec §3.4): every filter and sort, paging, the POST twin, search, and the
query budget (the same number of queries for 1 and 50 issues)."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from issues.models import Comment, Issue
from issues.services.statuses import status_create
from tests.issues.issue_fixtures import *  # noqa: F403

pytestmark = pytest.mark.django_db


@pytest.fixture
def client(api, ws):
    return api.as_user(ws.owner)


@pytest.fixture
def listing(client, ws):
    def get(expect: int = 200, **params):
        return client.get("/api/issues", ws=ws.workspace, **params).want(expect).json()

    return get


def ids(body) -> list[str]:
    return [i["id"] for i in body["issues"]]


def numbers(body) -> list[int]:
    return [i["number"] for i in body["issues"]]


# --- shape and paging ---------------------------------------------------------------------------


def test_list_shape_and_default_order(listing, ctx, make_issue, make_label):
    label = make_label(ctx, "bug")
    first = make_issue(ctx, label_ids=[str(label.id)])
    second = make_issue(ctx)
    done = make_issue(ctx, status="done")
    body = listing()
    assert body["total"] == 3
    # position ASC: each create goes to the top of its status column
    assert ids(body) == [str(second.id), str(first.id), str(done.id)] or ids(body) == [
        str(second.id),
        str(done.id),
        str(first.id),
    ]
    item = next(i for i in body["issues"] if i["id"] == str(first.id))
    assert [label["name"] for label in item["labels"]] == ["bug"]
    assert next(i for i in body["issues"] if i["id"] == str(second.id))["labels"] == []
    assert "reactions" not in item
    assert "attachments" not in item


def test_ties_break_by_created_at_then_id_desc(listing, ctx, make_issue):
    a, b, c = make_issue(ctx), make_issue(ctx), make_issue(ctx)
    Issue.objects.filter(pk__in=[a.pk, b.pk, c.pk]).update(position=0)
    now = timezone.now()
    Issue.objects.filter(pk=a.pk).update(created_at=now)
    Issue.objects.filter(pk=b.pk).update(created_at=now - timedelta(hours=1))
    Issue.objects.filter(pk=c.pk).update(created_at=now)
    expected_first_two = sorted([str(a.id), str(c.id)], reverse=True)
    assert ids(listing()) == [*expected_first_two, str(b.id)]


def test_limit_and_offset(listing, ctx, make_issue):
    made = [make_issue(ctx) for _ in range(5)]
    assert len(made) == 5
    body = listing(limit="2")
    assert len(body["issues"]) == 2
    assert body["total"] == 5
    assert numbers(listing(limit="2", offset="4")) == [1]
    assert listing(limit="2", offset="4")["total"] == 5
    assert len(listing(limit="0")["issues"]) == 5  # invalid → default
    assert len(listing(limit="abc", offset="-3")["issues"]) == 5
    assert listing(limit="1000")["total"] == 5


def test_limit_is_capped_at_100(listing, ctx, make_issue):
    Issue.objects.bulk_create(
        [
            Issue(
                workspace=ctx.workspace, number=1000 + n, title=f"bulk {n}", status="todo",
                creator_type="member", creator_id=ctx.user.id, position=n,
            )
            for n in range(105)
        ]
    )  # fmt: skip
    body = listing(limit="500")
    assert len(body["issues"]) == 100
    assert body["total"] == 105
    assert len(listing()["issues"]) == 100


def test_total_follows_writes(listing, client, ws, ctx, make_issue):
    for _ in range(3):
        make_issue(ctx)
    assert listing(limit="1")["total"] == 3  # counted (page full), then cached
    issue = make_issue(ctx)
    assert listing(limit="1")["total"] == 4
    client.delete(f"/api/issues/{issue.id}", ws=ws.workspace).want(204)
    assert listing(limit="1")["total"] == 3
    client.put("/api/issues/ACME-1", json={"status": "done"}, ws=ws.workspace).want(200)
    assert listing(limit="1", status="done")["total"] == 1


# --- filters ----------------------------------------------------------------------------------


def test_status_and_category_filters(listing, ctx, make_issue):
    qa = status_create(ctx=ctx, name="QA", category="in_review", color="#123123")
    todo = make_issue(ctx)
    review = make_issue(ctx, status="in_review")
    custom = make_issue(ctx, status=qa.key)
    done = make_issue(ctx, status="done")
    assert set(ids(listing(status="todo"))) == {str(todo.id)}
    assert set(ids(listing(statuses="todo,done"))) == {str(todo.id), str(done.id)}
    body = listing(status_category="in_review")
    assert set(ids(body)) == {str(review.id), str(custom.id)}
    assert {i["status_category"] for i in body["issues"]} == {"in_review"}
    assert set(ids(listing(status_categories="done,todo"))) == {str(todo.id), str(done.id)}
    assert listing(status_category="nonsense")["total"] == 0


def test_priority_filters(listing, ctx, make_issue):
    high = make_issue(ctx, priority="high")
    low = make_issue(ctx, priority="low")
    make_issue(ctx)
    assert ids(listing(priority="high")) == [str(high.id)]
    assert set(ids(listing(priorities="high,low"))) == {str(high.id), str(low.id)}


def test_assignee_and_creator_filters(listing, ws, ctx, make_issue, api):
    mine = make_issue(ctx, assignee_type="member", assignee_id=str(ws.member.id))
    admins = make_issue(ctx, assignee_type="member", assignee_id=str(ws.admin.id))
    nobody = make_issue(ctx)
    by_member = api.as_user(ws.member).post(
        "/api/issues", json={"title": "by member"}, ws=ws.workspace
    )
    by_member_id = by_member.want(201).json()["id"]
    assert ids(listing(assignee_id=str(ws.member.id))) == [str(mine.id)]
    assert set(ids(listing(assignee_ids=f"{ws.member.id},{ws.admin.id}"))) == {
        str(mine.id),
        str(admins.id),
    }
    assert set(ids(listing(assignee_types="member"))) == {str(mine.id), str(admins.id)}
    assert listing(assignee_types="agent")["total"] == 0
    assert listing(400, assignee_types="robot")["error"] == "invalid assignee_types"
    body = listing(assignee_filters=f"member:{ws.member.id}", include_no_assignee="true")
    assert set(ids(body)) == {str(mine.id), str(nobody.id), by_member_id}
    assert listing(400, assignee_filters="member")["error"] == "invalid assignee_filters"
    assert listing(400, assignee_filters="robot:x")["error"] == "invalid assignee_filters"
    assert listing(400, assignee_filters="member:x")["error"] == "invalid assignee_filters"
    assert ids(listing(creator_id=str(ws.member.id))) == [by_member_id]
    assert ids(listing(creator_filters=f"member:{ws.member.id}")) == [by_member_id]
    assert listing(400, creator_id="x")["error"] == "invalid creator_id"
    assert listing(400, assignee_id="x")["error"] == "invalid assignee_id"
    assert listing(400, assignee_ids="x")["error"] == "invalid assignee_ids"


def test_project_filters(listing, ctx, make_issue, make_project):
    p1, p2 = make_project(ctx, "one"), make_project(ctx, "two")
    a = make_issue(ctx, project_id=str(p1.id))
    b = make_issue(ctx, project_id=str(p2.id))
    none = make_issue(ctx)
    assert ids(listing(project_id=str(p1.id))) == [str(a.id)]
    assert set(ids(listing(project_ids=f"{p1.id},{p2.id}"))) == {str(a.id), str(b.id)}
    assert set(ids(listing(project_ids=str(p2.id), include_no_project="true"))) == {
        str(b.id),
        str(none.id),
    }
    assert ids(listing(include_no_project="true")) == [str(none.id)]
    assert listing(400, project_ids="x")["error"] == "invalid project_ids"
    assert listing(400, project_id="x")["error"] == "invalid project_id"


def test_label_ids_filter_is_any_of(listing, ctx, make_issue, make_label):
    bug, ui = make_label(ctx, "bug"), make_label(ctx, "ui")
    a = make_issue(ctx, label_ids=[str(bug.id)])
    b = make_issue(ctx, label_ids=[str(bug.id), str(ui.id)])
    c = make_issue(ctx, label_ids=[str(ui.id)])
    make_issue(ctx)
    assert set(ids(listing(label_ids=str(bug.id)))) == {str(a.id), str(b.id)}
    assert set(ids(listing(label_ids=f"{bug.id},{ui.id}"))) == {str(a.id), str(b.id), str(c.id)}
    assert listing(label_ids=f"{bug.id},{ui.id}")["total"] == 3  # no duplicate rows
    assert listing(400, label_ids="x")["error"] == "invalid label_ids"


def test_ids_filter(listing, ctx, make_issue):
    a, b = make_issue(ctx), make_issue(ctx)
    make_issue(ctx)
    assert set(ids(listing(ids=f"{a.id},{b.id}"))) == {str(a.id), str(b.id)}
    assert listing(ids="") == {"issues": [], "total": 0}  # present but empty ⇒ empty
    assert listing(400, ids="x")["error"] == "invalid ids"


def test_top_level_and_scheduled(listing, ctx, make_issue):
    parent = make_issue(ctx, start_date="2026-01-01")
    child = make_issue(ctx, parent_issue_id=str(parent.id), due_date="2026-01-02")
    plain = make_issue(ctx)
    assert set(ids(listing(top_level_only="true"))) == {str(parent.id), str(plain.id)}
    assert set(ids(listing(scheduled="true"))) == {str(parent.id), str(child.id)}


def test_q_matches_every_word_or_the_number(listing, ctx, make_issue):
    a = make_issue(ctx, "Fix the LOGIN page")
    make_issue(ctx, "Fix the signup page")
    c = make_issue(ctx, "Something 100% off_by_one")
    assert ids(listing(q="login fix")) == [str(a.id)]
    assert ids(listing(q="100%")) == [str(c.id)]
    assert ids(listing(q="off_by")) == [str(c.id)]
    assert ids(listing(q=f"ACME-{a.number}")) == [str(a.id)]
    assert str(a.id) in ids(listing(q=str(a.number)))


def test_metadata_filter(listing, ctx, make_issue):
    a, b = make_issue(ctx), make_issue(ctx)
    Issue.objects.filter(pk=a.pk).update(metadata={"pr": 12, "state": "open"})
    Issue.objects.filter(pk=b.pk).update(metadata={"pr": 13})
    assert ids(listing(metadata=json.dumps({"pr": 12}))) == [str(a.id)]
    assert ids(listing(metadata=json.dumps({"state": "open", "pr": 12}))) == [str(a.id)]
    assert listing(400, metadata="[1]")["error"] == "metadata filter must be a JSON object"
    assert listing(400, metadata='{"a": {"b": 1}}')["error"] == (
        "metadata filter values must be primitives (string, number, bool)"
    )
    assert listing(400, metadata='{"1bad": 1}')["error"].startswith("metadata filter key must")


def test_properties_filter(listing, ctx, make_issue):
    definition, other = str(uuid.uuid4()), str(uuid.uuid4())
    a, b, c, d = (make_issue(ctx) for _ in range(4))
    Issue.objects.filter(pk=a.pk).update(properties={definition: "opt1", other: True})
    Issue.objects.filter(pk=b.pk).update(properties={definition: ["opt1", "opt2"]})
    Issue.objects.filter(pk=c.pk).update(properties={definition: "opt3"})
    assert set(ids(listing(properties=json.dumps({definition: ["opt1"]})))) == {
        str(a.id),
        str(b.id),
    }
    body = listing(properties=json.dumps({definition: ["opt3", "__none__"]}))
    assert set(ids(body)) == {str(c.id), str(d.id)}
    body = listing(properties=json.dumps({definition: ["opt1"], other: ["true"]}))
    assert ids(body) == [str(a.id)]
    assert listing(400, properties="[]")["error"].startswith("properties filter must be")
    assert listing(400, properties='{"x": ["a"]}')["error"] == (
        'properties filter key "x" is not a definition id'
    )
    assert listing(400, properties=json.dumps({definition: [""]}))["error"] == (
        "properties filter values cannot be empty"
    )


def test_date_filter(listing, ctx, make_issue):
    old, new = make_issue(ctx), make_issue(ctx)
    Issue.objects.filter(pk=old.pk).update(created_at="2026-01-01T10:00:00Z")
    Issue.objects.filter(pk=new.pk).update(created_at="2026-02-01T10:00:00Z")
    body = listing(
        date_field="created_at", date_start="2026-01-01T00:00:00Z", date_end="2026-01-02T00:00:00Z"
    )
    assert ids(body) == [str(old.id)]
    body = listing(
        date_field="created_at", date_start="2026-01-01T10:00:00Z", date_end="2026-02-01T10:00:00Z"
    )
    assert ids(body) == [str(old.id)]  # half-open
    errors = [
        ({"date_field": "created_at"},
         "date_field, date_start, and date_end are required together"),
        ({"date_field": "due_date", "date_start": "2026-01-01T00:00:00Z",
          "date_end": "2026-01-02T00:00:00Z"}, "invalid date_field"),
        ({"date_field": "updated_at", "date_start": "yesterday",
          "date_end": "2026-01-02T00:00:00Z"}, "invalid date_start"),
        ({"date_field": "updated_at", "date_start": "2026-01-02T00:00:00Z",
          "date_end": "2026-01-02"}, "invalid date_end"),
        ({"date_field": "updated_at", "date_start": "2026-01-02T00:00:00Z",
          "date_end": "2026-01-01T00:00:00Z"}, "date_start must be before date_end"),
    ]  # fmt: skip
    for params, message in errors:
        assert listing(400, **params)["error"] == message


def test_involves_user_id(listing, ws, ctx, make_issue, monkeypatch):
    from django.db.models import Q

    from issues import selectors

    agent_id = uuid.uuid4()
    Issue.objects.filter(pk=make_issue(ctx).pk).update(assignee_type="agent", assignee_id=agent_id)
    assert listing(involves_user_id=str(ws.member.id))["total"] == 0  # no agents domain yet
    monkeypatch.setattr(
        selectors,
        "INVOLVES_FILTERS",
        [lambda ctx, user_id: Q(assignee_type="agent", assignee_id=agent_id)],
    )
    assert listing(involves_user_id=str(ws.member.id))["total"] == 1
    assert listing(400, involves_user_id="x")["error"] == "invalid involves_user_id"


def test_open_only_returns_every_open_issue(listing, ctx, make_issue):
    for _ in range(3):
        make_issue(ctx)
    make_issue(ctx, status="done")
    make_issue(ctx, status="cancelled")
    body = listing(open_only="true", limit="1")
    assert body["total"] == 3
    assert len(body["issues"]) == 3


def test_filters_combine_with_and(listing, ctx, make_issue):
    match = make_issue(ctx, priority="high", status="done")
    make_issue(ctx, priority="high")
    make_issue(ctx, status="done")
    assert ids(listing(priority="high", status="done")) == [str(match.id)]


# --- sorts ------------------------------------------------------------------------------------


@pytest.fixture
def sortable(ctx, make_issue):
    a = make_issue(ctx, "banana", priority="low", status="done")
    b = make_issue(ctx, "apple", priority="urgent", status="backlog", due_date="2026-05-01")
    c = make_issue(ctx, "cherry", priority="medium", status="in_progress", start_date="2026-01-01")
    now = timezone.now()
    Issue.objects.filter(pk=a.pk).update(
        created_at=now - timedelta(days=3), updated_at=now, last_activity_at=now
    )
    Issue.objects.filter(pk=b.pk).update(
        created_at=now - timedelta(days=2),
        updated_at=now - timedelta(days=2),
        last_activity_at=None,
    )
    Issue.objects.filter(pk=c.pk).update(
        created_at=now - timedelta(days=1),
        updated_at=now - timedelta(days=1),
        last_activity_at=now - timedelta(days=1),
    )
    return {"a": str(a.id), "b": str(b.id), "c": str(c.id)}


@pytest.mark.parametrize(
    ("params", "order"),
    [
        ({"sort": "title"}, "bac"),
        ({"sort": "title", "direction": "desc"}, "cab"),
        ({"sort": "created_at"}, "abc"),
        ({"sort": "created_at", "direction": "DESC"}, "cba"),
        ({"sort": "updated_at"}, "bca"),
        ({"sort": "start_date"}, "cba"),  # NULLS LAST, then created_at DESC
        ({"sort": "start_date", "direction": "desc"}, "cba"),
        ({"sort": "due_date"}, "bca"),
        ({"sort": "last_activity"}, "acb"),  # default DESC, NULLS LAST
        ({"sort": "last_activity", "direction": "asc"}, "cab"),
        ({"sort": "status"}, "bca"),  # backlog, in_progress, done
        ({"sort": "priority"}, "bca"),  # urgent, medium, low
        ({"sort": "priority", "direction": "desc"}, "acb"),
    ],
)  # fmt: skip
def test_sorts(listing, sortable, params, order):
    assert ids(listing(**params)) == [sortable[k] for k in order]


def test_position_sort_ignores_direction(listing, sortable):
    assert ids(listing(sort="position", direction="desc")) == ids(listing())


def test_property_sort(listing, ctx, make_issue):
    definition = str(uuid.uuid4())
    a, b, c = make_issue(ctx), make_issue(ctx), make_issue(ctx)
    Issue.objects.filter(pk=a.pk).update(properties={definition: "b"})
    Issue.objects.filter(pk=b.pk).update(properties={definition: "a"})
    assert ids(listing(sort=f"property:{definition}")) == [str(b.id), str(a.id), str(c.id)]
    assert ids(listing(sort=f"property:{definition}", direction="desc"))[:2] == [
        str(a.id),
        str(b.id),
    ]


def test_sort_errors(listing):
    assert listing(400, sort="bogus")["error"] == "invalid sort value"
    assert listing(400, sort="property:nope")["error"] == "invalid sort value"
    assert listing(400, sort="title", direction="up")["error"] == "invalid direction value"


# --- POST /api/issues/query -------------------------------------------------------------------


def test_query_endpoint_takes_the_same_keys(client, ws, ctx, make_issue):
    a = make_issue(ctx, priority="high")
    make_issue(ctx)
    body = client.post(
        "/api/issues/query", json={"priority": "high", "limit": "10"}, ws=ws.workspace
    )
    assert ids(body.want(200).json()) == [str(a.id)]
    body = client.post("/api/issues/query", json={"ids": ""}, ws=ws.workspace).want(200).json()
    assert body == {"issues": [], "total": 0}
    bad = client.post("/api/issues/query", json={"limit": 10}, ws=ws.workspace).want(400).json()
    assert bad["error"] == "invalid request body"


# --- query budget -----------------------------------------------------------------------------


# Per request: the membership row with its workspace and the JWT's user (tenancy and
# authentication in one query); the page; its labels; the status catalog (only because custom
# statuses are on the page). A full page adds the COUNT.
LIST_QUERIES = 4


def _list(client, ws, **params) -> dict:
    body = client.get("/api/issues", ws=ws.workspace, **params).want(200).json()
    assert body["issues"]
    return body


def test_list_query_count_does_not_grow_with_the_page(
    client, ws, ctx, make_issue, make_label, django_assert_num_queries
):
    qa = status_create(ctx=ctx, name="QA", category="in_review", color="#123123")
    labels = [make_label(ctx, f"l{n}") for n in range(3)]
    make_issue(ctx, status=qa.key, label_ids=[str(labels[0].id)])
    with django_assert_num_queries(LIST_QUERIES):
        assert len(_list(client, ws)["issues"]) == 1
    with django_assert_num_queries(LIST_QUERIES + 1):
        assert _list(client, ws, limit="1", q="Issue")["total"] == 1
    for n in range(49):
        make_issue(ctx, status=qa.key if n % 2 else "todo", label_ids=[str(labels[n % 3].id)])
    with django_assert_num_queries(LIST_QUERIES):
        assert len(_list(client, ws)["issues"]) == 50
    with django_assert_num_queries(LIST_QUERIES + 1):
        assert _list(client, ws, limit="50", q="Issue ")["total"] == 50


def test_cached_total_costs_no_query(client, ws, ctx, make_issue, django_assert_num_queries):
    for _ in range(4):
        make_issue(ctx)
    built_in_only = LIST_QUERIES - 1  # no custom status on the page: no catalog query
    with django_assert_num_queries(built_in_only + 1):
        assert _list(client, ws, limit="2")["total"] == 4
    with django_assert_num_queries(built_in_only):
        assert _list(client, ws, limit="2")["total"] == 4


# --- search -----------------------------------------------------------------------------------


def test_search(client, ws, ctx, make_issue):
    exact = make_issue(ctx, "Login bug")
    prefix = make_issue(ctx, "Login bug in Safari")
    desc = make_issue(ctx, "Unrelated", description="x" * 60 + " the login bug appears " + "y" * 90)
    commented = make_issue(ctx, "Another")
    Comment.objects.create(
        workspace=ctx.workspace, issue=commented, author_type="member", author_id=ctx.user.id,
        content="I can reproduce the login bug here",
    )  # fmt: skip
    closed = make_issue(ctx, "Old login bug", status="done")
    cancelled = make_issue(ctx, "login bug", status="cancelled")
    out = client.get("/api/issues/search", ws=ws.workspace, q="login bug").want(200)
    body = out.json()
    assert out.headers["X-Total-Count"] == str(body["total"]) == "4"
    assert ids(body) == [str(exact.id), str(prefix.id), str(desc.id), str(commented.id)]
    by_id = {i["id"]: i for i in body["issues"]}
    assert by_id[str(exact.id)]["match_source"] == "title"
    assert "matched_snippet" not in by_id[str(exact.id)]
    d = by_id[str(desc.id)]
    assert d["match_source"] == "description"
    assert d["matched_description_snippet"].startswith("...")
    assert "login bug" in (d["matched_description_snippet"])
    cm = by_id[str(commented.id)]
    assert cm["match_source"] == "comment"
    assert (
        cm["matched_snippet"]
        == cm["matched_comment_snippet"]
        == ("I can reproduce the login bug here")
    )
    body = (
        client.get("/api/issues/search", ws=ws.workspace, q="login bug", include_closed="true")
        .want(200)
        .json()
    )
    assert body["total"] == 6
    # A cancelled issue sorts last unless it is a direct hit (its exact title): then it keeps
    # its tier and only yields to an open issue of the same tier.
    expected = [exact, cancelled, prefix, closed, desc, commented]
    assert ids(body) == [str(i.id) for i in expected]
    Issue.objects.filter(pk=cancelled.pk).update(title="the login bug, abandoned")
    body = (
        client.get("/api/issues/search", ws=ws.workspace, q="login bug", include_closed="true")
        .want(200)
        .json()
    )
    assert ids(body)[-1] == str(cancelled.id)


def test_search_number_words_and_paging(client, ws, ctx, make_issue):
    a = make_issue(ctx, "alpha beta gamma")
    b = make_issue(ctx, "gamma something alpha")
    out = client.get("/api/issues/search", ws=ws.workspace, q=f"ACME-{a.number}").want(200).json()
    assert ids(out)[0] == str(a.id)
    out = client.get("/api/issues/search", ws=ws.workspace, q="alpha gamma").want(200).json()
    assert set(ids(out)) == {str(a.id), str(b.id)}
    out = client.get("/api/issues/search", ws=ws.workspace, q="alpha", limit="1", offset="1")
    body = out.want(200).json()
    assert len(body["issues"]) == 1
    assert body["total"] == 2
    err = client.get("/api/issues/search", ws=ws.workspace).want(400).json()
    assert err["error"] == "q parameter is required"
    out = client.get("/api/issues/search", ws=ws.workspace, q="100%_x").want(200).json()
    assert out["total"] == 0


# --- grouped ----------------------------------------------------------------------------------


def test_grouped_by_assignee(client, ws, ctx, make_issue):
    for _ in range(3):
        make_issue(ctx, assignee_type="member", assignee_id=str(ws.member.id))
    admin_issue = make_issue(ctx, assignee_type="member", assignee_id=str(ws.admin.id))
    make_issue(ctx)
    body = client.get("/api/issues/grouped", ws=ws.workspace, limit="2").want(200).json()
    groups = {g["id"]: g for g in body["groups"]}
    member_group = groups[f"assignee:member:{ws.member.id}"]
    assert member_group["total"] == 3
    assert len(member_group["issues"]) == 2
    assert (member_group["assignee_type"], member_group["assignee_id"]) == (
        "member",
        str(ws.member.id),
    )
    assert groups[f"assignee:member:{ws.admin.id}"]["issues"][0]["id"] == str(admin_issue.id)
    assert body["groups"][-1]["id"] == "assignee:unassigned"
    assert body["groups"][-1]["assignee_type"] is None
    assert body["groups"][-1]["issues"][0]["labels"] == []
    page2 = (
        client.get(
            "/api/issues/grouped",
            ws=ws.workspace,
            limit="2",
            offset="2",
            group_assignee_type="member",
            group_assignee_id=str(ws.member.id),
        )
        .want(200)
        .json()
    )
    assert [len(g["issues"]) for g in page2["groups"]] == [1]
    none = client.get("/api/issues/grouped", ws=ws.workspace, group_assignee_type="none")
    assert [g["id"] for g in none.want(200).json()["groups"]] == ["assignee:unassigned"]
    errors = [
        ({"group_by": "status"}, "unsupported group_by"),
        ({"group_assignee_type": "robot"}, "invalid group_assignee_type"),
        ({"group_assignee_type": "member"}, "invalid group_assignee_id"),
    ]
    for params, message in errors:
        out = client.get("/api/issues/grouped", ws=ws.workspace, **params).want(400).json()
        assert out["error"] == message
