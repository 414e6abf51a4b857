"""``multica skill …``, ``agent skills …`` and ``multica runtime …`` against the live server."""

from __future__ import annotations

import io
import json
import zipfile

import httpx
import pytest

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

SKILL_MD = "---\nname: {name}\ndescription: {description}\n---\n# {name}\n\nDo the thing.\n"


def test_skill_crud_and_files(owner_cli):
    cli = owner_cli
    created = cli.run(
        "skill", "create", "--name", "deploy", "--description", "ship it", "--content-stdin",
        input="# Deploy\n\nSteps.\n",
    ).ok().json()  # fmt: skip
    skill_id = created["id"]
    assert created["content"] == "# Deploy\n\nSteps.\n"
    assert "deploy" in cli.run("skill", "list").ok().stdout
    assert [s["id"] for s in cli.run("skill", "list", "--output", "json").ok().json()] == [skill_id]
    got = cli.run("skill", "get", skill_id[:8]).ok().json()
    assert got["name"] == "deploy"

    updated = cli.run("skill", "update", skill_id, "--description", "ship it safely").ok().json()
    assert updated["description"] == "ship it safely"
    cli.run("skill", "update", skill_id).fails(5)

    saved = cli.run("skill", "files", "upsert", skill_id, "--path", "scripts/run.sh",
                    "--content", "echo hi\\n").ok().json()  # fmt: skip
    assert saved["path"] == "scripts/run.sh"
    files = cli.run("skill", "files", "list", skill_id, "--output", "json").ok().json()
    assert [f["path"] for f in files] == ["scripts/run.sh"]
    cli.run("skill", "files", "delete", skill_id, files[0]["id"]).ok()
    assert cli.run("skill", "files", "list", skill_id, "--output", "json").ok().json() == []

    # delete asks first; without a yes nothing happens
    cli.run("skill", "delete", skill_id, input="n\n").fails(1)
    assert cli.run("skill", "get", skill_id).ok()
    cli.run("skill", "delete", skill_id, "--yes").ok()
    cli.run("skill", "get", skill_id).fails(4)


def test_skill_import_from_a_directory_and_an_archive(owner_cli):
    cli = owner_cli
    folder = cli.home / "review-skill"
    (folder / "refs").mkdir(parents=True)
    (folder / "SKILL.md").write_text(SKILL_MD.format(name="review", description="review code"))
    (folder / "refs" / "checklist.md").write_text("- tests\n")
    imported = cli.run("skill", "import", "--file", str(folder)).ok().json()
    skill = imported.get("skill", imported)
    assert skill["name"] == "review"
    listed = cli.run("skill", "list", "--output", "json").ok().json()
    assert [s["name"] for s in listed] == ["review"]
    got = cli.run("skill", "get", skill["id"]).ok().json()
    assert [f["path"] for f in got["files"]] == ["refs/checklist.md"]

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        zf.writestr("SKILL.md", SKILL_MD.format(name="review", description="second copy"))
    archive = cli.home / "review.skill"
    archive.write_bytes(buffer.getvalue())
    cli.run("skill", "import", "--file", str(archive)).fails(1)  # 409: the name exists
    cli.run("skill", "import", "--file", str(archive), "--on-conflict", "rename").ok()
    names = sorted(s["name"] for s in cli.run("skill", "list", "--output", "json").ok().json())
    assert len(names) == 2
    assert names[0] == "review"

    bad = cli.home / "bad.zip"
    bad.write_bytes(b"not a zip")
    cli.run("skill", "import", "--file", str(bad)).fails(5)
    cli.run("skill", "import", "--url", "https://example.com/skill").fails(5)


def test_agent_skill_bindings(owner_cli, seed):
    cli = owner_cli
    agent_id = cli.run("agent", "create", "--name", "Skilled", "--runtime-id",
                       seed.runtime_id).ok().json()["id"]  # fmt: skip
    a = cli.run("skill", "create", "--name", "alpha").ok().json()["id"]
    b = cli.run("skill", "create", "--name", "beta").ok().json()["id"]
    cli.run("agent", "skills", "add", agent_id, "--skill-ids", a).ok()
    cli.run("agent", "skills", "add", agent_id, "--skill-ids", b).ok()
    bound = cli.run("agent", "skills", "list", agent_id, "--output", "json").ok().json()
    assert sorted(s["id"] for s in bound) == sorted([a, b])
    assert "alpha" in cli.run("agent", "skills", "list", agent_id).ok().stdout
    cli.run("agent", "skills", "set", agent_id, "--skill-ids", b).ok()
    bound = cli.run("agent", "skills", "list", agent_id, "--output", "json").ok().json()
    assert [s["id"] for s in bound] == [b]
    cli.run("agent", "skills", "set", agent_id, "--skill-ids", "").ok()
    assert cli.run("agent", "skills", "list", agent_id, "--output", "json").ok().json() == []


