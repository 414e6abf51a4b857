"""Inside an agent task (MULTICA_TASK_ID / MULTICA_AGENT_ID set) the CLI speaks as the agent with
the task's ``mat_`` token only, never with a human's stored token, and refuses human commands."""

from __future__ import annotations

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def test_agent_writes_with_the_task_token(owner_cli, cli_server, seed):
    from agents.models import Agent, AgentTask
    from runtimes.models import AgentRuntime
    from runtimes.services.claims import task_tokens_mint

    agent_id = owner_cli.run("agent", "create", "--name", "Worker", "--runtime-id",
                             seed.runtime_id).ok().json()["id"]  # fmt: skip
    issue = owner_cli.run("issue", "create", "--title", "Task work").ok().json()
    # custom_env is encrypted with the server process's key: never load it here.
    agent = Agent.objects.defer("custom_env").get(id=agent_id)
    task = AgentTask.objects.create(
        workspace_id=agent.workspace_id, agent=agent, issue_id=issue["id"],
        runtime_id=agent.runtime_id, status=AgentTask.Status.RUNNING, lease_epoch=1,
    )  # fmt: skip
    (token,) = task_tokens_mint([(task, AgentRuntime.objects.get(id=seed.runtime_id), agent)])
    assert token.startswith("mat_")
    env = {
        "MULTICA_TOKEN": token,
        "MULTICA_SERVER_URL": cli_server.url,
        "MULTICA_WORKSPACE_ID": seed.workspace_id,
        "MULTICA_AGENT_ID": agent_id,
        "MULTICA_TASK_ID": str(task.id),
    }
    # The owner's stored config (mul_ token) is in HOME; it must not be used.
    got = owner_cli.run("issue", "get", issue["identifier"], env=env).ok().json()
    assert got["id"] == issue["id"]
    comment = owner_cli.run("issue", "comment", "add", issue["identifier"], "--content", "done",
                            env=env).ok().json()  # fmt: skip
    assert comment["author_type"] == "agent"
    assert comment["author_id"] == agent_id

    status = owner_cli.run("auth", "status", env=env).ok()
    assert "Olivia Owner" in status.stderr
    assert "Token:" not in status.stderr
    owner_cli.run("login", "--token", seed.owner_token, env=env).fails(3)
    owner_cli.run("auth", "logout", env=env).fails(3)
    owner_cli.run("setup", "self-host", "--no-daemon", env=env).fails(3)
    assert owner_cli.config()["token"] == seed.owner_token  # untouched

    # Without a mat_ token there is no fallback to the stored credentials.
    no_token = {k: v for k, v in env.items() if k != "MULTICA_TOKEN"}
    owner_cli.run("issue", "get", issue["identifier"], env=no_token).fails(3)
    human = {**env, "MULTICA_TOKEN": seed.owner_token}
    refused = owner_cli.run("issue", "get", issue["identifier"], env=human).fails(3)
    assert "mat_" in refused.stderr


def test_debug_logs_requests_without_secrets(owner_cli, seed):
    result = owner_cli.run("--debug", "issue", "list", "--output", "json").ok()
    assert "/api/issues" in result.stderr
    assert seed.owner_token not in result.stderr
    assert seed.owner_token not in result.stdout


def test_issue_runs_messages_cancel_and_rerun(owner_cli, seed):
    from agents.models import Agent, AgentTask

    agent_id = owner_cli.run("agent", "create", "--name", "Runner", "--runtime-id",
                             seed.runtime_id).ok().json()["id"]  # fmt: skip
    issue = owner_cli.run("issue", "create", "--title", "Run me").ok().json()
    key = issue["identifier"]
    owner_cli.run("issue", "assign", key, "--to-id", agent_id, "--no-start").ok()
    agent = Agent.objects.defer("custom_env").get(id=agent_id)
    task = AgentTask.objects.create(
        workspace_id=agent.workspace_id, agent=agent, issue_id=issue["id"],
        runtime_id=agent.runtime_id, status=AgentTask.Status.QUEUED,
    )  # fmt: skip
    runs = owner_cli.run("issue", "runs", key, "--output", "json").ok().json()
    assert [r["id"] for r in runs] == [str(task.id)]
    table = owner_cli.run("issue", "runs", key).ok().stdout
    assert "Runner" in table
    assert owner_cli.run("issue", "run-messages", str(task.id)).ok().json() == []
    cancelled = owner_cli.run("issue", "cancel-task", str(task.id), "--output", "json").ok()
    assert cancelled.json()["status"] == "cancelled"
    rerun = owner_cli.run("issue", "rerun", key).ok().json()
    assert rerun["id"] != str(task.id)
    assert rerun["status"] == "queued"
    owner_cli.run("issue", "cancel-task", "00000000-0000-0000-0000-000000000000").fails(4)
