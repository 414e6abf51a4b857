"""Run time, failures and runtime activity (server contract §6.2 ``…/activity``, §6.3 dashboard):
shapes as Multica's ``handler/dashboard.go`` and ``handler/runtime.go`` send them, local days and
hours in the viewer's zone, the ``days``/``project_id`` filters, validation, tenancy, private agents
folded away, and pinned query counts."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from agents.models import Agent
from issues.models import Project

pytestmark = pytest.mark.django_db

RUN_TIME_KEYS = ["total_seconds", "task_count", "failed_count", "cancelled_count"]
DASHBOARD = (
    "/api/dashboard/agent-runtime",
    "/api/dashboard/runtime/daily",
    "/api/dashboard/failures/daily",
    "/api/dashboard/failures/by-agent",
)


def _midnight_utc_days_ago(days: int) -> datetime:
    today = timezone.now().replace(hour=0, minute=0, second=0, microsecond=0)
    return today - timedelta(days=days)


def _day(at: datetime) -> str:
    return at.date().isoformat()


@pytest.fixture
def data(ws, make_task, make_agent, runtime, issue):
    """Tasks of two agents ending at 23:30 UTC two days ago (08:30 the next day in Tokyo), one
    40 days ago, one still running and one never started. The issue belongs to a project; the
    agents are the member's (visible to the member)."""
    project = Project.objects.create(workspace=ws.workspace, title="Apollo")
    issue.project = project
    issue.save()
    a1, a2 = make_agent(owner=ws.member), make_agent(owner=ws.member)
    late = _midnight_utc_days_ago(2) + timedelta(hours=23, minutes=30)
    old = _midnight_utc_days_ago(40) + timedelta(hours=3)

    def task(agent, status, *, ran=None, ended=None, on_issue=True, **kw):
        return make_task(
            agent,
            i=issue if on_issue else None,
            status=status,
            started_at=ended - timedelta(seconds=ran) if ran is not None else kw.pop("at", None),
            completed_at=ended,
            **kw,
        )

    ok = task(a1, "completed", ran=600, ended=late)  # starts 23:20 UTC
    cancelled = task(a1, "cancelled", ran=120, ended=late)  # starts 23:28
    failed = task(a2, "failed", ran=300, ended=late, on_issue=False, failure_reason="timeout")
    expired = task(a2, "failed", ended=late, on_issue=False)  # never started, no reason
    task(a1, "completed", ran=100, ended=old)  # starts 02:58:20 UTC, 40 days ago
    task(a1, "running", at=late)  # starts 23:30, not finished
    task(a1, "queued", ended=None)  # never started
    return {
        "a1": a1, "a2": a2, "late": late, "old": old, "project": project, "runtime": runtime,
        "ok": ok, "cancelled": cancelled, "failed": failed, "expired": expired,
    }  # fmt: skip


def get(api, user, ws, path, **params):
    return api.as_user(user).get(path, ws=ws.workspace, **params)


# --- runtime activity -------------------------------------------------------------------------


def test_runtime_activity_counts_task_starts_per_local_hour(api, ws, data, make_runtime, make_task):
    other_runtime = make_runtime()
    make_task(data["a1"], runtime_id=other_runtime.id, status="completed", started_at=data["late"])
    path = f"/api/runtimes/{data['runtime'].id}/activity"
    # Every started task of this runtime, whatever its status and age; empty hours left out.
    assert get(api, ws.member, ws, path, tz="UTC").want(200).json() == [
        {"hour": 2, "count": 1},
        {"hour": 23, "count": 4},
    ]
    assert get(api, ws.member, ws, path, tz="Asia/Tokyo").json() == [
        {"hour": 8, "count": 4},
        {"hour": 11, "count": 1},
    ]
    # A half-hour zone: 23:20..23:30 UTC is 04:50..05:00 in Kolkata.
    assert get(api, ws.member, ws, path, tz="Asia/Kolkata").json() == [
        {"hour": 4, "count": 3},
        {"hour": 5, "count": 1},
        {"hour": 8, "count": 1},
    ]
    # No window: days is not a parameter of this route.
    assert (
        get(api, ws.member, ws, path, tz="UTC", days=1).json()
        == get(api, ws.member, ws, path, tz="UTC").json()
    )


