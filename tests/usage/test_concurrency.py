"""An invalidation that lands while a tick runs is not lost (the seed's round 3).

A writer corrects a usage row — its trigger bumps the queued bucket — and holds its transaction
open; the tick starts meanwhile (its snapshot cannot see the correction) and reaches the drain,
which waits on the writer's row lock. The writer commits. The tick must leave the bumped queue
row alone, so the next tick recomputes the bucket with the correction."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection, connections, transaction

from tests.usage.helpers import add_usage, catch_up, expected_hourly, hourly_rows, hours
from usage.models import TaskUsage, TaskUsageHourly, TaskUsageHourlyDirty
from usage.services.rollup import rollup_tick

pytestmark = pytest.mark.django_db(transaction=True)


def _waiting_on_lock() -> bool:
    with connections["default"].cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
            " AND datname = current_database()"
        )
        return cursor.fetchone()[0] > 0


def _in_thread(target, errors: list) -> threading.Thread:
    def body() -> None:
        try:
            target()
        except BaseException as exc:  # noqa: BLE001 - re-raised by the test
            errors.append(exc)
        finally:
            connection.close()

    thread = threading.Thread(target=body)
    thread.start()
    return thread


def test_invalidation_during_a_tick_survives_the_drain(now, run):
    row = add_usage(run(), now - hours(2), input_tokens=100)
    add_usage(run(i=None), now - hours(2), model="other")
    catch_up(now)
    assert TaskUsageHourly.objects.get(model="claude-sonnet").input_tokens == 100
    # Leave the bucket queued (as if a previous invalidation were pending) so the tick reads it.
    TaskUsage.objects.filter(pk=row.pk).update(input_tokens=100)
    assert TaskUsageHourlyDirty.objects.count() == 1

    corrected, release = threading.Event(), threading.Event()
    errors: list[BaseException] = []
    ticks = []

    def writer() -> None:
        with transaction.atomic():
            TaskUsage.objects.filter(pk=row.pk).update(input_tokens=40)  # bumps the queue row
            corrected.set()
            assert release.wait(30)

    def ticker() -> None:
        ticks.append(rollup_tick(now=now))

    w = _in_thread(writer, errors)
    assert corrected.wait(30)
    t = _in_thread(ticker, errors)
    deadline = time.monotonic() + 30
    while not _waiting_on_lock():  # the tick's drain waits on the writer's queue row
        assert time.monotonic() < deadline, "the tick never reached the drain"
        time.sleep(0.05)
    release.set()
    w.join(30)
    t.join(30)
    assert not errors, errors
    assert ticks[0] is not None
    # The tick recomputed from a snapshot without the correction ...
    assert TaskUsageHourly.objects.get(model="claude-sonnet").input_tokens == 100
    # ... and left the invalidation queued, so the next tick applies it.
    assert TaskUsageHourlyDirty.objects.count() == 1
    catch_up(now)
    assert TaskUsageHourly.objects.get(model="claude-sonnet").input_tokens == 40
    assert hourly_rows() == expected_hourly()
    assert TaskUsageHourlyDirty.objects.count() == 0


def test_a_correction_blocked_behind_a_drain_is_requeued(now, run):
    """The other order: the tick drains first and holds the row; the writer's enqueue waits,
    then inserts a fresh queue row once the tick commits."""
    row = add_usage(run(), now - hours(2), input_tokens=100)
    errors: list[BaseException] = []
    drained, release = threading.Event(), threading.Event()

    def ticker() -> None:
        with transaction.atomic():
            rollup_tick(now=now)
            drained.set()
            assert release.wait(30)

    def writer() -> None:
        TaskUsage.objects.filter(pk=row.pk).update(input_tokens=40)

    t = _in_thread(ticker, errors)
    assert drained.wait(30)
    w = _in_thread(writer, errors)
    deadline = time.monotonic() + 30
    while not _waiting_on_lock():
        assert time.monotonic() < deadline, "the writer never waited"
        time.sleep(0.05)
    release.set()
    t.join(30)
    w.join(30)
    assert not errors, errors
    assert TaskUsageHourlyDirty.objects.count() == 1
    catch_up(now)
    assert TaskUsageHourly.objects.get().input_tokens == 40
