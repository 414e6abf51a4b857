"""The daemon's pure parts: environment, command lines, stream parsing, files on disk."""

from __future__ import annotations

import json
import os
import stat
import time
from pathlib import Path
from typing import Any

import pytest

from multica_cli.daemon import execenv, providers, sessions
from multica_cli.daemon.outbox import write_private
from multica_cli.daemon.settings import CodexTimers


class Recorder:
    """A :class:`sessions.Sink` that keeps what it was told."""

    def __init__(self) -> None:
        self.events: list[tuple[str, Any]] = []
        self.usage_rows: dict[str, list[int]] = {}

    def text(self, content: str) -> None:
        self.events.append(("text", content))

    def thinking(self, content: str) -> None:
        self.events.append(("thinking", content))

    def tool_use(self, tool: str, call_id: str, tool_input: Any) -> None:
        self.events.append(("tool_use", tool))

    def tool_result(self, call_id: str, output: str, tool: str = "") -> None:
        self.events.append(("tool_result", output))

    def error(self, content: str) -> None:
        self.events.append(("error", content))

    def session(self, session_id: str) -> None:
        self.events.append(("session", session_id))

    def usage(self, model: str, inp: int, out: int, cache_read: int, cache_write: int) -> None:
        self.usage_rows[model] = [inp, out, cache_read, cache_write]

    def replace_usage(self, rows: dict[str, list[int]]) -> None:
        self.usage_rows = rows


def task(**extra: Any) -> dict[str, Any]:
    return {
        "id": "01a2009e-b262-76ad-9ffb-8478c55dad26",
        "agent_id": "a1",
        "workspace_id": "w1",
        "issue_id": "i1",
        "auth_token": "mat_" + "0" * 40,
        "agent": {"id": "a1", "name": "Ada", "instructions": "Be kind.",
                  "custom_env": {"FOO": "bar", "HOME": "/evil", "PATH": "/evil",
                                 "MULTICA_TOKEN": "mul_daemon", "MULTICA_SERVER_URL": "x"},
                  "skills": [{"name": "Write Tests!", "description": "how", "content": "Body",
                              "files": [{"path": "ref/a.md", "content": "A"},
                                        {"path": "../escape", "content": "no"}]}]},
        **extra,
    }  # fmt: skip


def test_env_drops_blocked_keys_and_applies_platform_values_last(tmp_path, monkeypatch):
    monkeypatch.setenv("MULTICA_TOKEN", "mul_the_daemons_own_pat")
    monkeypatch.setenv("CLAUDECODE", "1")
    t = task()
    env = execenv.prepare(tmp_path, t, providers.PROVIDERS["claude"])
    out = execenv.build_env(t, env, server_url="http://srv", slot=3, health_port=19514,
                            workspaces_root=tmp_path)  # fmt: skip
    assert out["MULTICA_TOKEN"] == t["auth_token"]
    assert out["MULTICA_SERVER_URL"] == "http://srv"
    assert out["MULTICA_TASK_ID"] == t["id"]
    assert out["MULTICA_TASK_SLOT"] == "3"
    assert out["FOO"] == "bar"
    assert out["HOME"] != "/evil"
    assert not out["PATH"].startswith("/evil")
    assert "CLAUDECODE" not in out
    assert out["TMPDIR"] == str(env.tmpdir)
    assert stat.S_IMODE(env.tmpdir.stat().st_mode) == 0o700
    env.cleanup()


def test_env_refuses_a_task_without_a_task_token(tmp_path):
    t = task(auth_token="mul_pat")
    env = execenv.prepare(tmp_path, t, providers.PROVIDERS["claude"])
    with pytest.raises(ValueError, match="task token"):
        execenv.build_env(t, env, server_url="http://srv", slot=0, health_port=1,
                          workspaces_root=tmp_path)  # fmt: skip


