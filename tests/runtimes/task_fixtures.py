"""Fixtures of the task-lease tests: runtimes, agents, issues and tasks built with the models,
the task-token wiring, and a daemon API helper. Import the fixtures you use by name."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

import pytest
from django.utils import timezone

from agents.models import Agent, AgentTask
from issues.services import issues as issue_services
from runtimes import auth_tasks
from runtimes.models import AgentRuntime
from runtimes.services.claims import Caller
from workspaces import authentication, context
from workspaces.context import Actor, WorkspaceContext
from workspaces.models import Member

_n = itertools.count(1)


@pytest.fixture
def task_auth(monkeypatch):
    """The ``mat_`` resolver and the agent actor resolver, as ``RuntimesConfig.ready`` wires
    them (restored afterwards)."""
    monkeypatch.setattr(authentication, "TOKEN_RESOLVERS", dict(authentication.TOKEN_RESOLVERS))
    monkeypatch.setattr(context, "ACTOR_RESOLVERS", list(context.ACTOR_RESOLVERS))
    auth_tasks.register()
    return auth_tasks


@pytest.fixture
def make_runtime(ws) -> Callable[..., AgentRuntime]:
    def make(workspace=None, owner=None, **kw: Any) -> AgentRuntime:
        n = next(_n)
        kw.setdefault("status", AgentRuntime.Status.ONLINE)
        kw.setdefault("last_seen_at", timezone.now())
        return AgentRuntime.objects.create(
            workspace=workspace or ws.workspace,
            owner=owner or ws.owner,
            daemon_id=kw.pop("daemon_id", f"daemon-{n}"),
            name=f"claude ({n})",
            provider="claude",
            **kw,
        )

    return make


@pytest.fixture
def runtime(make_runtime) -> AgentRuntime:
    return make_runtime()


@pytest.fixture
def make_agent(ws, runtime) -> Callable[..., Agent]:
    def make(workspace=None, rt=None, **kw: Any) -> Agent:
        kw.setdefault("status", Agent.Status.IDLE)
        return Agent.objects.create(
            workspace=workspace or ws.workspace,
            runtime=rt or runtime,
            name=kw.pop("name", f"agent-{next(_n)}"),
            owner=kw.pop("owner", ws.owner),
            **kw,
        )

    return make


@pytest.fixture
def agent(make_agent) -> Agent:
    return make_agent()


def owner_ctx(workspace, user) -> WorkspaceContext:
    member = Member.objects.get(workspace=workspace, user=user)
    return WorkspaceContext(
        workspace=workspace, user=user, member=member, actor=Actor("member", str(user.id))
    )


@pytest.fixture
def make_issue(ws):
    def make(workspace=None, user=None, **kw: Any):
        ctx = owner_ctx(workspace or ws.workspace, user or ws.owner)
        kw.setdefault("allow_duplicate", True)
        return issue_services.issue_create(
            ctx=ctx, title=kw.pop("title", f"Issue {next(_n)}"), **kw
        ).issue

    return make


@pytest.fixture
def issue(make_issue):
    return make_issue()


@pytest.fixture
def make_task(ws, agent, issue) -> Callable[..., AgentTask]:
    def make(a: Agent | None = None, i: Any = "default", **kw: Any) -> AgentTask:
        a = a or agent
        return AgentTask.objects.create(
            workspace_id=a.workspace_id,
            agent=a,
            issue=issue if i == "default" else i,
            runtime_id=kw.pop("runtime_id", a.runtime_id),
            status=kw.pop("status", AgentTask.Status.QUEUED),
            **kw,
        )

    return make


@pytest.fixture
def task(make_task) -> AgentTask:
    return make_task()


def caller_for(user) -> Caller:
    return Caller(user=user, credential=None)


def claim_url() -> str:
    return "/api/daemon/tasks/claim"


def task_url(task_id: Any, action: str) -> str:
    return f"/api/daemon/tasks/{task_id}/{action}"
