"""``multica agent …`` against the live server, with the custom_env secrecy rules."""

from __future__ import annotations

import json

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

SECRET = "sk-very-secret-value"


def test_agent_lifecycle_and_env(owner_cli, member_cli, seed):
    cli = owner_cli
    created = cli.run(
        "agent", "create", "--name", "Builder", "--runtime-id", seed.runtime_id,
        "--description", "builds things", "--instructions", "Be careful.",
        "--custom-args", '["--verbose"]', "--max-concurrent-tasks", "3",
        "--custom-env-stdin", input=json.dumps({"API_KEY": SECRET, "REGION": "eu"}),
    ).ok()  # fmt: skip
    agent = created.json()
    assert SECRET not in created.stdout + created.stderr
    assert agent["has_custom_env"] is True
    assert agent["custom_env_key_count"] == 2
    assert "custom_env" not in agent
    assert agent["custom_args"] == ["--verbose"]
    assert agent["max_concurrent_tasks"] == 3
    agent_id = agent["id"]

    # get (by id and by prefix) never shows values
    got = cli.run("agent", "get", agent_id[:8]).ok()
    assert got.json()["id"] == agent_id
    assert SECRET not in got.stdout
    table = cli.run("agent", "list").ok().stdout
    assert "Builder" in table
    assert SECRET not in table
    assert cli.run("agent", "list", "--output", "json").ok().json()[0]["id"] == agent_id

    # update
    updated = cli.run("agent", "update", agent_id, "--name", "Builder 2", "--model", "m-1").ok()
    assert updated.json()["name"] == "Builder 2"
    assert updated.json()["model"] == "m-1"
    cli.run("agent", "update", agent_id).fails(5)
    cli.run("agent", "update", agent_id, "--custom-args", "not json").fails(5)

    # env get: values, for the owner only
    env = cli.run("agent", "env", "get", agent_id).ok().json()
    assert env == {"agent_id": agent_id, "custom_env": {"API_KEY": SECRET, "REGION": "eu"}}
    env_table = cli.run("agent", "env", "get", agent_id, "--output", "table").ok().stdout
    assert "API_KEY" in env_table
    member_cli.run("agent", "env", "get", agent_id).fails(3)  # not the owner, not an admin
    member_cli.run("agent", "env", "set", agent_id, "--custom-env", "{}").fails(3)

    # env set from a file; '****' keeps the stored value; absent keys are removed
    env_file = cli.home / "env.json"
    env_file.write_text(json.dumps({"API_KEY": "****", "NEW": "n"}))
    env_file.chmod(0o600)
    done = cli.run("agent", "env", "set", agent_id, "--custom-env-file", str(env_file)).ok()
    assert SECRET not in done.stdout + done.stderr
    assert "2 keys" in done.stderr
    env = cli.run("agent", "env", "get", agent_id).ok().json()["custom_env"]
    assert env == {"API_KEY": SECRET, "NEW": "n"}
    # empty or malformed input never wipes secrets
    cli.run("agent", "env", "set", agent_id, "--custom-env-stdin", input="").fails(5)
    cli.run("agent", "env", "set", agent_id, "--custom-env-stdin", input="[1]").fails(5)
    cli.run("agent", "env", "set", agent_id).fails(5)
    assert cli.run("agent", "env", "get", agent_id).ok().json()["custom_env"] == env
    cli.run("agent", "env", "set", agent_id, "--custom-env", "{}").ok()
    assert cli.run("agent", "get", agent_id).ok().json()["has_custom_env"] is False

    # archive / restore / tasks
    archived = cli.run("agent", "archive", agent_id).ok().json()
    assert archived["archived_at"]
    assert cli.run("agent", "list", "--output", "json").ok().json() == []
    with_archived = cli.run("agent", "list", "--include-archived", "--output", "json").ok()
    assert [a["id"] for a in with_archived.json()] == [agent_id]
    restored = cli.run("agent", "restore", agent_id).ok().json()
    assert restored["archived_at"] is None
    assert cli.run("agent", "tasks", agent_id, "--output", "json").ok().json() == []
    assert cli.run("agent", "tasks", agent_id).ok().stdout.split()[:2] == ["ID", "ISSUE"]

    # not found / validation
    cli.run("agent", "get", "00000000-0000-0000-0000-000000000000").fails(4)
    cli.run("agent", "create", "--name", "x", "--runtime-id", seed.runtime_id,
            "--description", "d" * 300).fails(5)  # fmt: skip


def test_assign_issue_to_agent_by_name(owner_cli, seed):
    agent = owner_cli.run(
        "agent", "create", "--name", "Reviewer", "--runtime-id", seed.runtime_id
    ).ok().json()  # fmt: skip
    key = owner_cli.run("issue", "create", "--title", "Review me").ok().json()["identifier"]
    assigned = owner_cli.run("issue", "assign", key, "--to", "reviewer", "--no-start").ok().json()
    assert assigned["assignee_type"] == "agent"
    assert assigned["assignee_id"] == agent["id"]
    table = owner_cli.run("issue", "list").ok().stdout
    assert "Reviewer" in table