def test_skills_and_brief_go_where_the_provider_reads_them(tmp_path):
    env = execenv.prepare(tmp_path, task(), providers.PROVIDERS["claude"])
    skill = env.workdir / ".claude" / "skills" / "write-tests"
    assert (skill / "SKILL.md").read_text().startswith("---\nname: write-tests\n")
    assert (skill / "ref" / "a.md").read_text() == "A"
    assert not (skill.parent / "escape").exists()
    (env.workdir / "CLAUDE.md").write_text("# My notes\n")
    execenv.write_brief(env.workdir / "CLAUDE.md", "first")
    execenv.write_brief(env.workdir / "CLAUDE.md", "second")
    text = (env.workdir / "CLAUDE.md").read_text()
    assert text.startswith("# My notes\n")
    assert "second" in text
    assert "first" not in text
    assert text.count(execenv.BRIEF_BEGIN) == 1
    codex = execenv.prepare(tmp_path / "c", task(), providers.PROVIDERS["codex"])
    assert (codex.root / "codex-home" / "skills" / "write-tests" / "SKILL.md").exists()
    assert (codex.workdir / "AGENTS.md").exists()
    ctx = json.loads((codex.workdir / ".multica" / "daemon_task_context.json").read_text())
    assert ctx == {"managed_by": "multica-daemon-task", "agent_id": "a1", "issue_id": "i1"}


def test_claude_command_line_keeps_protocol_flags(tmp_path):
    agent = {
        "model": "opus",
        "thinking_level": "high",
        "custom_args": ["--output-format", "text", "--permission-mode=plan", "'--foo'"],
    }
    argv = providers.command_line(providers.PROVIDERS["claude"], "/bin/claude", agent,
                                  prompt="p", resume="s1", workdir=str(tmp_path))  # fmt: skip
    assert argv[:5] == ["/bin/claude", "-p", "--output-format", "stream-json", "--input-format"]
    assert argv.count("--output-format") == 1
    assert "--permission-mode=plan" not in argv
    assert argv[-1] == "--foo"
    assert argv[argv.index("--resume") + 1] == "s1"
    assert argv[argv.index("--effort") + 1] == "high"


def test_version_parsing_and_minimums():
    line = "2.1.220 (Claude Code)"
    assert providers.parse_version(line) == ((2, 1, 220), line)
    assert providers.parse_version("codex-cli 0.99.1")[0] < providers.PROVIDERS["codex"].min_version


def test_claude_stream_counts_each_message_usage_once():
    sink, written = Recorder(), []
    s = sessions.ClaudeSession(sink, written.append, prompt="hi", model="")
    s.begin()
    usage = {"input_tokens": 3, "output_tokens": 4, "cache_read_input_tokens": 100}
    for block in ({"type": "thinking", "thinking": "hmm"}, {"type": "text", "text": "hello"}):
        s.on_line(json.dumps({"type": "assistant", "message": {
            "id": "m1", "model": "claude-x", "content": [block], "usage": usage}}))  # fmt: skip
    assert sink.usage_rows == {"claude-x": [3, 4, 100, 0]}
    s.on_line(json.dumps({"type": "result", "result": "done", "session_id": "s9"}))
    assert (s.done, s.failed, s.output) == (True, False, "done")
    assert written[-1] is None  # stdin closed after the result
    assert ("session", "s9") in sink.events


def test_codex_stream_reports_uncached_input_and_final_answer():
    sink, written = Recorder(), []
    s = sessions.CodexSession(sink, written.append, prompt="go", model="gpt-5", workdir="/w")
    s.begin()
    s.on_line(json.dumps({"jsonrpc": "2.0", "id": 1, "result": {}}))
    s.on_line(json.dumps({"jsonrpc": "2.0", "id": 2, "result": {"thread": {"id": "th1"}}}))
    sent = [json.loads(w)["method"] for w in written if w]
    assert sent == ["initialize", "initialized", "thread/start", "turn/start"]
    s.on_line(json.dumps({"jsonrpc": "2.0", "method": "turn/completed", "params": {
        "threadId": "th1", "turn": {"status": "completed", "usage": {
            "input_tokens": 500, "cached_input_tokens": 120, "output_tokens": 9}}}}))  # fmt: skip
    assert sink.usage_rows == {"gpt-5": [380, 9, 120, 0]}
    assert s.done
    assert not s.failed


