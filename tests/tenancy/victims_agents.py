"""Victim objects for the agent routes (see test_cross_workspace): an agent with env and a task."""

from __future__ import annotations

from agents.models import Agent, AgentTask
from runtimes.models import AgentRuntime


def victims(victim) -> dict:
    ws = victim.workspace
    runtime = AgentRuntime.objects.create(
        workspace=ws, daemon_id="victim-daemon", name="victim rt", provider="claude",
        owner=victim.owner, visibility="public", status="online",
    )  # fmt: skip
    agent = Agent.objects.create(
        workspace=ws, name="victim-agent", runtime=runtime, owner=victim.owner,
        custom_env={"VICTIM_SECRET": "victim-value"}, custom_env_keys=["VICTIM_SECRET"],
    )  # fmt: skip
    AgentTask.objects.create(workspace=ws, agent=agent, runtime=runtime, status="queued")
    return {"agent_id": agent.id, "runtime_id": runtime.id}
