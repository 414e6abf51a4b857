"""The daemon end to end: a real server, real daemon processes, fake ``claude``/``codex`` CLIs
that speak the providers' stream formats."""

from __future__ import annotations

import json
import signal
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from tests.daemon.conftest import fake_runs

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def wait_for(check, timeout: float = 30, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def runtime_id(workspace, provider: str) -> str:
    from runtimes.models import AgentRuntime

    return str(
        AgentRuntime.objects.filter(workspace=workspace, provider=provider, status="online")
        .values_list("id", flat=True)
        .get()
    )


def tasks_of(issue_id: str) -> list:
    from agents.models import AgentTask

    return list(AgentTask.objects.filter(issue_id=issue_id).order_by("created_at"))


def ended(issue_id: str, status: str = "completed") -> Any:
    found = [t for t in tasks_of(issue_id) if t.status == status]
    return found[-1] if found else None


def comments(issue_id: str) -> list:
    from issues.models import Comment

    return list(Comment.objects.filter(issue_id=issue_id).order_by("created_at"))


def test_claude_task_runs_streams_and_reports(world):
    from agents.models import AgentTask, TaskMessage
    from issues.models import Issue

    d = world.daemon().start()
    health = d.health()
    assert health["agents"] == ["claude", "codex"]
    assert health["workspaces"][0]["id"] == str(world.workspace.id)
    skill = world.board.call("POST", "/api/skills", 201, json={
        "name": "Release Notes", "description": "How we write them",
        "content": "Write short notes.", "files": [{"path": "examples/one.md", "content": "v1"}],
    })  # fmt: skip
    agent = world.board.agent(
        runtime_id(world.workspace, "claude"), "Claudia", instructions="Be brief.",
        skill_ids=[skill["id"]],
        custom_env={"FAKE_MODE": "cli", "FAKE_CUSTOM": "yes", "HOME": "/leak",
                    "FAKE_SECRET": "sk-live-4f9a7c2e",
                    "MULTICA_TOKEN": "mul_not_this_one"},
        mcp_config={"mcpServers": {"docs": {"command": "docs-mcp", "args": ["--stdio"]}}},
    )  # fmt: skip
    issue = world.board.issue("Fix the login page", agent["id"])

    task = wait_for(lambda: ended(issue["id"]), what="task completed")
    # The agent itself used the CLI with its task token: read, commented, moved the issue.
    bodies = [c.content for c in comments(issue["id"])]
    assert "agent read: Fix the login page" in bodies
    assert Issue.objects.get(pk=issue["id"]).status == "in_review"
    # …and the final answer became the result comment (the agent had commented already, but
    # the server posts the output of a completed task).
    assert task.result["output"] == f"Done with {issue['id']}."
    assert task.session_id
    assert task.work_dir.endswith("/workdir")

    messages = list(TaskMessage.objects.filter(task=task).order_by("seq"))
    seqs = [m.seq for m in messages]
    assert seqs == list(range(1, len(seqs) + 1))
    texts = " ".join(m.content or "" for m in messages)
    assert "sk-live-4f9a7c2e" not in texts  # the agent's own secret values are scrubbed
    assert "key=[redacted]" in texts
    kinds = [m.type for m in messages]
    assert kinds[:4] == ["thinking", "text", "tool_use", "tool_result"]
    assert kinds[-1] == "text"
    tool_use = messages[2]
    assert tool_use.tool == "Bash"
    assert tool_use.input["api_key"] == "[redacted]"
    assert messages[3].tool == "Bash"

    (run,) = fake_runs(world.base)
    assert run["task"] == str(task.id)
    assert run["token_prefix"] == "mat_"
    assert run["server"] == world.server.url
    assert run["workspace"] == str(world.workspace.id)
    assert run["custom"] == "yes"
    assert run["blocked_leak"] is False
    assert "--strict-mcp-config" in run["argv"]
    assert run["mcp"] == {"mcpServers": {"docs": {"command": "docs-mcp", "args": ["--stdio"]}}}
    assert "--permission-mode" in run["argv"]
    assert "bypassPermissions" in run["argv"]
    workdir = run["cwd"]
    assert workdir == task.work_dir
    # The skill came as a ref, was resolved through the server and written where Claude reads.
    skill_dir = Path(workdir, ".claude", "skills", "release-notes")
    assert "Write short notes." in (skill_dir / "SKILL.md").read_text()
    assert (skill_dir / "examples" / "one.md").read_text() == "v1"
    assert list((d.home / "multica_workspaces" / ".skill-cache" / "v1").rglob("*.json"))
    brief = Path(workdir, "CLAUDE.md").read_text()
    assert "Be brief." in brief
    assert "BEGIN MULTICA-RUNTIME" in brief

    # Usage per model, from Claude's modelUsage: uncached input apart from cache reads.
    from usage.models import TaskUsage

    (usage,) = TaskUsage.objects.filter(task_id=task.id)
    assert (usage.provider, usage.model) == ("claude", "claude-sonnet-4-5")
    assert (usage.input_tokens, usage.output_tokens) == (15, 60)
    assert (usage.cache_read_tokens, usage.cache_write_tokens) == (2100, 50)

    assert AgentTask.objects.get(pk=task.pk).status == "completed"
    assert d.shutdown() == 0
    from runtimes.models import AgentRuntime

    assert set(AgentRuntime.objects.filter(workspace=world.workspace).values_list(
        "status", flat=True)) == {"offline"}  # fmt: skip


def post_comment(world, issue_id: str, content: str) -> None:
    world.board.call("POST", f"/api/issues/{issue_id}/comments", 201, json={"content": content})


def test_codex_task_and_follow_up_resumes_the_thread(world):
    from agents.models import TaskMessage
    from usage.models import TaskUsage

    world.daemon().start()
    agent = world.board.agent(runtime_id(world.workspace, "codex"), "Cody")
    issue = world.board.issue("Refactor the parser", agent["id"])
    first = wait_for(lambda: ended(issue["id"]), what="first codex task")
    assert first.result["output"] == f"Codex finished {issue['id']}."
    kinds = list(TaskMessage.objects.filter(task=first).order_by("seq").values_list("type", "tool"))
    assert kinds == [("tool_use", "exec_command"), ("tool_result", "exec_command"), ("text", None)]
    (usage,) = TaskUsage.objects.filter(task_id=first.id)
    # Codex counts cached input inside input_tokens: reported uncached, cache reads apart.
    assert (usage.provider, usage.input_tokens, usage.cache_read_tokens) == ("codex", 1000, 200)
    assert usage.output_tokens == 350

    post_comment(world, issue["id"], "One more thing: keep the old API.")
    second = wait_for(
        lambda: [t for t in tasks_of(issue["id"]) if t.status == "completed" and t.pk != first.pk],
        what="follow-up task",
    )[0]
    assert second.result["output"].startswith(f"resumed {first.session_id}.")
    assert second.session_id == first.session_id
    assert second.work_dir == first.work_dir
    runs = [r for r in fake_runs(world.base) if r["provider"] == "codex"]
    assert [r["resume"] for r in runs] == ["", first.session_id]
    assert runs[1]["codex_home"].endswith("/codex-home")
    # The thread's running total includes the first turn; this task is charged only its own.
    (usage,) = TaskUsage.objects.filter(task_id=second.id)
    assert (usage.input_tokens, usage.output_tokens, usage.cache_read_tokens) == (1000, 350, 200)


def test_claude_resume_rejected_starts_a_fresh_session(world):
    from agents.models import TaskMessage

    world.daemon().start()
    agent = world.board.agent(runtime_id(world.workspace, "claude"), "Clara")
    issue = world.board.issue("Write docs", agent["id"])
    first = wait_for(lambda: ended(issue["id"]), what="first task")
    # The provider forgot the conversation: the resume is refused, the daemon retries fresh.
    (world.base / "fake-state" / "sessions" / first.session_id).unlink()
    post_comment(world, issue["id"], "Please continue.")
    second = wait_for(
        lambda: [t for t in tasks_of(issue["id"]) if t.status == "completed" and t.pk != first.pk],
        what="follow-up task",
    )[0]
    runs = [r for r in fake_runs(world.base) if r["task"] == str(second.id)]
    assert [(r["resume"], r.get("rejected", False)) for r in runs] == [
        (first.session_id, True),
        ("", False),
    ]
    assert second.session_id != first.session_id
    rows = TaskMessage.objects.filter(task=second).order_by("seq")
    seqs = list(rows.values_list("seq", flat=True))
    assert seqs == list(range(1, len(seqs) + 1))


def pid_alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_cancel_mid_run_stops_the_agent(world):
    d = world.daemon().start()
    agent = world.board.agent(runtime_id(world.workspace, "claude"), "Slow",
                              custom_env={"FAKE_MODE": "slow"})  # fmt: skip
    issue = world.board.issue("Take your time", agent["id"])
    task = wait_for(lambda: ended(issue["id"], "running"), what="running task")
    wait_for(lambda: fake_runs(world.base), what="agent started")
    pid = fake_runs(world.base)[0]["pid"]
    assert pid_alive(pid)
    world.board.call("POST", f"/api/tasks/{task.id}/cancel")
    wait_for(lambda: not pid_alive(pid), timeout=10, what="agent process stopped")
    wait_for(lambda: d.health()["active_task_count"] == 0, timeout=10, what="slot released")
    assert [t.status for t in tasks_of(issue["id"])] == ["cancelled"]


def test_kill_9_mid_task_then_restart_resolves_the_task(world):
    d = world.daemon()
    d.start()
    agent = world.board.agent(runtime_id(world.workspace, "claude"), "Fragile",
                              custom_env={"FAKE_MODE": "slow_once"})  # fmt: skip
    issue = world.board.issue("Survive a crash", agent["id"])
    task = wait_for(lambda: ended(issue["id"], "running"), what="running task")
    wait_for(lambda: fake_runs(world.base), what="agent started")
    pid = fake_runs(world.base)[0]["pid"]
    d.kill9()
    d.start()
    # The orphan is failed as runtime_recovery (retryable) and its retry runs to completion.
    done = wait_for(lambda: ended(issue["id"]), timeout=40, what="retry completed")
    task.refresh_from_db()
    assert (task.status, task.failure_reason) == ("failed", "runtime_recovery")
    assert done.parent_task_id == task.pk
    assert not pid_alive(pid)
    assert {t.status for t in tasks_of(issue["id"])} == {"failed", "completed"}


def test_result_reaches_a_server_that_was_down(world):
    d = world.daemon(env={"FAKE_SLEEP": "2"})
    d.start()
    agent = world.board.agent(runtime_id(world.workspace, "claude"), "Patient")
    issue = world.board.issue("Finish while offline", agent["id"])
    wait_for(lambda: ended(issue["id"], "running"), what="running task")
    world.server.stop()
    try:
        outbox = d.home / ".multica" / "outbox"
        entry = wait_for(lambda: list(outbox.glob("*.json")), timeout=20, what="outbox entry")[0]
        assert entry.stat().st_mode & 0o777 == 0o600
        # Even a daemon killed now delivers the result once it and the server are back.
        d.kill9()
    finally:
        world.server.start()
    d.start()
    done = wait_for(lambda: ended(issue["id"]), timeout=30, what="result delivered")
    assert done.result["output"] == f"Done with {issue['id']}."
    assert [t.status for t in tasks_of(issue["id"])] == ["completed"]
    wait_for(lambda: not list(outbox.glob("*.json")), timeout=10, what="outbox drained")


def test_two_daemons_drain_forty_tasks_once_each(world):
    # Same daemon id → the same runtime rows: both daemons compete for every task.
    shared = {"MULTICA_DAEMON_ID": "0190f0f0-0000-7000-8000-000000000042", "FAKE_SLEEP": "0.2"}
    a = world.daemon("a", slots=4, env=shared).start()
    b = world.daemon("b", slots=4, env=shared).start()
    rid = runtime_id(world.workspace, "claude")
    agents = [world.board.agent(rid, f"Worker {i}", max_concurrent_tasks=10) for i in range(4)]
    issues = [world.board.issue(f"Chore {n}", agents[n % 4]["id"]) for n in range(40)]
    peak = {"a": 0, "b": 0}

    def all_done() -> bool:
        for name, d in (("a", a), ("b", b)):
            peak[name] = max(peak[name], d.health()["active_task_count"])
        from agents.models import AgentTask

        ids = [i["id"] for i in issues]
        return AgentTask.objects.filter(issue_id__in=ids, status="completed").count() == 40

    wait_for(all_done, timeout=90, what="40 tasks completed")
    runs = fake_runs(world.base)
    assert len(runs) == 40
    assert len({r["task"] for r in runs}) == 40
    assert {r["slot"] for r in runs} <= {"0", "1", "2", "3"}
    assert peak["a"] <= 4
    assert peak["b"] <= 4
    by_daemon = {r["cwd"].split("/d")[0] for r in runs}
    assert by_daemon
    homes = {("a" if "/a/home/" in r["cwd"] else "b") for r in runs}
    assert homes == {"a", "b"}


def test_daemon_commands_start_status_logs_stop(world):
    import json
    import subprocess
    import sys

    from runtimes.models import AgentRuntime
    from tests.live_server import REPO

    d = world.daemon("cli")  # only for its HOME, profile and environment

    def multica(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "multica_cli", *args], cwd=REPO,
                              env=d.env, capture_output=True, text=True, timeout=90)  # fmt: skip

    probe = json.loads(multica("daemon", "probe-runtimes").stdout)
    assert probe["runtime_count"] == 2
    assert probe["provider_summary"]["codex"]["version"] == "codex-cli 0.120.0"
    started = multica("daemon", "start", "--max-concurrent-tasks", "2", "--poll-interval", "2s")
    assert started.returncode == 0, started.stderr
    assert "Daemon started" in started.stderr
    try:
        again = multica("daemon", "start")
        assert again.returncode != 0
        assert "already running" in again.stderr
        status = json.loads(multica("daemon", "status", "--output", "json").stdout)
        assert status["status"] == "running"
        assert status["agents"] == ["claude", "codex"]
        pid = status["pid"]
        assert (d.home / ".multica" / "daemon.pid").read_text().strip() == str(pid)
        logs = multica("daemon", "logs", "-n", "3")
        assert logs.returncode == 0
        assert str(d.home / ".multica" / "daemon.log") in logs.stderr
        assert 0 < len(logs.stdout.splitlines()) <= 3
        restarted = multica("daemon", "restart", "--max-concurrent-tasks", "3")
        assert restarted.returncode == 0, restarted.stderr
        assert not pid_alive(pid)
        pid = json.loads(multica("daemon", "status", "--output", "json").stdout)["pid"]
    finally:
        stopped = multica("daemon", "stop")
    assert stopped.returncode == 0, stopped.stderr
    assert not pid_alive(pid)
    assert json.loads(multica("daemon", "status", "--output", "json").stdout) == {
        "status": "stopped"
    }
    rows = AgentRuntime.objects.filter(workspace=world.workspace)
    assert set(rows.values_list("status", flat=True)) == {"offline"}