def test_outbox_entries_are_private(tmp_path):
    path = tmp_path / "outbox" / "t.json"
    write_private(path, {"a": 1})
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert json.loads(path.read_text()) == {"a": 1}
    assert not [p for p in path.parent.iterdir() if p.name.startswith(".")]
    assert os.access(path, os.R_OK)


def test_daemon_package_does_not_import_django():
    import subprocess
    import sys

    code = ("import sys, multica_cli.daemon.core, multica_cli.commands.daemon;"
            "sys.exit(any(m.split('.')[0] == 'django' for m in sys.modules))")  # fmt: skip
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    assert subprocess.run([sys.executable, "-c", code], env=env, cwd=Path(__file__).parents[2]
                          ).returncode == 0  # fmt: skip


def rpc(req_id: int, result: Any) -> str:
    return json.dumps({"jsonrpc": "2.0", "id": req_id, "result": result})


def test_acp_session_handshake_prompt_and_permission():
    sink, written = Recorder(), []
    s = sessions.AcpSession(sink, written.append, prompt="go", model="", workdir="/w")
    s.begin()
    s.on_line(rpc(1, {"protocolVersion": 1}))
    s.on_line(rpc(2, {"sessionId": "sess-1"}))
    sent = [json.loads(w) for w in written if w]
    assert [m["method"] for m in sent] == ["initialize", "session/new", "session/prompt"]
    assert sent[2]["params"]["sessionId"] == "sess-1"
    update = {"jsonrpc": "2.0", "method": "session/update", "params": {"sessionId": "sess-1"}}
    for u in (
        {"sessionUpdate": "agent_thought_chunk", "content": {"type": "text", "text": "hm"}},
        {"sessionUpdate": "tool_call", "toolCallId": "t1", "title": "Read", "rawInput": {}},
        {"sessionUpdate": "tool_call_update", "toolCallId": "t1", "status": "completed",
         "rawOutput": "file"},
        {"sessionUpdate": "agent_message_chunk", "content": {"type": "text", "text": "Done."}},
    ):  # fmt: skip
        s.on_line(json.dumps({**update, "params": {"sessionId": "sess-1", "update": u}}))
    s.on_line(
        json.dumps(
            {
                "jsonrpc": "2.0",
                "id": 77,
                "method": "session/request_permission",
                "params": {
                    "options": [
                        {"optionId": "no", "kind": "reject_once"},
                        {"optionId": "yes", "kind": "allow_once"},
                    ]
                },
            }
        )
    )
    assert json.loads(written[-1])["result"]["outcome"] == {"outcome": "selected",
                                                            "optionId": "yes"}  # fmt: skip
    s.on_line(rpc(3, {"stopReason": "end_turn", "usage": {"inputTokens": 7, "outputTokens": 2,
                                                          "cachedReadTokens": 5}}))  # fmt: skip
    assert (s.done, s.failed, s.output) == (True, False, "Done.")
    assert [e[0] for e in sink.events] == ["session", "thinking", "tool_use", "tool_result", "text"]
    assert sink.usage_rows == {"unknown": [7, 2, 5, 0]}


