"""The beat schedule: every entry names a registered task and expires within its interval."""

from __future__ import annotations

from datetime import datetime, timedelta
from itertools import pairwise

import pytest
from celery.schedules import crontab, schedule

from multica_site.celery import app

# A crontab's shortest gap is found by walking its firing minutes over this window; a schedule
# that fires less often than that is held to the window itself (a lower bound of its interval).
_CRONTAB_WINDOW = timedelta(days=32)


def _seconds(value: object) -> float:
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    raise TypeError(f"expected seconds or a timedelta, got {value!r}")


def _crontab_interval(cron: crontab) -> float:
    start = datetime(2025, 1, 1)  # noqa: DTZ001 - calendar arithmetic only
    fires = []
    minute = start
    while minute < start + _CRONTAB_WINDOW:
        if (
            minute.minute in cron.minute
            and minute.hour in cron.hour
            and minute.isoweekday() % 7 in cron.day_of_week
            and minute.day in cron.day_of_month
            and minute.month in cron.month_of_year
        ):
            fires.append(minute)
        minute += timedelta(minutes=1)
    gaps = [(b - a).total_seconds() for a, b in pairwise(fires)]
    return min(gaps) if gaps else _CRONTAB_WINDOW.total_seconds()


def interval_seconds(entry_schedule: object) -> float:
    """The shortest time between two runs of a beat entry's ``schedule``."""
    if isinstance(entry_schedule, crontab):
        return _crontab_interval(entry_schedule)
    if isinstance(entry_schedule, schedule):
        return entry_schedule.run_every.total_seconds()
    return _seconds(entry_schedule)


BEAT = sorted(app.conf.beat_schedule.items())


def test_there_is_a_beat_schedule():
    assert BEAT


@pytest.mark.parametrize(("name", "entry"), BEAT, ids=[name for name, _ in BEAT])
def test_beat_entry_names_a_registered_task(name, entry):
    app.loader.import_default_modules()
    assert entry["task"] in app.tasks, f"{name}: task {entry['task']!r} is not registered"


@pytest.mark.parametrize(("name", "entry"), BEAT, ids=[name for name, _ in BEAT])
def test_beat_entry_expires_within_its_interval(name, entry):
    interval = interval_seconds(entry["schedule"])
    assert interval > 0, name
    expires = (entry.get("options") or {}).get("expires")
    assert expires is not None, f"{name}: options.expires is not set"
    expires = _seconds(expires)
    assert 0 < expires <= interval, f"{name}: expires {expires}s > interval {interval}s"


def test_interval_helper():
    assert interval_seconds(60) == 60
    assert interval_seconds(timedelta(minutes=5)) == 300
    assert interval_seconds(schedule(timedelta(hours=1))) == 3600
    assert interval_seconds(crontab(minute="*/15")) == 900
    assert interval_seconds(crontab(minute=0, hour="3,9")) == 6 * 3600
    assert interval_seconds(crontab(minute=0, hour=4, day_of_week=1)) == 7 * 86400
