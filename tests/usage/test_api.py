"""Usage endpoints (server contract §6.2, §6.3 dashboard, §3.3 issue usage): shapes, windows in
the viewer's time zone, tenancy, the rollup/raw switch, private agents folded away."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from agents.models import Agent
from issues.models import Project
from issues.wire import issue_prefix
from tests.usage.helpers import add_usage, catch_up
from usage import selectors

pytestmark = pytest.mark.django_db

T_KEYS = [
    "input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens", "cost_usd_ticks",
    "uncosted_input_tokens", "uncosted_output_tokens", "uncosted_cache_read_tokens",
    "uncosted_cache_write_tokens",
]  # fmt: skip


def _midnight_utc_days_ago(days: int) -> datetime:
    today = timezone.now().replace(hour=0, minute=0, second=0, microsecond=0)
    return today - timedelta(days=days)


@pytest.fixture
def data(ws, run, make_agent, runtime, issue):
    """Two agents on one runtime; a row late on the UTC day two days ago (next day in Tokyo),
    one 40 days ago, one priced by the provider."""
    a1, a2 = run().agent, make_agent()
    t1, t2 = run(), run(a2, i=None)
    late = _midnight_utc_days_ago(2) + timedelta(hours=23, minutes=30)
    add_usage(t1, late, input_tokens=100, output_tokens=10)
    add_usage(t2, late, input_tokens=50, model="claude-opus", cost_usd_ticks=1234)
    add_usage(t1, _midnight_utc_days_ago(40) + timedelta(hours=3), model="old", input_tokens=9)
    catch_up(timezone.now() + timedelta(hours=1))
    return {
        "runtime": runtime,
        "a1": a1,
        "a2": a2,
        "t1": t1,
        "t2": t2,
        "late": late,
        "issue": issue,
    }


def get(api, user, ws, path, **params):
    return api.as_user(user).get(path, ws=ws.workspace, **params)


def test_runtime_usage_daily(api, ws, data):
    path = f"/api/runtimes/{data['runtime'].id}/usage"
    rows = get(api, ws.member, ws, path, tz="UTC").want(200).json()
    assert [(r["date"], r["model"]) for r in rows] == [
        (data["late"].date().isoformat(), "claude-opus"),
        (data["late"].date().isoformat(), "claude-sonnet"),
        ((_midnight_utc_days_ago(40)).date().isoformat(), "old"),
    ]
    opus = rows[0]
    assert list(opus) == ["runtime_id", "date", "provider", "model", *T_KEYS]
    assert opus["runtime_id"] == str(data["runtime"].id)
    assert (opus["cost_usd_ticks"], opus["uncosted_input_tokens"], opus["input_tokens"]) == (
        1234, 0, 50,
    )  # fmt: skip
    assert rows[1]["uncosted_input_tokens"] == rows[1]["input_tokens"] == 100
    # The viewer's zone moves the late row to the next calendar day.
    tokyo = get(api, ws.member, ws, path, tz="Asia/Tokyo").want(200).json()
    next_day = (data["late"] + timedelta(days=1)).date().isoformat()
    assert {r["date"] for r in tokyo if r["model"] != "old"} == {next_day}
    # days=7 leaves the 40-day-old row out; nonsense days fall back to the default (90).
    assert {r["model"] for r in get(api, ws.member, ws, path, days=7).json()} == {
        "claude-opus", "claude-sonnet",
    }  # fmt: skip
    assert len(get(api, ws.member, ws, path, days="0").json()) == 3
    assert len(get(api, ws.member, ws, path, days="400", tz="Not/AZone").json()) == 3


def test_the_user_timezone_is_the_default(api, ws, data):
    ws.member.timezone = "Asia/Tokyo"
    ws.member.save()
    rows = get(api, ws.member, ws, f"/api/runtimes/{data['runtime'].id}/usage").json()
    assert (data["late"] + timedelta(days=1)).date().isoformat() in {r["date"] for r in rows}


def test_runtime_usage_reads_the_rollup_or_the_raw_rows(api, ws, data, run, settings):
    path = f"/api/runtimes/{data['runtime'].id}/usage"
    add_usage(run(i=None), timezone.now() - timedelta(minutes=1), model="fresh")  # not rolled up
    assert "fresh" not in {r["model"] for r in get(api, ws.member, ws, path).json()}
    settings.USAGE_ROLLUP_READS = False
    raw = get(api, ws.member, ws, path).json()
    assert "fresh" in {r["model"] for r in raw}
    catch_up(timezone.now() + timedelta(hours=1))
    settings.USAGE_ROLLUP_READS = True
    assert get(api, ws.member, ws, path).json() == raw


def test_runtime_usage_by_agent_and_by_hour(api, ws, data):
    base = f"/api/runtimes/{data['runtime'].id}/usage"
    by_agent = get(api, ws.member, ws, f"{base}/by-agent", tz="UTC").want(200).json()
    assert [(r["agent_id"], r["model"]) for r in by_agent] == sorted(
        [(str(data["a1"].id), "claude-sonnet"), (str(data["a2"].id), "claude-opus")]
    )
    assert list(by_agent[0]) == ["agent_id", "provider", "model", *T_KEYS, "task_count"]
    assert {r["task_count"] for r in by_agent} == {1}
    by_hour = get(api, ws.member, ws, f"{base}/by-hour", tz="Asia/Tokyo").want(200).json()
    assert [(r["hour"], r["model"]) for r in by_hour] == [(8, "claude-opus"), (8, "claude-sonnet")]
    assert list(by_hour[0]) == ["hour", "model", *T_KEYS, "task_count"]
    by_hour_90 = get(api, ws.member, ws, f"{base}/by-hour", tz="UTC", days=90).json()
    assert {(r["hour"], r["model"]) for r in by_hour_90} == {
        (23, "claude-opus"), (23, "claude-sonnet"), (3, "old"),
    }  # fmt: skip


def test_issue_usage(api, ws, data):
    issue = data["issue"]
    body = get(api, ws.member, ws, f"/api/issues/{issue.id}/usage").want(200).json()
    assert body == {
        "total_input_tokens": 109, "total_output_tokens": 20, "total_cache_read_tokens": 10,
        "total_cache_write_tokens": 2, "cost_usd_ticks": 0, "uncosted_input_tokens": 109,
        "uncosted_output_tokens": 20, "uncosted_cache_read_tokens": 10,
        "uncosted_cache_write_tokens": 2, "task_count": 1,
    }  # fmt: skip
    ref = f"{issue_prefix(ws.workspace)}-{issue.number}"
    assert get(api, ws.member, ws, f"/api/issues/{ref}/usage").want(200).json() == body


def test_dashboard_usage_daily_and_project_filter(api, ws, data):
    rows = get(api, ws.member, ws, "/api/dashboard/usage/daily", tz="UTC").want(200).json()
    assert [(r["model"], r["task_count"]) for r in rows] == [
        ("claude-opus", 1),
        ("claude-sonnet", 1),
    ]  # fmt: skip  (the 40-day-old row is outside the default 30 days)
    assert list(rows[0]) == ["date", "provider", "model", *T_KEYS, "task_count"]
    project = Project.objects.create(workspace=ws.workspace, title="Apollo")
    data["issue"].project = project
    data["issue"].save()
    catch_up(timezone.now() + timedelta(hours=1))
    scoped = get(api, ws.member, ws, "/api/dashboard/usage/daily", project_id=str(project.id))
    assert [r["model"] for r in scoped.want(200).json()] == ["claude-sonnet"]
    bad = get(api, ws.member, ws, "/api/dashboard/usage/daily", project_id="nope").want(400)
    assert bad.json()["error"] == "invalid project_id"


def test_dashboard_by_agent_folds_agents_the_caller_cannot_see(api, ws, data):
    Agent.objects.filter(pk=data["a2"].pk).update(permission_mode="private", owner=ws.admin)
    Agent.objects.filter(pk=data["a1"].pk).update(permission_mode="private", owner=ws.member)
    path = "/api/dashboard/usage/by-agent"
    as_admin = get(api, ws.admin, ws, path).want(200).json()
    assert {r["agent_id"] for r in as_admin} == {str(data["a1"].id), str(data["a2"].id)}
    as_member = get(api, ws.member, ws, path).want(200).json()
    assert {r["agent_id"] for r in as_member} == {str(data["a1"].id), "__restricted_agents__"}
    assert sum(r["input_tokens"] for r in as_member) == sum(r["input_tokens"] for r in as_admin)


def test_foreign_runtime_and_issue_are_404(api, ws, other_ws, data):
    for path in (
        f"/api/runtimes/{data['runtime'].id}/usage",
        f"/api/runtimes/{data['runtime'].id}/usage/by-agent",
        f"/api/runtimes/{data['runtime'].id}/usage/by-hour",
    ):
        resp = api.as_user(other_ws.owner).get(path, ws=other_ws.workspace).want(404)
        assert resp.json()["error"] == "runtime not found"
    api.as_user(other_ws.owner).get(
        f"/api/issues/{data['issue'].id}/usage", ws=other_ws.workspace
    ).want(404)
    # The dashboard of the other workspace shows none of this workspace's usage.
    assert (
        api.as_user(other_ws.owner)
        .get("/api/dashboard/usage/daily", ws=other_ws.workspace)
        .want(200)
        .json()
        == []
    )


def test_rollup_status_for_admins(api, ws, data):
    get(api, ws.member, ws, "/api/usage/rollup").want(403)
    body = get(api, ws.admin, ws, "/api/usage/rollup").want(200).json()
    assert set(body) == {
        "watermark_at", "lag_seconds", "last_run_started_at", "last_run_finished_at",
        "last_run_rows", "last_run_failed", "queued_buckets", "rollup_reads",
    }  # fmt: skip
    assert body["lag_seconds"] <= 600
    assert body["rollup_reads"] is True
    assert body["last_run_failed"] is False


def test_window_is_local_midnight():
    now = datetime(2026, 3, 10, 1, 0, tzinfo=selectors.UTC_ZONE)
    tokyo = selectors.resolve_tz("Asia/Tokyo")
    since = selectors.since_from_days(now, 2, tokyo)
    assert since.astimezone(tokyo).isoformat() == "2026-03-08T00:00:00+09:00"
    exact = selectors.window({"days": "1", "tz": "UTC"}, default_days=30, exact=True, now=now)
    assert exact.since == datetime(2026, 3, 10, tzinfo=selectors.UTC_ZONE)


def test_zones_unknown_to_python_or_postgres_fall_back_to_utc(db):
    assert selectors.resolve_tz("Europe/Paris").key == "Europe/Paris"
    for name in ("Not/AZone", "../../etc/passwd", "", "   "):
        assert selectors.resolve_tz(name) is selectors.UTC_ZONE