def test_runtime_activity_zone_falls_back_to_the_user_then_utc(api, ws, data):
    path = f"/api/runtimes/{data['runtime'].id}/activity"
    utc = [{"hour": 2, "count": 1}, {"hour": 23, "count": 4}]
    assert get(api, ws.member, ws, path).json() == utc
    assert get(api, ws.member, ws, path, tz="Not/AZone").json() == utc
    ws.member.timezone = "Asia/Tokyo"
    ws.member.save()
    tokyo = [{"hour": 8, "count": 4}, {"hour": 11, "count": 1}]
    assert get(api, ws.member, ws, path).json() == tokyo
    assert get(api, ws.member, ws, path, tz="Not/AZone").json() == tokyo
    assert get(api, ws.member, ws, path, tz="UTC").json() == utc


def test_runtime_activity_of_a_foreign_or_unknown_runtime_is_404(api, ws, other_ws, data):
    path = f"/api/runtimes/{data['runtime'].id}/activity"
    resp = api.as_user(other_ws.owner).get(path, ws=other_ws.workspace).want(404)
    assert resp.json()["error"] == "runtime not found"
    # A non-member naming the runtime's workspace is stopped before the runtime is looked up.
    resp = api.as_user(other_ws.owner).get(path, ws=ws.workspace).want(404)
    assert resp.json()["error"] == "workspace not found"
    missing = get(api, ws.member, ws, f"/api/runtimes/{uuid.uuid4()}/activity").want(404)
    assert missing.json()["error"] == "runtime not found"


# --- run time ---------------------------------------------------------------------------------


def test_agent_run_time(api, ws, data):
    rows = get(api, ws.member, ws, "/api/dashboard/agent-runtime", tz="UTC").want(200).json()
    # Terminal runs that started: a1 ran 600 s + 120 s (cancelled), a2 300 s (failed); the
    # failure that never started has no duration. Longest first.
    assert rows == [
        {"agent_id": str(data["a1"].id), "total_seconds": 720, "task_count": 2,
         "failed_count": 0, "cancelled_count": 1},
        {"agent_id": str(data["a2"].id), "total_seconds": 300, "task_count": 1,
         "failed_count": 1, "cancelled_count": 0},
    ]  # fmt: skip
    assert list(rows[0]) == ["agent_id", *RUN_TIME_KEYS]
    # Exactly `days` local days: days=2 starts yesterday (UTC), days=3 the day of the runs.
    assert get(api, ws.member, ws, "/api/dashboard/agent-runtime", tz="UTC", days=2).json() == []
    assert get(api, ws.member, ws, "/api/dashboard/agent-runtime", tz="UTC", days=3).json() == rows
    a1_90 = get(api, ws.member, ws, "/api/dashboard/agent-runtime", tz="UTC", days=90).json()[0]
    assert (a1_90["total_seconds"], a1_90["task_count"]) == (820, 3)


def test_run_time_daily_in_the_viewer_zone(api, ws, data):
    path = "/api/dashboard/runtime/daily"
    rows = get(api, ws.member, ws, path, tz="UTC").want(200).json()
    assert rows == [
        {"date": _day(data["late"]), "total_seconds": 1020, "task_count": 3, "failed_count": 1,
         "cancelled_count": 1},
    ]  # fmt: skip
    assert list(rows[0]) == ["date", *RUN_TIME_KEYS]
    # 23:30 UTC is the next morning in Tokyo and the same evening in New York.
    tokyo = get(api, ws.member, ws, path, tz="Asia/Tokyo").json()
    assert [r["date"] for r in tokyo] == [_day(data["late"] + timedelta(days=1))]
    new_york = get(api, ws.member, ws, path, tz="America/New_York").json()
    assert [r["date"] for r in new_york] == [_day(data["late"])]
    # days + 1 local days (today and N before), date DESC.
    assert get(api, ws.member, ws, path, tz="UTC", days=1).json() == []
    assert get(api, ws.member, ws, path, tz="UTC", days=2).json() == rows
    long = get(api, ws.member, ws, path, tz="UTC", days=90).json()
    assert [(r["date"], r["total_seconds"]) for r in long] == [
        (_day(data["late"]), 1020),
        (_day(data["old"]), 100),
    ]


# --- failures ---------------------------------------------------------------------------------


def test_failures_daily(api, ws, data):
    path = "/api/dashboard/failures/daily"
    rows = get(api, ws.member, ws, path, tz="UTC").want(200).json()
    # Completed and failed tasks (started or not); "" is the succeeded bucket, a failure
    # without a reason is "unclassified"; cancelled runs are neither.
    day = _day(data["late"])
    assert rows == [
        {"date": day, "failure_reason": "", "task_count": 1},
        {"date": day, "failure_reason": "timeout", "task_count": 1},
        {"date": day, "failure_reason": "unclassified", "task_count": 1},
    ]
    tokyo = get(api, ws.member, ws, path, tz="Asia/Tokyo").json()
    assert {r["date"] for r in tokyo} == {_day(data["late"] + timedelta(days=1))}
    assert get(api, ws.member, ws, path, tz="UTC", days=1).json() == []
    long = get(api, ws.member, ws, path, tz="UTC", days=90).json()
    assert [(r["date"], r["failure_reason"]) for r in long][-1] == (_day(data["old"]), "")