def test_idle_watchdog_and_provider_errors_fail_the_task(world):
    world.daemon(env={"MULTICA_AGENT_IDLE_WATCHDOG": "2s"}).start()
    rid = runtime_id(world.workspace, "claude")
    hung = world.board.agent(rid, "Hung", custom_env={"FAKE_MODE": "hang"})
    limited = world.board.agent(rid, "Limited", custom_env={"FAKE_MODE": "fail"})
    a = world.board.issue("Hang forever", hung["id"])
    b = world.board.issue("Hit the rate limit", limited["id"])
    idle = wait_for(lambda: ended(a["id"], "failed"), timeout=30, what="idle watchdog")
    assert idle.failure_reason == "idle_watchdog"
    pid = next(r["pid"] for r in fake_runs(world.base) if r["task"] == str(idle.id))
    assert not pid_alive(pid)
    failed = wait_for(lambda: ended(b["id"], "failed"), timeout=30, what="provider error")
    assert failed.failure_reason == "agent_error.provider_capacity_or_rate_limit"
    assert "429 rate limit" in failed.error


def test_a_runtime_deleted_on_the_server_is_registered_again(world):
    from runtimes.models import AgentRuntime

    d = world.daemon().start()
    old = runtime_id(world.workspace, "claude")
    AgentRuntime.objects.filter(pk=old).delete()  # e.g. the runtime GC removed the row
    fresh = wait_for(
        lambda: AgentRuntime.objects.filter(
            workspace=world.workspace, provider="claude", status="online"
        ).first(),
        timeout=20,
        what="re-registered runtime",
    )
    assert str(fresh.pk) != old
    wait_for(
        lambda: str(fresh.pk) in d.health()["workspaces"][0]["runtimes"],
        timeout=10,
        what="daemon hosts the new runtime",
    )
    # …and it takes work on it.
    agent = world.board.agent(str(fresh.pk), "Phoenix")
    issue = world.board.issue("After the flap", agent["id"])
    wait_for(lambda: ended(issue["id"]), what="task on the new runtime")