def test_runtimes(owner_cli, member_cli, seed):
    cli = owner_cli
    table = cli.run("runtime", "list").ok().stdout.splitlines()
    assert table[0].split()[:3] == ["ID", "NAME", "MODE"]
    assert seed.runtime_id in table[1]
    listed = cli.run("runtime", "list", "--output", "json").ok().json()
    assert [r["id"] for r in listed] == [seed.runtime_id]
    assert member_cli.run("runtime", "list", "--mine", "--output", "json").ok().json() == []

    renamed = cli.run("runtime", "update", seed.runtime_id[:8], "--name", "Build box").ok().json()
    assert renamed["custom_name"] == "Build box"
    cli.run("runtime", "rename", seed.runtime_id, "Box 2").ok()
    cli.run("runtime", "update", seed.runtime_id).fails(5)
    member_cli.run("runtime", "update", seed.runtime_id, "--visibility", "public").fails(3)

    agent_id = cli.run("agent", "create", "--name", "Bound", "--runtime-id",
                       seed.runtime_id).ok().json()["id"]  # fmt: skip
    busy = cli.run("runtime", "delete", seed.runtime_id).fails(1)  # 409: an active agent
    assert "active agents" in busy.stderr
    cli.run("agent", "archive", agent_id).ok()
    cli.run("runtime", "delete", seed.runtime_id).ok()
    assert cli.run("runtime", "list", "--output", "json").ok().json() == []
    cli.run("runtime", "delete", seed.runtime_id).fails(4)


def test_runtime_usage(owner_cli, seed):
    usage = owner_cli.run("runtime", "usage", seed.runtime_id, "--days", "7", "--output", "json")
    assert usage.ok().json() == []
    table = owner_cli.run("runtime", "usage", seed.runtime_id).ok().stdout
    assert table.split()[:3] == ["DATE", "PROVIDER", "MODEL"]
    owner_cli.run("runtime", "usage", seed.runtime_id, "--days", "0").fails(5)

    # A task on the runtime reports usage as the daemon would; the CLI shows it per day.
    from agents.models import Agent, AgentTask

    agent_id = owner_cli.run("agent", "create", "--name", "Counter", "--runtime-id",
                             seed.runtime_id).ok().json()["id"]  # fmt: skip
    agent = Agent.objects.defer("custom_env").get(id=agent_id)
    task = AgentTask.objects.create(
        workspace_id=agent.workspace_id, agent=agent, runtime_id=agent.runtime_id,
        status=AgentTask.Status.COMPLETED,
    )  # fmt: skip
    reported = httpx.post(
        f"{owner_cli.server_url}/api/daemon/tasks/{task.id}/usage",
        json={"usage": [{"provider": "claude", "model": "m-1", "input_tokens": 1200,
                         "output_tokens": 34}]},
        headers={"Authorization": f"Bearer {seed.owner_token}"},
    )  # fmt: skip
    assert reported.status_code == 200, reported.text
    # Reads come from the hourly rollup: run the periodic job past the report.
    from datetime import timedelta

    from django.utils import timezone

    from usage.services.rollup import rollup_tick

    rollup_tick(now=timezone.now() + timedelta(hours=1))
    rows = owner_cli.run("runtime", "usage", seed.runtime_id, "--output", "json").ok().json()
    assert [(r["model"], r["input_tokens"], r["output_tokens"]) for r in rows] == [
        ("m-1", 1200, 34)
    ]
    assert "1200" in owner_cli.run("runtime", "usage", seed.runtime_id).ok().stdout
    owner_cli.run("runtime", "usage", "00000000-0000-0000-0000-000000000000").fails(4)


def test_output_json_vs_table(owner_cli):
    owner_cli.run("issue", "create", "--title", "Shape check").ok()
    table = owner_cli.run("issue", "list").ok().stdout
    with pytest.raises(json.JSONDecodeError):
        json.loads(table)
    as_json = owner_cli.run("issue", "list", "--output", "json").ok().stdout
    assert as_json.startswith('{\n  "issues": [')  # pretty-printed, 2-space indent
    # the flag may come first, too
    assert owner_cli.run("--output", "json", "issue", "list").ok().json()["total"] == 1
