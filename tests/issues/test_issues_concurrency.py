"""Concurrent creates in one workspace never share a number (the counter is bumped under the
workspace row lock inside the creating transaction)."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from issues.models import Issue
from issues.services.issues import issue_create
from tests.issues.issue_fixtures import *  # noqa: F403
from tests.issues.issue_fixtures import context_for

THREADS, PER_THREAD = 10, 5


@pytest.mark.django_db(transaction=True)
def test_concurrent_creates_get_distinct_numbers(ws):
    ctx = context_for(ws.workspace, ws.owner)
    barrier = threading.Barrier(THREADS)
    errors: list[BaseException] = []

    def work(n: int) -> None:
        try:
            barrier.wait()
            for k in range(PER_THREAD):
                issue_create(ctx=ctx, title=f"t{n}-{k}")
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=work, args=(n,)) for n in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    numbers = list(Issue.objects.filter(workspace=ws.workspace).values_list("number", flat=True))
    assert sorted(numbers) == list(range(1, THREADS * PER_THREAD + 1))
    ws.workspace.refresh_from_db()
    assert ws.workspace.issue_counter == THREADS * PER_THREAD
    positions = list(
        Issue.objects.filter(workspace=ws.workspace).values_list("position", flat=True)
    )
    assert len(set(positions)) == len(positions)  # each create saw the others' positions


@pytest.mark.django_db(transaction=True)
def test_concurrent_duplicate_titles_create_one_issue(ws):
    ctx = context_for(ws.workspace, ws.owner)
    barrier = threading.Barrier(6)
    outcomes: list[str] = []

    def work() -> None:
        try:
            barrier.wait()
            issue_create(ctx=ctx, title="Same title")
            outcomes.append("created")
        except Exception as exc:  # noqa: BLE001 - the outcome is what the test counts
            outcomes.append(getattr(exc, "code", repr(exc)))
        finally:
            connection.close()

    threads = [threading.Thread(target=work) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["active_duplicate_issue"] * 5 + ["created"]
    assert Issue.objects.filter(workspace=ws.workspace).count() == 1