def test_local_skills_are_listed_and_imported_through_heartbeats(world):
    from skills.models import Skill

    d = world.daemon()
    skill = d.home / ".claude" / "skills" / "ops" / "deploy"
    (skill / "scripts").mkdir(parents=True)
    (skill / "SKILL.md").write_text(
        '---\nname: deploy-app\ndescription: "Ship it safely"\n---\n\nRun the deploy.\n'
    )
    (skill / "scripts" / "go.sh").write_text("echo deploy\n")
    (skill / "scripts" / "blob.bin").write_bytes(b"\x00\x01binary")
    d.start()
    rid = runtime_id(world.workspace, "claude")
    base = f"/api/runtimes/{rid}/local-skills"
    req = world.board.call("POST", base)

    def finished(path: str) -> Any:
        got = world.board.call("GET", path)
        return got if got["status"] not in ("pending", "running") else None

    listed = wait_for(lambda: finished(f"{base}/{req['id']}"), what="inventory")
    assert listed["status"] == "completed"
    (entry,) = listed["skills"]
    assert (entry["key"], entry["name"], entry["description"]) == (
        "ops/deploy", "deploy-app", "Ship it safely"
    )  # fmt: skip
    assert entry["can_disable"] is True
    imp = world.board.call("POST", f"{base}/import", json={"skill_key": "ops/deploy"})
    done = wait_for(lambda: finished(f"{base}/import/{imp['id']}"), what="import")
    assert done["status"] == "completed", done
    created = Skill.objects.get(workspace=world.workspace, name="deploy-app")
    assert "Run the deploy." in created.content
    assert sorted(f.path for f in created.files.all()) == ["scripts/go.sh"]