@pytest.mark.parametrize(
    ("provider", "lines", "output", "usage"),
    [
        ("opencode", [
            {"type": "text", "sessionID": "s", "part": {"text": "hi"}},
            {"type": "tool_use", "part": {"tool": "bash", "callID": "c", "state": {
                "status": "completed", "input": {"command": "ls"}, "output": "x"}}},
            {"type": "step_finish", "part": {"tokens": {"input": 10, "output": 3, "reasoning": 1,
                                                        "cache": {"read": 4, "write": 2}}}},
        ], "hi", [10, 4, 4, 2]),
        ("copilot", [
            {"type": "session.start", "data": {"sessionId": "s"}},
            {"type": "assistant.message", "data": {"content": "yo", "toolRequests": []}},
            {"type": "assistant.usage", "data": {"model": "m", "inputTokens": 1,
                                                 "outputTokens": 2, "cacheReadTokens": 3}},
            {"type": "result", "sessionId": "s", "exitCode": 0},
        ], "yo", [1, 2, 3, 0]),
        ("pi", [
            {"type": "message_update", "assistantMessageEvent": {"type": "text_delta",
                                                                 "delta": "ok"}},
            {"type": "turn_end", "message": {"model": "m", "usage": {"input": 5, "output": 6,
                                                                     "cacheRead": 7}}},
        ], "ok", [5, 6, 7, 0]),
    ],
)  # fmt: skip
def test_json_lines_providers(provider, lines, output, usage):
    sink = Recorder()
    s = sessions.JsonLinesSession(sink, lambda _line: None, prompt="p", model="",
                                  provider=provider)  # fmt: skip
    for line in lines:
        s.on_line(json.dumps(line))
    s.stream_ended()
    assert s.output == output
    assert not s.failed
    assert next(iter(sink.usage_rows.values())) == usage


def test_gc_removes_old_finished_task_dirs_only(tmp_path):
    old_env = execenv.prepare(tmp_path, task(), providers.PROVIDERS["claude"])
    execenv.write_gc_meta(old_env, task())
    busy = execenv.prepare(tmp_path, task(id="01a2009e-0000-7000-8000-00000000beef"),
                           providers.PROVIDERS["claude"])  # fmt: skip
    execenv.write_gc_meta(busy, task())
    running = execenv.prepare(tmp_path, task(id="01a2009e-0000-7000-8000-00000000cafe"),
                              providers.PROVIDERS["claude"])  # fmt: skip
    later = time.time() + 8 * 24 * 3600
    assert execenv.gc_task_dirs(tmp_path, 7 * 24 * 3600, {busy.root}, now=later) == 1
    assert not old_env.root.exists()
    assert busy.root.exists()
    assert running.root.exists()  # no .gc_meta.json: not finished


def test_prompt_per_task_kind():
    assignment = execenv.prompt(task())
    assert "Your issue ID is i1." in assignment
    assert "multica issue get i1 --output json" in assignment
    comment = execenv.prompt(task(trigger_comment_content="Please add tests",
                                  trigger_author_name="Bob"))  # fmt: skip
    assert "[NEW COMMENT]" in comment
    assert "Bob wrote:\nPlease add tests" in comment
    quick = execenv.prompt(task(issue_id="", quick_create_prompt="Login is broken on Safari"))
    assert "multica issue create" in quick
    assert "Login is broken on Safari" in quick
    lost = execenv.prompt(task(), continuity_lost=True)
    assert lost.startswith("(Your previous session")


def test_repo_urls_must_be_network_git_urls(monkeypatch):
    from multica_cli.daemon import repos

    monkeypatch.delenv("MULTICA_DAEMON_ALLOW_FILE_REPOS", raising=False)
    assert repos.allowed_url("https://github.com/acme/app.git")
    assert repos.allowed_url("git@github.com:acme/app.git")
    assert not repos.allowed_url("file:///etc")
    assert not repos.allowed_url("/home/me/.ssh")
    assert not repos.allowed_url("ext::sh -c touch% /tmp/pwned")
    assert repos.repo_name("git@github.com:acme/app.git") == "app"


# --- Codex timers (§3.2) -------------------------------------------------------------------------


def codex(timers: CodexTimers | None = None) -> tuple[sessions.CodexSession, Recorder, list]:
    sink, written = Recorder(), []
    s = sessions.CodexSession(sink, written.append, prompt="go", model="gpt-5", workdir="/w",
                              timers=timers)  # fmt: skip
    s.begin()
    return s, sink, written


def note(method: str, **params: Any) -> str:
    return json.dumps({"jsonrpc": "2.0", "method": method, "params": {"threadId": "th1", **params}})