def test_failures_by_agent(api, ws, data):
    path = "/api/dashboard/failures/by-agent"
    rows = get(api, ws.member, ws, path, tz="UTC").want(200).json()
    expected = sorted(
        [
            (str(data["a1"].id), "", 1),
            (str(data["a2"].id), "timeout", 1),
            (str(data["a2"].id), "unclassified", 1),
        ]
    )
    assert [(r["agent_id"], r["failure_reason"], r["task_count"]) for r in rows] == expected
    assert list(rows[0]) == ["agent_id", "failure_reason", "task_count"]
    assert get(api, ws.member, ws, path, tz="UTC", days=2).json() == []
    assert get(api, ws.member, ws, path, tz="UTC", days=3).json() == rows


def test_an_empty_reason_is_unclassified(api, ws, data, make_task):
    make_task(data["a2"], i=None, status="failed", failure_reason="", completed_at=data["late"])
    rows = get(api, ws.member, ws, "/api/dashboard/failures/daily", tz="UTC").json()
    assert {r["failure_reason"]: r["task_count"] for r in rows}["unclassified"] == 2


# --- filters and validation -------------------------------------------------------------------


def test_project_filter(api, ws, data):
    project_id = str(data["project"].id)
    run_time = get(api, ws.member, ws, DASHBOARD[0], tz="UTC", project_id=project_id).json()
    assert [(r["agent_id"], r["total_seconds"]) for r in run_time] == [(str(data["a1"].id), 720)]
    daily = get(api, ws.member, ws, DASHBOARD[1], tz="UTC", project_id=project_id).json()
    assert [(r["total_seconds"], r["failed_count"]) for r in daily] == [(720, 0)]
    failures = get(api, ws.member, ws, DASHBOARD[2], tz="UTC", project_id=project_id).json()
    assert [(r["failure_reason"], r["task_count"]) for r in failures] == [("", 1)]
    by_agent = get(api, ws.member, ws, DASHBOARD[3], tz="UTC", project_id=project_id).json()
    assert [(r["agent_id"], r["failure_reason"]) for r in by_agent] == [(str(data["a1"].id), "")]
    for path in DASHBOARD:
        assert get(api, ws.member, ws, path, project_id=str(uuid.uuid4())).want(200).json() == []
        # An empty project_id means no filter.
        assert (
            get(api, ws.member, ws, path, project_id="").json()
            == get(api, ws.member, ws, path).json()
        )


def test_validation_matches_the_usage_dashboard(api, ws, data):
    reference = get(api, ws.member, ws, "/api/dashboard/usage/daily", project_id="nope").want(400)
    assert reference.json()["error"] == "invalid project_id"
    for path in DASHBOARD:
        for bad in ("nope", "123", f"{uuid.uuid4()}x"):
            resp = get(api, ws.member, ws, path, project_id=bad).want(400)
            assert resp.json() == reference.json()
        # days outside 1..365 or not a number falls back to the default (30), and an unknown
        # zone to the user's (here none: UTC), as on every usage route.
        default = get(api, ws.member, ws, path, tz="UTC").json()
        assert default
        for days in ("0", "-3", "366", "abc", "2.5", ""):
            assert get(api, ws.member, ws, path, tz="UTC", days=days).want(200).json() == default
        assert get(api, ws.member, ws, path, tz="Not/AZone").json() == default
        assert get(api, ws.member, ws, path, tz="../../etc/passwd").json() == default


def test_the_user_timezone_is_the_default(api, ws, data):
    ws.member.timezone = "Asia/Tokyo"
    ws.member.save()
    tokyo_day = _day(data["late"] + timedelta(days=1))
    for path in (DASHBOARD[1], DASHBOARD[2]):
        assert {r["date"] for r in get(api, ws.member, ws, path).json()} == {tokyo_day}
        assert {r["date"] for r in get(api, ws.member, ws, path, tz="Nope").json()} == {tokyo_day}
        assert {r["date"] for r in get(api, ws.member, ws, path, tz="UTC").json()} == {
            _day(data["late"])
        }


# --- visibility and tenancy -------------------------------------------------------------------