def test_graceful_shutdown_reports_every_task_in_flight(world):
    d = world.daemon(env={"MULTICA_DAEMON_SHUTDOWN_GRACE": "8", "MULTICA_DAEMON_CANCEL_GRACE": "1"})
    d.start()
    rid = runtime_id(world.workspace, "claude")
    agent = world.board.agent(rid, "Busy", max_concurrent_tasks=3,
                              custom_env={"FAKE_MODE": "slow"})  # fmt: skip
    issues = [world.board.issue(f"Long job {n}", agent["id"]) for n in range(3)]
    wait_for(lambda: all(ended(i["id"], "running") for i in issues), what="3 tasks running")
    started = time.monotonic()
    d.proc.send_signal(signal.SIGTERM)
    assert d.proc.wait(20) == 0
    assert time.monotonic() - started < 8 + 2
    for issue in issues:
        first = tasks_of(issue["id"])[0]
        assert (first.status, first.failure_reason) == ("failed", "runtime_recovery")
    assert not [r["pid"] for r in fake_runs(world.base) if pid_alive(r["pid"])]
    from runtimes.models import AgentRuntime

    assert AgentRuntime.objects.get(pk=rid).status == "offline"


def test_daemon_rides_out_a_server_restart(world):
    # Long report backoff: only the first good heartbeat after the outage can deliver in time.
    d = world.daemon(env={"FAKE_SLEEP": "2", "MULTICA_DAEMON_REPORT_BACKOFF": "60",
                          "MULTICA_DAEMON_REPORT_BACKOFF_CAP": "120"})  # fmt: skip
    d.start()
    agent = world.board.agent(runtime_id(world.workspace, "claude"), "Steady")
    first = world.board.issue("Finish during the restart", agent["id"])
    wait_for(lambda: ended(first["id"], "running"), what="running task")
    world.server.stop()
    try:
        outbox = d.home / ".multica" / "outbox"
        wait_for(lambda: list(outbox.glob("*.json")), timeout=20, what="outbox entry")
    finally:
        world.server.start()
    wait_for(lambda: ended(first["id"]), timeout=20, what="result after the restart")
    second = world.board.issue("After the restart", agent["id"])
    wait_for(lambda: ended(second["id"]), timeout=30, what="task after the server restart")
    wait_for(
        lambda: d.log.read_text().count("daemon socket connected") >= 2,
        timeout=40,
        what="socket reconnected",
    )
    assert d.health()["status"] == "running"


