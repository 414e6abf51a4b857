# ruff: noqa: F401, F811
"""50 concurrent claimers over 1,000 queued tasks: every task is claimed exactly once, and no
agent ever holds more than ``max_concurrent_tasks`` leases."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connections
from django.utils import timezone

from agents.models import Agent, AgentTask
from runtimes.models import TaskToken
from runtimes.services import claims
from tests.runtimes.task_fixtures import caller_for, make_issue, make_runtime

CLAIMERS = 50
AGENTS = 50
ISSUES = 20
RUNTIMES = 10


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_fifty_claimers_claim_each_task_once(ws, make_runtime, make_issue):
    runtimes = [make_runtime() for _ in range(RUNTIMES)]
    issues = [make_issue() for _ in range(ISSUES)]
    agents = [
        Agent.objects.create(
            workspace=ws.workspace,
            runtime=runtimes[i % RUNTIMES],
            name=f"load-{i}",
            owner=ws.owner,
            max_concurrent_tasks=ISSUES,
        )
        for i in range(AGENTS)
    ]
    AgentTask.objects.bulk_create(
        [
            AgentTask(
                workspace=ws.workspace, agent=a, issue=i, runtime_id=a.runtime_id, status="queued"
            )
            for a in agents
            for i in issues
        ]
    )
    total = AGENTS * ISSUES
    runtime_ids = [r.id for r in runtimes]
    caller = caller_for(ws.owner)
    results: list[list] = [[] for _ in range(CLAIMERS)]
    errors: list[BaseException] = []
    start = threading.Barrier(CLAIMERS)

    def claimer(n: int) -> None:
        try:
            start.wait()
            idle = 0
            while idle < 3:
                got = claims.task_claim(caller=caller, runtime_ids=runtime_ids, max_tasks=8)
                results[n].extend((c.task.pk, c.task.lease_epoch) for c in got)
                if got:
                    idle = 0
                elif AgentTask.objects.filter(status="queued").exists():
                    time.sleep(0.01)
                else:
                    idle += 1
        except BaseException as exc:  # noqa: BLE001 - surfaced by the main thread
            errors.append(exc)
        finally:
            connections.close_all()

    began = time.monotonic()
    threads = [threading.Thread(target=claimer, args=(n,)) for n in range(CLAIMERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    elapsed = time.monotonic() - began
    assert not errors, errors[0]
    claimed = [pk for r in results for pk, _ in r]
    assert len(claimed) == total
    assert len(set(claimed)) == total
    assert all(epoch == 1 for r in results for _, epoch in r)
    assert AgentTask.objects.filter(status="dispatched").count() == total
    assert TaskToken.objects.count() == total
    assert elapsed < 60