def started(s: sessions.CodexSession) -> None:
    s.on_line(rpc(1, {}))
    s.on_line(rpc(2, {"thread": {"id": "th1"}}))
    s.on_line(rpc(3, {"turn": {"id": "turn_1"}}))
    s.on_line(note("turn/started", turn={"id": "turn_1"}))


def test_codex_handshake_budgets_per_call():
    s, _, written = codex()
    t0 = time.monotonic()
    s.check_timers(t0 + 29)
    assert not s.done
    s.on_line(rpc(1, {}))  # initialize answered; thread/start gets 60 s
    s.check_timers(time.monotonic() + 45)
    assert not s.done
    s.check_timers(time.monotonic() + 61)
    assert s.failed
    assert s.error == "codex app-server handshake timeout: thread/start did not respond after 60s"
    assert s.reason == ""  # classified from the text, as Multica does
    assert written[-1] is None  # stdin closed: the CLI is asked to exit


def test_codex_first_turn_without_progress_and_semantic_inactivity():
    timers = CodexTimers(first_turn=20, semantic=100)
    s, _, _ = codex(timers)
    started(s)
    # Token counters are not progress.
    s.on_line(note("thread/tokenUsage/updated", tokenUsage={"last": {"inputTokens": 1}}))
    s.check_timers(time.monotonic() + 19)
    assert not s.done
    s.check_timers(time.monotonic() + 21)
    assert s.reason == "codex_semantic_inactivity"
    assert s.error.startswith("codex app-server no progress timeout after 20s: received turn start")

    s, _, _ = codex(timers)
    started(s)
    s.on_line(note("item/started", item={"type": "commandExecution", "id": "c1", "command": "ls"}))
    s.check_timers(time.monotonic() + 50)  # past the first-turn budget: progress was made
    assert not s.done
    s.check_timers(time.monotonic() + 101)
    assert s.reason == "codex_semantic_inactivity"
    assert s.error.startswith("codex semantic inactivity timeout after 100s without agent progress")
    assert "last activity: item/started" in s.error


def test_codex_timer_settings(tmp_path, monkeypatch):
    from multica_cli.config import Profile
    from multica_cli.daemon.settings import build_settings, codex_timers

    for key in ("MULTICA_CODEX_HANDSHAKE_TIMEOUT", "MULTICA_CODEX_SEMANTIC_INACTIVITY_TIMEOUT",
                "MULTICA_CODEX_FIRST_TURN_TIMEOUT"):  # fmt: skip
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    profile = Profile(name=None, server_url="http://x", app_url="", token="t", workspace_id="")

    def timers(**flags: Any) -> CodexTimers:
        return codex_timers(build_settings(profile, flags, "d"))

    assert timers() == CodexTimers(handshake=30, thread_handshake=60, semantic=600, first_turn=60)
    assert timers(codex_handshake_timeout="5s").thread_handshake == 5
    # A short semantic budget shrinks the first-turn ceiling; it never raises it.
    assert timers(codex_semantic_inactivity_timeout="30s").first_turn == 24
    monkeypatch.setenv("MULTICA_CODEX_FIRST_TURN_TIMEOUT", "2m")
    assert timers(codex_semantic_inactivity_timeout="30s").first_turn == 120


def test_codex_legacy_dialect_wins_once_seen():
    s, sink, _ = codex()
    started(s)
    legacy = {"jsonrpc": "2.0", "method": "codex/event/agent_message",
              "params": {"msg": {"type": "agent_message", "message": "hi"}}}  # fmt: skip
    s.on_line(json.dumps(legacy))
    # The same step in the v2 dialect is not reported twice.
    s.on_line(note("item/completed", item={"type": "agentMessage", "id": "m", "text": "hi"}))
    assert [e for e in sink.events if e[0] == "text"] == [("text", "hi")]
    done = {"type": "task_complete", "last_agent_message": "hi"}
    s.on_line(json.dumps({**legacy, "method": "codex/event/task_complete",
                          "params": {"msg": done}}))  # fmt: skip
    assert (s.done, s.failed, s.output) == (True, False, "hi")