def test_an_uninstalled_cli_takes_its_runtime_offline(world):
    import os

    from runtimes.models import AgentRuntime
    from tests.daemon.conftest import FAKES

    bin_dir = world.base / "bin"
    bin_dir.mkdir()
    for name in ("claude", "codex"):
        (bin_dir / name).symlink_to(FAKES / name)
    path = os.pathsep.join([str(bin_dir), str(Path(sys.executable).parent), os.environ["PATH"]])
    d = world.daemon(env={"PATH": path,
                          "MULTICA_DAEMON_REDISCOVER_INTERVAL": "0.5"})  # fmt: skip
    d.start()
    codex = runtime_id(world.workspace, "codex")
    (bin_dir / "codex").unlink()
    row = wait_for(
        lambda: AgentRuntime.objects.filter(pk=codex, status="offline").first(),
        timeout=20,
        what="codex runtime offline",
    )
    assert row.metadata["offline_reason"]["code"] == "not_executable"
    assert d.wait_health(lambda h: h["agents"] == ["claude"])
    assert AgentRuntime.objects.get(pk=runtime_id(world.workspace, "claude")).status == "online"


def test_codex_exec_json_protocol_and_resume(world):
    from agents.models import TaskMessage
    from usage.models import TaskUsage

    world.daemon(env={"MULTICA_CODEX_PROTOCOL": "exec"}).start()
    agent = world.board.agent(runtime_id(world.workspace, "codex"), "Exie")
    issue = world.board.issue("Tidy the config", agent["id"])
    first = wait_for(lambda: ended(issue["id"]), what="codex exec task")
    assert first.result["output"] == f"Codex exec finished {issue['id']}."
    rows = TaskMessage.objects.filter(task=first).order_by("seq")
    assert list(rows.values_list("type", flat=True)) == [
        "thinking", "tool_use", "tool_result", "text"
    ]  # fmt: skip
    (usage,) = TaskUsage.objects.filter(task_id=first.id)
    assert (usage.input_tokens, usage.cache_read_tokens, usage.output_tokens) == (600, 300, 70)
    post_comment(world, issue["id"], "And the tests too.")
    second = wait_for(
        lambda: [t for t in tasks_of(issue["id"]) if t.status == "completed" and t.pk != first.pk],
        what="follow-up",
    )[0]
    assert second.result["output"].startswith(f"resumed {first.session_id}.")
    runs = [r for r in fake_runs(world.base) if r["provider"] == "codex"]
    assert runs[0]["argv"][:2] == ["exec", "--json"]
    assert runs[0]["argv"][-1] == "-"
    assert runs[1]["argv"][-3:] == ["resume", first.session_id, "-"]


