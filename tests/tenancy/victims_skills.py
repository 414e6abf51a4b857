"""Victim objects for the skills, skill-binding and runtime local-skill routes."""

from __future__ import annotations

from agents.models import Agent, AgentSkill
from runtimes.models import AgentRuntime
from skills.models import LocalSkillRequest, Skill, SkillFile


def victims(victim) -> dict:
    ws = victim.workspace
    skill = Skill.objects.create(
        workspace=ws, name="victim-skill", content="secret", created_by=victim.owner
    )
    file = SkillFile.objects.create(skill=skill, path="notes/secret.md", content="secret")
    runtime = AgentRuntime.objects.create(
        workspace=ws,
        daemon_id="victim-daemon-skills",
        name="claude (victim)",
        provider="claude",
        status=AgentRuntime.Status.ONLINE,
        owner=victim.owner,
    )
    agent = Agent.objects.create(
        workspace=ws, name="victim-skills-agent", runtime=runtime, owner=victim.owner
    )
    AgentSkill.objects.create(agent=agent, skill=skill)
    request = LocalSkillRequest.objects.create(
        workspace=ws,
        runtime=runtime,
        kind=LocalSkillRequest.Kind.LIST,
        requested_by=victim.owner,
    )
    return {
        "skill_id": skill.id,
        "file_id": file.id,
        "runtime_id": runtime.id,
        "agent_id": agent.id,
        "request_id": request.id,
    }
