# ruff: noqa: F401, F811
"""Claims and reports with ``mdt_`` daemon tokens: bound to one workspace and one daemon id."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections
from django.utils import timezone

from agents.models import Agent, AgentTask
from runtimes.models import DaemonToken
from runtimes.services import claims
from tests.runtimes.task_fixtures import (
    agent,
    caller_for,
    claim_url,
    issue,
    make_agent,
    make_issue,
    make_runtime,
    make_task,
    runtime,
    task,
    task_url,
)
from workspaces import tokens

pytestmark = pytest.mark.django_db


def _daemon_token(workspace, user, daemon_id):
    raw = tokens.mint_token("mdt_")
    DaemonToken.objects.create(
        workspace=workspace,
        daemon_id=daemon_id,
        token_hash=tokens.hash_token(raw),
        token_prefix=raw[:12],
        created_by=user,
    )
    return raw


def test_daemon_token_claims_its_runtimes(api, ws, runtime, task):
    raw = _daemon_token(ws.workspace, ws.owner, runtime.daemon_id)
    body = {"daemon_id": runtime.daemon_id, "runtime_ids": [str(runtime.id)], "max_tasks": 4}
    out = api.with_token(raw).post(claim_url(), json=body).want(200).json()
    assert [t["id"] for t in out["tasks"]] == [str(task.id)]
    api.with_token(raw).post(task_url(task.id, "start")).want(200)


def test_daemon_id_mismatch_is_403(api, ws, runtime, task):
    raw = _daemon_token(ws.workspace, ws.owner, runtime.daemon_id)
    body = {"daemon_id": "someone-else", "runtime_ids": [str(runtime.id)], "max_tasks": 4}
    api.with_token(raw).post(claim_url(), json=body).want(403)
    task.refresh_from_db()
    assert task.status == "queued"


def test_runtime_of_another_daemon_is_skipped(
    api, ws, runtime, make_runtime, make_agent, make_task
):
    raw = _daemon_token(ws.workspace, ws.owner, runtime.daemon_id)
    other_rt = make_runtime()
    t = make_task(a=make_agent(rt=other_rt))
    body = {"daemon_id": runtime.daemon_id, "runtime_ids": [str(other_rt.id)], "max_tasks": 4}
    assert api.with_token(raw).post(claim_url(), json=body).want(200).json() == {"tasks": []}
    t.refresh_from_db()
    assert t.status == "queued"


def test_foreign_workspace_daemon_token(api, ws, other_ws, runtime, task):
    """A daemon token of workspace B, even held by A's owner, reaches none of A's tasks."""
    from workspaces.models import Member, Role

    Member.objects.create(workspace=other_ws.workspace, user=ws.owner, role=Role.MEMBER)
    raw = _daemon_token(other_ws.workspace, ws.owner, runtime.daemon_id)
    body = {"daemon_id": runtime.daemon_id, "runtime_ids": [str(runtime.id)], "max_tasks": 4}
    assert api.with_token(raw).post(claim_url(), json=body).want(200).json() == {"tasks": []}
    claims.task_claim(caller=caller_for(ws.owner), runtime_ids=[runtime.id], max_tasks=1)
    api.with_token(raw).post(task_url(task.id, "start")).want(404)
    api.with_token(raw).get(task_url(task.id, "status")).want(404)
    task.refresh_from_db()
    assert task.status == "dispatched"


@pytest.mark.django_db(transaction=True)
def test_capacity_holds_under_concurrent_claims(ws, make_runtime, make_issue):
    runtime = make_runtime()
    a = Agent.objects.create(
        workspace=ws.workspace, runtime=runtime, name="cap", owner=ws.owner, max_concurrent_tasks=3
    )
    issues = [make_issue() for _ in range(12)]
    AgentTask.objects.bulk_create(
        [AgentTask(workspace=ws.workspace, agent=a, issue=i, runtime=runtime) for i in issues]
    )
    barrier = threading.Barrier(12)
    errors = []

    def claimer():
        try:
            barrier.wait()
            for _ in range(3):
                claims.task_claim(
                    caller=caller_for(ws.owner), runtime_ids=[runtime.id], max_tasks=2
                )
        except BaseException as exc:  # noqa: BLE001 - surfaced below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=claimer) for _ in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors
    assert AgentTask.objects.filter(agent=a, status="dispatched").count() == 3


_CAPACITY_GUARD = """
CREATE FUNCTION test_capacity_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF (SELECT count(*) FROM agent_task_queue
      WHERE agent_id = NEW.agent_id
        AND status IN ('dispatched', 'running', 'waiting_local_directory'))
     > (SELECT max_concurrent_tasks FROM agent WHERE id = NEW.agent_id) THEN
    RAISE EXCEPTION 'capacity exceeded for agent %', NEW.agent_id;
  END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER test_capacity_guard AFTER UPDATE ON agent_task_queue
FOR EACH ROW WHEN (NEW.status = 'dispatched') EXECUTE FUNCTION test_capacity_guard();
"""


@pytest.mark.django_db(transaction=True)
def test_capacity_holds_while_runs_finish_and_claims_race(ws, make_runtime, make_issue):
    """Claimers race for one agent while its runs finish, so leases commit all the time. A
    test-only trigger checks, as each lease is written, that the agent's active runs (everyone's
    committed ones, as of that moment, plus the claimer's own) stay within
    ``max_concurrent_tasks``: the capacity count must see the leases of the claimer that held
    the agent lock just before. (Counting in the statement that takes the lock, whose snapshot
    predates it, went over within a few hundred claims.)"""
    cap = 2
    runtime = make_runtime()
    a = Agent.objects.create(
        workspace=ws.workspace,
        runtime=runtime,
        name="churn",
        owner=ws.owner,
        max_concurrent_tasks=cap,
    )
    AgentTask.objects.bulk_create(
        [
            AgentTask(workspace=ws.workspace, agent=a, issue=make_issue(), runtime=runtime)
            for _ in range(200)
        ]
    )
    racers = 6
    barrier = threading.Barrier(racers)
    errors: list[BaseException] = []

    def claimer():
        try:
            barrier.wait()
            for _ in range(60):
                got = claims.task_claim(
                    caller=caller_for(ws.owner), runtime_ids=[runtime.id], max_tasks=cap
                )
                if got:
                    AgentTask.objects.filter(pk__in=[c.task.pk for c in got]).update(
                        status="completed", completed_at=timezone.now()
                    )
        except BaseException as exc:  # noqa: BLE001 - surfaced below
            errors.append(exc)
        finally:
            connections.close_all()

    with connection.cursor() as cursor:
        cursor.execute(_CAPACITY_GUARD)
    try:
        threads = [threading.Thread(target=claimer) for _ in range(racers)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
    finally:
        with connection.cursor() as cursor:
            cursor.execute("DROP TRIGGER test_capacity_guard ON agent_task_queue")
            cursor.execute("DROP FUNCTION test_capacity_guard()")
    assert not errors, errors[0]
    assert AgentTask.objects.filter(agent=a, status="completed").count() > cap