def test_an_attempt_whose_lease_moved_is_stopped_and_changes_nothing(world):
    from django.db.models import F

    from agents.models import AgentTask

    d = world.daemon().start()
    agent = world.board.agent(runtime_id(world.workspace, "claude"), "Zombie",
                              custom_env={"FAKE_MODE": "slow"})  # fmt: skip
    issue = world.board.issue("Leased twice", agent["id"])
    task = wait_for(lambda: ended(issue["id"], "running"), what="running task")
    wait_for(lambda: fake_runs(world.base), what="agent started")
    pid = fake_runs(world.base)[0]["pid"]
    # The server leased the task again (as after a partition): this attempt is fenced off.
    AgentTask.objects.filter(pk=task.pk).update(lease_epoch=F("lease_epoch") + 1)
    wait_for(lambda: not pid_alive(pid), timeout=15, what="fenced agent stopped")
    wait_for(lambda: d.health()["active_task_count"] == 0, timeout=10, what="slot released")
    task.refresh_from_db()
    assert task.status == "running"  # the stale attempt's reports were refused (409)
    assert not list((d.home / ".multica" / "outbox").glob("*.json"))


def test_daemon_with_a_daemon_token(world):
    token = world.board.call(
        "POST", "/api/daemon-tokens", 201, json={"daemon_id": "laptop-7", "name": "laptop"}
    )["token"]
    assert token.startswith("mdt_")
    d = world.daemon()
    cfg = d.home / ".multica" / "config.json"
    cfg.write_text(json.dumps({"server_url": world.server.url, "token": token}))
    d.start("--daemon-id", "laptop-7")
    agent = world.board.agent(runtime_id(world.workspace, "claude"), "Tokenized")
    issue = world.board.issue("With a daemon token", agent["id"])
    done = wait_for(lambda: ended(issue["id"]), what="task via daemon token")
    assert done.runtime.daemon_id == "laptop-7"
    (run,) = fake_runs(world.base)
    assert run["token_prefix"] == "mat_"