def test_per_agent_rows_fold_agents_the_caller_cannot_see(api, ws, data):
    Agent.objects.filter(pk=data["a2"].pk).update(permission_mode="private", owner=ws.admin)
    Agent.objects.filter(pk=data["a1"].pk).update(permission_mode="private", owner=ws.member)
    run_time = get(api, ws.member, ws, DASHBOARD[0], tz="UTC").want(200).json()
    assert [(r["agent_id"], r["total_seconds"]) for r in run_time] == [
        (str(data["a1"].id), 720),
        ("__restricted_agents__", 300),
    ]
    as_admin = get(api, ws.admin, ws, DASHBOARD[0], tz="UTC").json()
    assert {r["agent_id"] for r in as_admin} == {str(data["a1"].id), str(data["a2"].id)}
    # Failures keep their reason split in the folded bucket; the totals still add up.
    failures = get(api, ws.member, ws, DASHBOARD[3], tz="UTC").json()
    assert {(r["agent_id"], r["failure_reason"]) for r in failures} == {
        (str(data["a1"].id), ""),
        ("__restricted_agents__", "timeout"),
        ("__restricted_agents__", "unclassified"),
    }
    # Hiding a1 too merges both agents into one bucket.
    Agent.objects.filter(pk=data["a1"].pk).update(owner=ws.owner)
    folded = get(api, ws.member, ws, DASHBOARD[0], tz="UTC").json()
    assert folded == [
        {"agent_id": "__restricted_agents__", "total_seconds": 1020, "task_count": 3,
         "failed_count": 1, "cancelled_count": 1},
    ]  # fmt: skip
    by_reason = get(api, ws.member, ws, DASHBOARD[3], tz="UTC").json()
    assert sorted((r["failure_reason"], r["task_count"]) for r in by_reason) == [
        ("", 1), ("timeout", 1), ("unclassified", 1),
    ]  # fmt: skip


def test_tenancy(api, ws, other_ws, data, make_runtime, make_agent, make_task):
    # A non-member naming this workspace gets 404.
    for path in DASHBOARD:
        resp = api.as_user(other_ws.owner).get(path, ws=ws.workspace).want(404)
        assert resp.json()["error"] == "workspace not found"
    # The other workspace's own dashboards show none of this workspace's tasks...
    for path in DASHBOARD:
        assert api.as_user(other_ws.owner).get(path, ws=other_ws.workspace).want(200).json() == []
    # ...and its tasks never show up here.
    before = {path: get(api, ws.owner, ws, path, tz="UTC").json() for path in DASHBOARD}
    foreign_rt = make_runtime(workspace=other_ws.workspace, owner=other_ws.owner)
    foreign = make_agent(workspace=other_ws.workspace, rt=foreign_rt, owner=other_ws.owner)
    late = data["late"]
    for status in ("completed", "failed", "cancelled"):
        make_task(
            foreign, i=None, status=status, failure_reason="timeout",
            started_at=late - timedelta(minutes=5), completed_at=late,
        )  # fmt: skip
    for path in DASHBOARD:
        assert get(api, ws.owner, ws, path, tz="UTC").json() == before[path]
        assert api.as_user(other_ws.owner).get(path, ws=other_ws.workspace, tz="UTC").json()
    # A foreign project id filters down to nothing rather than reaching the other workspace.
    foreign_project = Project.objects.create(workspace=other_ws.workspace, title="Theirs")
    for path in DASHBOARD:
        assert get(api, ws.owner, ws, path, project_id=str(foreign_project.id)).json() == []


# --- query counts -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "queries"),
    [
        ("/api/dashboard/runtime/daily", 2),  # principal + the aggregate
        ("/api/dashboard/failures/daily", 2),
        ("/api/dashboard/agent-runtime", 4),  # + agents and their invocation targets
        ("/api/dashboard/failures/by-agent", 4),
        ("activity", 3),  # principal + the runtime + the aggregate
    ],
)
def test_query_counts_do_not_grow_with_the_data(
    api, ws, data, make_agent, make_task, django_assert_num_queries, path, queries
):
    if path == "activity":
        path = f"/api/runtimes/{data['runtime'].id}/activity"
    client = api.as_user(ws.member)
    client.get(path, ws=ws.workspace, tz="Asia/Tokyo").want(200)  # warm the connection and zones
    with django_assert_num_queries(queries):
        client.get(path, ws=ws.workspace, tz="Asia/Tokyo").want(200)
    for n in range(5):
        agent = make_agent(permission_mode="private", owner=ws.admin)
        make_task(
            agent, status="failed" if n % 2 else "completed", failure_reason=f"r{n}",
            started_at=data["late"] - timedelta(minutes=n + 1), completed_at=data["late"],
        )  # fmt: skip
    with django_assert_num_queries(queries):
        client.get(path, ws=ws.workspace, tz="Asia/Tokyo").want(200)
