"""Fixtures of the usage tests: the task-lease fixtures (runtimes, agents, issues, tasks) and a
fixed clock far enough in the past that every test owns its history."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.runtimes.task_fixtures import (  # noqa: F401 - fixtures, used by name
    agent,
    issue,
    make_agent,
    make_issue,
    make_runtime,
    make_task,
    runtime,
    task,
)

NOW = datetime(2026, 3, 10, 12, 30, tzinfo=UTC)


@pytest.fixture
def now() -> datetime:
    return NOW


@pytest.fixture
def run(make_task):  # noqa: F811 - the imported fixture, by name
    """A finished task (usage is reported once a run ends): ``run(agent=None, i=issue, **kw)``."""

    def make(*args, **kw):
        kw.setdefault("status", "completed")
        return make_task(*args, **kw)

    return make
