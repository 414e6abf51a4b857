"""Helpers shared by the agent tests: runtimes, contexts, an agent-actor switch."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from runtimes.models import AgentRuntime
from workspaces import context as tenancy
from workspaces.context import Actor, WorkspaceContext
from workspaces.models import Member

_n = itertools.count(1)


def make_runtime(workspace, owner, *, provider="claude", visibility="private", status="online"):
    n = next(_n)
    return AgentRuntime.objects.create(
        workspace=workspace,
        daemon_id=f"daemon-{n}",
        name=f"{provider} ({n})",
        provider=provider,
        owner=owner,
        visibility=visibility,
        status=status,
    )


def ctx_for(workspace, user, *, actor: Actor | None = None) -> WorkspaceContext:
    member = Member.objects.get(workspace=workspace, user=user)
    return WorkspaceContext(
        workspace=workspace,
        user=user,
        member=member,
        actor=actor or Actor("member", str(user.id)),
    )


def create_agent(api, ws, user, runtime, **body: Any) -> dict:
    body.setdefault("name", f"agent-{next(_n)}")
    body["runtime_id"] = str(runtime.id)
    return api.as_user(user).post("/api/agents", json=body, ws=ws.workspace).want(201).json()


AGENT_ACTOR_HEADER = "X-Test-Agent-Actor"


@pytest.fixture
def agent_actor(monkeypatch):
    """Requests carrying ``X-Test-Agent-Actor: <agent id>`` act as that agent (as a task token
    would), whatever the backing member's role."""

    def resolver(workspace, user, credential, headers):
        agent_id = headers.get(AGENT_ACTOR_HEADER)
        return Actor("agent", agent_id) if agent_id else None

    monkeypatch.setattr(tenancy, "ACTOR_RESOLVERS", [resolver, *tenancy.ACTOR_RESOLVERS])
    return {AGENT_ACTOR_HEADER: ""}
