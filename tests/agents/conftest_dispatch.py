"""Fixtures for the dispatch and task tests (import with ``from tests.agents.conftest_dispatch
import *``): dispatch wired into the issue/comment services for the test only, runtimes and
agents made directly with the models, member and agent contexts, and a capture of the daemon
wake-ups."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from agents.models import Agent, AgentInvocationTarget, AgentTask
from issues.models import Issue
from issues.services import comments as comment_services
from issues.services import issues as issue_services
from runtimes.models import AgentRuntime
from workspaces import consumers, realtime
from workspaces.context import Actor, WorkspaceContext
from workspaces.models import Member, User, Workspace

_names = itertools.count(1)

__all__ = [
    "agent",
    "agent_context",
    "agent_ctx",
    "context_for",
    "dispatch",
    "make_agent",
    "make_issue",
    "make_runtime",
    "member_ctx",
    "mention",
    "owner_ctx",
    "runtime",
    "tasks_of",
    "wakeups",
]


def context_for(workspace: Workspace, user: User) -> WorkspaceContext:
    member = Member.objects.get(workspace=workspace, user=user)
    return WorkspaceContext(
        workspace=workspace, user=user, member=member, actor=Actor("member", str(user.id))
    )


def agent_context(workspace: Workspace, agent: Agent, user: User) -> WorkspaceContext:
    member = Member.objects.get(workspace=workspace, user=user)
    return WorkspaceContext(
        workspace=workspace, user=user, member=member, actor=Actor("agent", str(agent.id))
    )


@pytest.fixture(autouse=False)
def dispatch() -> Iterator[None]:
    """Dispatch registered (as ``AgentsConfig.ready`` does), restored afterwards."""
    from agents.services.dispatch import register

    saved = (
        list(issue_services.ISSUE_CREATED_HOOKS),
        list(issue_services.ISSUE_UPDATED_HOOKS),
        list(issue_services.ISSUE_DELETED_HOOKS),
        list(comment_services.COMMENT_TRIGGER_HOOKS),
        list(comment_services.COMMENT_DELETING_HOOKS),
        dict(issue_services.ASSIGNEE_VALIDATORS),
        dict(consumers.SCOPE_AUTHORIZERS),
    )
    register()
    yield
    issue_services.ISSUE_CREATED_HOOKS[:] = saved[0]
    issue_services.ISSUE_UPDATED_HOOKS[:] = saved[1]
    issue_services.ISSUE_DELETED_HOOKS[:] = saved[2]
    comment_services.COMMENT_TRIGGER_HOOKS[:] = saved[3]
    comment_services.COMMENT_DELETING_HOOKS[:] = saved[4]
    issue_services.ASSIGNEE_VALIDATORS.clear()
    issue_services.ASSIGNEE_VALIDATORS.update(saved[5])
    consumers.SCOPE_AUTHORIZERS.clear()
    consumers.SCOPE_AUTHORIZERS.update(saved[6])


@pytest.fixture
def wakeups(monkeypatch) -> list[tuple[str, str, dict]]:
    """``daemon:task_available`` frames sent to runtimes (instead of the channel layer)."""
    sent: list[tuple[str, str, dict]] = []
    monkeypatch.setattr(
        realtime, "send_to_runtime", lambda rid, kind, payload: sent.append((rid, kind, payload))
    )
    return sent


@pytest.fixture
def make_runtime(ws) -> Callable[..., AgentRuntime]:
    def make(workspace: Workspace | None = None, **kw: Any) -> AgentRuntime:
        n = next(_names)
        kw.setdefault("status", AgentRuntime.Status.ONLINE)
        kw.setdefault("owner", ws.owner)
        return AgentRuntime.objects.create(
            workspace=workspace or ws.workspace,
            name=f"runtime-{n}",
            provider="claude",
            daemon_id=f"daemon-{n}",
            **kw,
        )

    return make


@pytest.fixture
def runtime(make_runtime) -> AgentRuntime:
    return make_runtime()


@pytest.fixture
def make_agent(ws, runtime) -> Callable[..., Agent]:
    """An agent (private, owned by the workspace owner, on ``runtime`` unless told otherwise).
    ``targets=[("workspace", ws_id) | ("member", user_id)]`` makes it ``public_to``."""

    def make(workspace: Workspace | None = None, targets: list | None = None, **kw: Any) -> Agent:
        kw.setdefault("owner", ws.owner)
        if "runtime" not in kw:
            kw["runtime"] = runtime
        if targets:
            kw.setdefault("permission_mode", Agent.PermissionMode.PUBLIC_TO)
        agent = Agent.objects.create(
            workspace=workspace or ws.workspace,
            name=kw.pop("name", f"Agent {next(_names)}"),
            status=kw.pop("status", Agent.Status.IDLE),
            **kw,
        )
        for target_type, target_id in targets or []:
            AgentInvocationTarget.objects.create(
                agent=agent, target_type=target_type, target_id=target_id
            )
        return agent

    return make


@pytest.fixture
def agent(make_agent) -> Agent:
    return make_agent(name="Builder")


@pytest.fixture
def owner_ctx(ws) -> WorkspaceContext:
    return context_for(ws.workspace, ws.owner)


@pytest.fixture
def member_ctx(ws) -> WorkspaceContext:
    return context_for(ws.workspace, ws.member)


@pytest.fixture
def agent_ctx(ws, agent) -> WorkspaceContext:
    return agent_context(ws.workspace, agent, ws.owner)


@pytest.fixture
def make_issue() -> Callable[..., Issue]:
    def make(ctx: WorkspaceContext, title: str | None = None, **kw: Any) -> Issue:
        kw.setdefault("allow_duplicate", True)
        return issue_services.issue_create(
            ctx=ctx, title=title or f"Issue {next(_names)}", **kw
        ).issue

    return make


def tasks_of(issue: Issue, **filters: Any) -> list[AgentTask]:
    return list(AgentTask.objects.filter(issue=issue, **filters).order_by("created_at"))


def mention(agent: Agent) -> str:
    return f"[@{agent.name}](mention://agent/{agent.id})"