def test_agent_checks_out_a_workspace_repo_into_its_workdir(world):
    import subprocess as sp

    from agents.models import TaskMessage
    from workspaces.models import Workspace

    src = world.base / "origin"
    sp.run(["git", "init", "-q", "-b", "main", str(src)], check=True)
    (src / "README.md").write_text("hello\n")
    git = ["git", "-C", str(src), "-c", "user.email=t@example.com", "-c", "user.name=T"]
    sp.run([*git, "add", "."], check=True)
    sp.run([*git, "commit", "-q", "-m", "init"], check=True)
    url = f"file://{src}"
    Workspace.objects.filter(pk=world.workspace.pk).update(repos=[{"url": url}])
    world.daemon(env={"MULTICA_DAEMON_ALLOW_FILE_REPOS": "1"}).start()
    agent = world.board.agent(runtime_id(world.workspace, "claude"), "Gitty",
                              custom_env={"FAKE_MODE": "repo", "FAKE_REPO_URL": url})  # fmt: skip
    issue = world.board.issue("Change the README", agent["id"])
    task = wait_for(lambda: ended(issue["id"]), what="task with a checkout")
    result = TaskMessage.objects.get(task=task, type="tool_result")
    got = json.loads(result.output)
    status, body = got["ok"]
    assert status == 200, body
    assert body["path"] == f"{task.work_dir}/origin"
    assert body["branch_name"] == f"agent/gitty/{task.id.hex[-12:]}"
    assert Path(body["path"], "README.md").read_text() == "hello\n"
    head = sp.run(["git", "-C", body["path"], "rev-parse", "--abbrev-ref", "HEAD"],
                  capture_output=True, text=True, check=True).stdout.strip()  # fmt: skip
    assert head == body["branch_name"]
    assert got["outside"][0] == 403
    assert got["stranger"][0] == 401
    assert got["unlisted"][0] == 403
    brief = Path(task.work_dir, "CLAUDE.md").read_text()
    assert url in brief
    assert "/repo/checkout" in brief


def test_a_codex_turn_without_progress_fails_as_semantic_inactivity(world):
    """The fake app-server starts the turn, then only sends token counters: the first-turn
    timer ends the run (process stopped) with Multica's marker and reason."""
    world.daemon(env={"MULTICA_CODEX_FIRST_TURN_TIMEOUT": "2s"}).start()
    agent = world.board.agent(runtime_id(world.workspace, "codex"), "Stuck",
                              custom_env={"FAKE_MODE": "stall"})  # fmt: skip
    issue = world.board.issue("Never moves", agent["id"])
    failed = wait_for(lambda: ended(issue["id"], "failed"), timeout=40, what="first-turn timer")
    assert failed.failure_reason == "codex_semantic_inactivity"
    assert failed.error.startswith("codex app-server no progress timeout after 2s")
    pid = next(r["pid"] for r in fake_runs(world.base) if r["task"] == str(failed.id))
    wait_for(lambda: not pid_alive(pid), timeout=20, what="codex stopped")


def test_codex_legacy_event_dialect(world):
    from agents.models import TaskMessage
    from usage.models import TaskUsage

    world.daemon().start()
    agent = world.board.agent(runtime_id(world.workspace, "codex"), "Old Cody",
                              custom_env={"FAKE_MODE": "legacy_events"})  # fmt: skip
    issue = world.board.issue("Old protocol", agent["id"])
    task = wait_for(lambda: ended(issue["id"]), what="legacy codex task")
    assert task.status == "completed"
    assert task.result["output"] == f"Codex (legacy) finished {issue['id']}."
    kinds = list(TaskMessage.objects.filter(task=task).order_by("seq").values_list("type", "tool"))
    assert kinds == [("tool_use", "exec_command"), ("tool_result", "exec_command"), ("text", None)]
    (usage,) = TaskUsage.objects.filter(task_id=task.id)
    assert (usage.input_tokens, usage.output_tokens, usage.cache_read_tokens) == (1000, 350, 200)
