"""Victim objects for the task routes (see test_cross_workspace): a queued task with a message,
on a runtime and agent of the victim workspace, made directly with the models."""

from __future__ import annotations

from agents.models import Agent, AgentTask, TaskMessage
from issues.models import Issue
from runtimes.models import AgentRuntime


def victims(victim) -> dict:
    ws = victim.workspace
    runtime = AgentRuntime.objects.create(
        workspace=ws,
        name="victim-tasks-runtime",
        provider="claude",
        daemon_id="victim-tasks-daemon",
        owner=victim.owner,
        status="online",
    )
    agent = Agent.objects.create(
        workspace=ws, name="Victim task agent", runtime=runtime, owner=victim.owner
    )
    issue = Issue.objects.filter(workspace=ws).order_by("created_at").first()
    task = AgentTask.objects.create(workspace=ws, agent=agent, issue=issue, runtime=runtime)
    TaskMessage.objects.create(workspace=ws, task=task, seq=1, type="text", content="secret")
    return {"task_id": task.id}
