"""The (issue, agent) pending slot under concurrent triggers: the partial unique index holds,
and every comment that raced for it is either the trigger or folded into the winner."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from agents.models import AgentTask
from agents.services.dispatch import Trigger, task_create
from issues.services import comments as comment_services
from tests.agents.conftest_dispatch import *  # noqa: F403
from tests.agents.conftest_dispatch import mention, tasks_of

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("dispatch")]

THREADS = 6


def _race(target, n: int = THREADS) -> list[BaseException]:
    barrier = threading.Barrier(n)
    errors: list[BaseException] = []

    def run(i: int) -> None:
        try:
            barrier.wait()
            target(i)
        except BaseException as exc:  # noqa: BLE001 - reported to the test thread
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return errors


def test_concurrent_mentions_leave_one_pending_task(owner_ctx, agent, make_issue):
    issue = make_issue(owner_ctx)

    def post(i: int) -> None:
        comment_services.comment_create(
            ctx=owner_ctx, issue_ref=issue.id, content=f"{mention(agent)} #{i}"
        )

    assert _race(post) == []
    [task] = tasks_of(issue)
    assert task.status == "queued"
    covered = {task.trigger_comment_id, *task.coalesced_comment_ids}
    assert len(covered) == THREADS


def test_concurrent_inserts_hit_the_unique_index(owner_ctx, agent, make_issue):
    issue = make_issue(owner_ctx)
    created: list[AgentTask | None] = []

    def insert(i: int) -> None:
        created.append(
            task_create(
                ctx=owner_ctx,
                issue=issue,
                agent=agent,
                trigger=Trigger(originator_user_id=None, initiator_user_id=None),
            )
        )

    assert _race(insert) == []
    assert len([t for t in created if t is not None]) == 1
    assert AgentTask.objects.filter(issue=issue, status__in=("queued", "dispatched")).count() == 1
