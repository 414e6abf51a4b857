"""Running one claimed task (daemon contract §1.9–§1.14): prepare, start, run the provider,
stream messages, pin the session, watch status and idleness, report usage and the result."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import signal
import subprocess
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from multica_cli.daemon import execenv, sessions
from multica_cli.daemon.api import ApiError, DaemonApi
from multica_cli.daemon.outbox import Report, write_private
from multica_cli.daemon.providers import (
    ACP_RESUME,
    Detected,
    codex_protocol,
    command_line,
    model_for,
)
from multica_cli.daemon.settings import codex_timers

if TYPE_CHECKING:
    from multica_cli.daemon.core import Daemon

log = logging.getLogger("multica.daemon.task")

FLUSH_INTERVAL = 0.5
TOOL_OUTPUT_LIMIT = 8192
STDERR_TAIL = 4096
TERMINAL = frozenset({"completed", "failed", "cancelled"})
SECRET_KEYS = re.compile(r"(?i)(token|secret|password|passwd|api[_-]?key|authorization)")
RESUME_REJECTED = re.compile(
    r"(?i)no conversation found|session not found|unknown session|no rollout found|"
    r"thread not found"
)

FAILURE_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    ("agent_error.context_overflow",
     re.compile(r"(?i)prompt is too long|context (length|window)|too many tokens")),
    ("agent_error.provider_auth_or_access",
     re.compile(r"(?i)unauthori[sz]ed|invalid api key|authentication|\b401\b|\b403\b|log ?in")),
    ("agent_error.provider_quota_limit",
     re.compile(r"(?i)quota|credit balance|billing|insufficient_quota")),
    ("agent_error.provider_capacity_or_rate_limit",
     re.compile(r"(?i)rate.?limit|overloaded|\b429\b|capacity")),
    ("agent_error.provider_server_error",
     re.compile(r"(?i)internal server error|\b50[0-4]\b|api_error")),
    ("agent_error.provider_network",
     re.compile(r"(?i)econnrefused|econnreset|network|connection (refused|reset)|timed out")),
    ("agent_error.model_not_found_or_unavailable",
     re.compile(r"(?i)model.{0,40}(not found|does not exist|unavailable)")),
]  # fmt: skip


def classify(error: str) -> str:
    for reason, pattern in FAILURE_PATTERNS:
        if pattern.search(error or ""):
            return reason
    return "agent_error.unknown"


def redact(value: Any) -> Any:
    if isinstance(value, dict):
        return {
            k: ("[redacted]" if SECRET_KEYS.search(str(k)) and isinstance(v, str) else redact(v))
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [redact(v) for v in value]
    return value


MIN_SECRET_LENGTH = 6


class Scrubber:
    """Replaces the task's own secret values (its ``custom_env`` values and its task token)
    verbatim wherever they appear in what leaves the machine: patterns miss custom keys."""

    def __init__(self, task: dict[str, Any]) -> None:
        env = (task.get("agent") or {}).get("custom_env") or {}
        values = {str(v) for v in env.values() if len(str(v)) >= MIN_SECRET_LENGTH}
        if task.get("auth_token"):
            values.add(str(task["auth_token"]))
        self.values = sorted(values, key=len, reverse=True)

    def __call__(self, value: Any) -> Any:
        if not self.values:
            return value
        if isinstance(value, str):
            for secret in self.values:
                if secret in value:
                    value = value.replace(secret, "[redacted]")
            return value
        if isinstance(value, dict):
            return {k: self(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self(v) for v in value]
        return value


class SkillBundleError(Exception):
    pass


class MessageBatcher:
    """Agent events → ``POST …/messages`` every 500 ms with strictly increasing ``seq``.
    Text and thinking deltas are concatenated; a tool event first closes the pending text so
    the transcript keeps its order. Failed posts are dropped (best effort, as Multica)."""

    def __init__(
        self,
        api: DaemonApi,
        task_id: str,
        epoch: int | None,
        seq: int = 0,
        scrub: Any = None,
        on_lease_lost: Any = None,
    ) -> None:
        self.api = api
        self.scrub = scrub or (lambda value: value)
        self.on_lease_lost = on_lease_lost
        self.task_id = task_id
        self.epoch = epoch
        self.seq = seq
        self._lock = threading.Lock()
        self._batch: list[dict[str, Any]] = []
        self._text: list[str] = []
        self._thinking: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name=f"msgs-{task_id[:8]}", daemon=True)
        self.last_activity = time.monotonic()
        self.open_tools = 0
        self.sent = 0

    def start(self) -> None:
        self._thread.start()

    def _next(self, message: dict[str, Any]) -> None:
        self.seq += 1
        message["seq"] = self.seq
        self._batch.append(message)

    def _close_pending(self) -> None:
        if self._thinking:
            self._next({"type": "thinking", "content": "".join(self._thinking)})
            self._thinking = []
        if self._text:
            self._next({"type": "text", "content": "".join(self._text)})
            self._text = []

    def add(self, message: dict[str, Any]) -> None:
        message = self.scrub(message)
        with self._lock:
            self.last_activity = time.monotonic()
            kind = message["type"]
            if kind == "text":
                if self._thinking:
                    self._close_pending()
                self._text.append(message["content"])
            elif kind == "thinking":
                if self._text:
                    self._close_pending()
                self._thinking.append(message["content"])
            else:
                self._close_pending()
                if kind == "tool_use":
                    self.open_tools += 1
                elif kind == "tool_result":
                    self.open_tools = max(0, self.open_tools - 1)
                self._next(message)

    def flush(self) -> None:
        with self._lock:
            self._close_pending()
            batch, self._batch = self._batch, []
        if not batch:
            return
        try:
            self.api.task(self.task_id, "messages", {"messages": batch}, epoch=self.epoch,
                          timeout=5.0)  # fmt: skip
            self.sent += len(batch)
        except ApiError as exc:
            log.warning("task %s: dropped %d messages (%s)", self.task_id, len(batch), exc)
            if exc.status == 409 and self.on_lease_lost is not None:
                self.on_lease_lost()  # reclaimed or ended elsewhere: stop this attempt

    def _loop(self) -> None:
        while not self._stop.wait(FLUSH_INTERVAL):
            self.flush()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5)
        self.flush()


class Events:
    """The :class:`sessions.Sink` of one run: messages, session pin and usage."""

    def __init__(self, run: TaskRun, batcher: MessageBatcher) -> None:
        self.run = run
        self.batcher = batcher
        self.tool_names: dict[str, str] = {}

    def text(self, content: str) -> None:
        self.batcher.add({"type": "text", "content": content})

    def thinking(self, content: str) -> None:
        self.batcher.add({"type": "thinking", "content": content})

    def tool_use(self, tool: str, call_id: str, tool_input: Any) -> None:
        if call_id:
            self.tool_names[call_id] = tool
        self.batcher.add({"type": "tool_use", "tool": tool, "input": redact(tool_input or {})})

    def tool_result(self, call_id: str, output: str, tool: str = "") -> None:
        data = output.encode()[:TOOL_OUTPUT_LIMIT].decode(errors="ignore")
        name = tool or self.tool_names.get(call_id, "")
        self.batcher.add({"type": "tool_result", "tool": name, "output": data})

    def error(self, content: str) -> None:
        self.batcher.add({"type": "error", "content": content})

    def session(self, session_id: str) -> None:
        self.run.pin_session(session_id)

    def usage(self, model: str, inp: int, out: int, cache_read: int, cache_write: int) -> None:
        row = self.run.usage.setdefault(model, [0, 0, 0, 0])
        for i, n in enumerate((inp, out, cache_read, cache_write)):
            row[i] += n

    def replace_usage(self, rows: dict[str, list[int]]) -> None:
        self.run.usage_base = {m: list(v) for m, v in rows.items()}


@dataclass
class Outcome:
    status: str  # completed | failed | cancelled | aborted
    output: str = ""
    error: str = ""
    reason: str = ""
    session_id: str = ""
    retired_session_id: str = ""


@dataclass
class TaskRun:
    daemon: Daemon
    task: dict[str, Any]
    slot: int
    detected: Detected
    usage: dict[str, list[int]] = field(default_factory=dict)
    usage_base: dict[str, list[int]] = field(default_factory=dict)
    cancel: threading.Event = field(default_factory=threading.Event)
    cancel_reason: str = ""
    pinned: str = ""
    env: execenv.TaskEnv | None = None
    proc: subprocess.Popen | None = None
    seq: int = 0
    usage_posted: dict[str, list[int]] = field(default_factory=dict)
    poll_now: bool = False
    scrub: Scrubber = field(init=False)

    def __post_init__(self) -> None:
        self.scrub = Scrubber(self.task)

    @property
    def id(self) -> str:
        return str(self.task["id"])

    @property
    def epoch(self) -> int | None:
        raw = self.task.get("lease_epoch")
        return int(raw) if isinstance(raw, int) else None

    @property
    def api(self) -> DaemonApi:
        return self.daemon.api

    # --- reports -------------------------------------------------------------------------

    def report(self, kind: str, body: dict[str, Any]) -> None:
        body = self.scrub(body)
        self.daemon.outbox.put(Report(task_id=self.id, kind=kind, body=body, epoch=self.epoch))

    def pin_session(self, session_id: str) -> None:
        if not session_id or session_id == self.pinned:
            return
        self.pinned = session_id
        body = {"session_id": session_id, "work_dir": str(self.env.workdir) if self.env else ""}

        def send() -> None:
            with contextlib.suppress(ApiError):
                self.api.task(self.id, "session", body, epoch=self.epoch)

        threading.Thread(target=send, daemon=True).start()

    def post_usage(self) -> None:
        rows: dict[str, list[int]] = {m: list(v) for m, v in self.usage_base.items()}
        for model, numbers in self.usage.items():
            row = rows.setdefault(model, [0, 0, 0, 0])
            for i, n in enumerate(numbers):
                row[i] += n
        for model, numbers in self.usage_posted.items():  # a fresh-session retry adds to it
            row = rows.setdefault(model, [0, 0, 0, 0])
            for i, n in enumerate(numbers):
                row[i] += n
        entries = [
            {"provider": self.detected.provider.key, "model": model, "input_tokens": n[0],
             "output_tokens": n[1], "cache_read_tokens": n[2], "cache_write_tokens": n[3]}
            for model, n in sorted(rows.items()) if any(n)
        ]  # fmt: skip
        if not entries:
            return
        try:
            self.api.task(self.id, "usage", {"usage": entries}, epoch=self.epoch)
        except ApiError as exc:  # 404 until the server has the route; never fatal
            log.info("task %s: usage not recorded (%s)", self.id, exc)

    # --- the run -------------------------------------------------------------------------

    def execute(self) -> None:
        try:
            self._execute()
        except Exception:
            log.exception("task %s: unexpected daemon error", self.id)
            self.report("fail", {"error": "daemon error while running the task",
                                 "failure_reason": "agent_error.unknown"})  # fmt: skip
        finally:
            if self.env is not None:
                self.env.cleanup()
            self.daemon.task_done(self)

    def _execute(self) -> None:
        task = self.task
        token = str(task.get("auth_token") or "")
        agent = task.get("agent") or {}
        if not token.startswith("mat_") or not task.get("workspace_id"):
            log.warning("task %s: no task token or workspace; refusing to run", self.id)
            self.report("fail", {"error": "task has no task token",
                                 "failure_reason": "invalid_task_identity"})  # fmt: skip
            return
        if str(agent.get("id") or "") != str(task.get("agent_id") or ""):
            self.report("fail", {"error": "agent id mismatch",
                                 "failure_reason": "invalid_task_identity"})  # fmt: skip
            return
        lease_stop = threading.Event()
        threading.Thread(target=self._lease_loop, args=(lease_stop,), daemon=True).start()
        try:
            try:
                agent["skills"] = self._resolve_skills(agent)
            except SkillBundleError as exc:
                log.warning("task %s: %s", self.id, exc)
                self.report("fail", {"error": str(exc),
                                     "failure_reason": "skill_bundle_unavailable"})  # fmt: skip
                return
            if not task.get("repos"):  # the workspace's repositories, as registered
                known = self.daemon.repos.get(str(task.get("workspace_id")), set())
                task["repos"] = [{"url": url} for url in sorted(known)]
            self.env = execenv.prepare(self.daemon.settings.workspaces_root, task,
                                       self.detected.provider)  # fmt: skip
            env = execenv.build_env(
                task, self.env, server_url=self.daemon.api.server_url, slot=self.slot,
                health_port=self.daemon.settings.health_port,
                workspaces_root=self.daemon.settings.workspaces_root,
            )  # fmt: skip
            if not self._start():
                return
        finally:
            lease_stop.set()
        with contextlib.suppress(ApiError):
            summary = f"Launching {self.detected.provider.key}"
            self.api.task(self.id, "progress", {"summary": summary, "step": 1, "total": 2})
        batcher = MessageBatcher(
            self.api, self.id, self.epoch, scrub=self.scrub,
            on_lease_lost=lambda: self.interrupt("server"),
        )  # fmt: skip
        batcher.start()
        resume = str(task.get("prior_session_id") or "") if self.env.reused else ""
        expected_resume = bool(task.get("prior_session_id"))
        outcome = self._run_once(env, batcher, resume, continuity_lost=expected_resume
                                 and not resume)  # fmt: skip
        if (
            resume
            and outcome.status == "failed"
            and outcome.reason == "resume_rejected"
            and not self.cancel.is_set()
        ):
            log.info("task %s: resume of %s rejected; starting a fresh session", self.id, resume)
            self.usage_posted = self._merged_usage()
            self.usage, self.usage_base = {}, {}
            outcome = self._run_once(env, batcher, "", continuity_lost=True)
            outcome.retired_session_id = resume
        batcher.stop()
        self.post_usage()
        self._finish(outcome)
        execenv.write_gc_meta(self.env, task)

    def _resolve_skills(self, agent: dict[str, Any]) -> list[dict[str, Any]]:
        """Inline ``skills``, or ``skill_refs`` resolved through the server (daemon contract
        §1.9) and kept in ``<root>/.skill-cache/v1`` by workspace, source, id and hash."""
        refs = agent.get("skill_refs")
        if not isinstance(refs, list):
            return list(agent.get("skills") or [])
        cache_root = self.daemon.settings.workspaces_root / ".skill-cache" / "v1"
        runtime_id = str(self.task.get("runtime_id") or "")
        out = []
        for ref in refs:
            if not isinstance(ref, dict) or not ref.get("id"):
                continue
            parts = [str(self.task.get("workspace_id")), str(ref.get("source") or "workspace"),
                     str(ref["id"]), str(ref.get("hash") or "nohash")]  # fmt: skip
            if any(not re.fullmatch(r"[A-Za-z0-9_.-]+", p) or p in (".", "..") for p in parts):
                raise SkillBundleError(f"invalid skill reference {ref.get('name')!r}")
            cached = cache_root.joinpath(*parts).with_suffix(".json")
            with contextlib.suppress(OSError, ValueError):
                out.append(json.loads(cached.read_text()))
                continue
            bundle = self._fetch_bundle(runtime_id, ref)
            write_private(cached, bundle)
            out.append(bundle)
        return out

    def _fetch_bundle(self, runtime_id: str, ref: dict[str, Any]) -> dict[str, Any]:
        size = int(ref.get("size_bytes") or 0)
        timeout = min(max(size / (50 * 1024), 30.0), 300.0)
        path = f"/api/daemon/runtimes/{runtime_id}/tasks/{self.id}/skill-bundles/resolve"
        last = ""
        for delay in (0.0, 0.5, 2.0):
            time.sleep(delay)
            try:
                got = self.api.call("POST", path, {"skills": [ref]}, timeout=timeout) or {}
            except ApiError as exc:
                last = str(exc)
                if exc.transient:
                    continue
                break
            for bundle in got.get("bundles") or []:
                if (
                    str(bundle.get("id")) == str(ref["id"])
                    and bundle.get("source", "workspace") == ref.get("source", "workspace")
                    and (not ref.get("hash") or bundle.get("hash") == ref.get("hash"))
                ):
                    return bundle
            last = "the server returned no matching bundle"
            break
        raise SkillBundleError(f"skill {ref.get('name')!r} unavailable: {last}")

    def _start(self) -> bool:
        """``POST …/start``, retried on transient errors while the prepare lease is kept."""
        for delay in (1.0, 2.0, 4.0, 8.0, 0.0):
            try:
                self.api.task(self.id, "start", {}, epoch=self.epoch)
                return True
            except ApiError as exc:
                if not exc.transient or not delay:
                    log.warning("task %s: start refused (%s); dropping it", self.id, exc)
                    return False
                if self.daemon.stopping.wait(delay):
                    self.report("fail", {"error": "the daemon shut down before the task started",
                                         "failure_reason": "runtime_recovery"})  # fmt: skip
                    return False
        return False

    def _merged_usage(self) -> dict[str, list[int]]:
        rows = {m: list(v) for m, v in self.usage_base.items()}
        for model, numbers in self.usage.items():
            row = rows.setdefault(model, [0, 0, 0, 0])
            for i, n in enumerate(numbers):
                row[i] += n
        return rows

    def _lease_loop(self, stop: threading.Event) -> None:
        runtime_id = str(self.task.get("runtime_id") or "")
        while not stop.wait(self.daemon.settings.prepare_lease_interval):
            with contextlib.suppress(ApiError):
                self.api.prepare_lease(runtime_id, self.id, self.epoch)

    def _finish(self, outcome: Outcome) -> None:
        extra: dict[str, Any] = {"work_dir": str(self.env.workdir) if self.env else ""}
        if outcome.session_id:
            extra["session_id"] = outcome.session_id
        if outcome.retired_session_id:
            extra["retired_session_id"] = outcome.retired_session_id
        extra = {k: v for k, v in extra.items() if v}
        if outcome.status == "cancelled" and self.cancel_reason == "shutdown":
            self.report("fail", {"error": "the daemon shut down while the agent was running",
                                 "failure_reason": "runtime_recovery", **extra})  # fmt: skip
            return
        if outcome.status == "cancelled" or self.cancel_reason == "server":
            self.report("cancel-ack", {})
            return
        if outcome.status == "completed":
            try:  # the task may have been cancelled while the agent finished
                status = self.api.task_status(self.id)
            except ApiError as exc:
                status = "gone" if exc.status == 404 else ""
            if status in TERMINAL or status == "gone":
                self.report("cancel-ack", {})
                return
            with contextlib.suppress(ApiError):
                self.api.task(self.id, "progress", {"summary": "Finishing task", "step": 2,
                                                    "total": 2})  # fmt: skip
            self.report("complete", {"output": outcome.output, **extra})
            return
        self.report("fail", {"error": outcome.error[:8000] or "agent failed",
                             "failure_reason": outcome.reason or classify(outcome.error),
                             **extra})  # fmt: skip

    def _make_session(self, events: Events, write: Any, prompt: str, resume: str) -> Any:
        provider = self.detected.provider
        model = model_for(provider, self.task.get("agent") or {})
        kw: dict[str, Any] = {"prompt": prompt, "model": model}
        workdir = str(self.env.workdir) if self.env else ""
        if provider.protocol == "claude":
            return sessions.ClaudeSession(events, write, **kw)
        if provider.protocol == "codex" and codex_protocol() == "exec":
            return sessions.CodexExecSession(events, write, **kw)
        if provider.protocol == "codex":
            return sessions.CodexSession(events, write, resume=resume, workdir=workdir,
                                         agent=self.task.get("agent") or {},
                                         thread_name=str(self.task.get("thread_name") or ""),
                                         timers=codex_timers(self.daemon.settings),
                                         **kw)  # fmt: skip
        if provider.protocol == "acp":
            if provider.key == "kimi":
                kw["prompt"] = execenv.brief(self.task, provider) + "\n\n---\n\n" + prompt
            return sessions.AcpSession(
                events,
                write,
                resume=resume,
                workdir=workdir,
                resume_method=ACP_RESUME.get(provider.key, ""),
                **kw,
            )
        return sessions.JsonLinesSession(
            events, write, provider=provider.key, prompt_on_stdin=provider.key != "copilot", **kw
        )

    def _run_once(
        self, env: dict[str, str], batcher: MessageBatcher, resume: str, *, continuity_lost: bool
    ) -> Outcome:
        assert self.env is not None  # noqa: S101
        provider = self.detected.provider
        prompt = execenv.prompt(self.task, continuity_lost=continuity_lost)
        if provider.key == "pi" and not resume:
            sessions_dir = Path.home() / ".multica" / "pi-sessions"
            sessions_dir.mkdir(parents=True, exist_ok=True)
            resume = str(sessions_dir / time.strftime("%Y%m%dT%H%M%SZ.jsonl", time.gmtime()))
            Path(resume).touch()
        mcp_path = self._mcp_config_file() if provider.key == "claude" else None
        argv = command_line(provider, self.detected.path, self.task.get("agent") or {},
                            prompt=prompt, resume=resume or None,
                            workdir=str(self.env.workdir), mcp_config_path=mcp_path)  # fmt: skip
        events = Events(self, batcher)
        try:
            proc = subprocess.Popen(  # noqa: S603 - the provider CLI detected on PATH
                argv, cwd=self.env.workdir, env=env, stdin=subprocess.PIPE,
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True,
                text=True, bufsize=1,
            )  # fmt: skip
        except OSError as exc:
            return Outcome("failed", error=f"cannot start {provider.key}: {exc}",
                           reason="agent_error.runtime_missing_executable")  # fmt: skip
        self.proc = proc
        self.daemon.record_running(self, proc)
        write_lock = threading.Lock()

        def write(line: str | None) -> None:
            with write_lock:
                try:
                    if line is None:
                        if proc.stdin and not proc.stdin.closed:
                            proc.stdin.close()
                    elif proc.stdin and not proc.stdin.closed:
                        proc.stdin.write(line.rstrip("\n") + "\n")
                        proc.stdin.flush()
                except (OSError, ValueError):
                    pass

        session = self._make_session(events, write, prompt, resume)
        stderr_tail: deque[str] = deque(maxlen=64)

        def read_out() -> None:
            assert proc.stdout is not None  # noqa: S101
            for line in proc.stdout:
                batcher.last_activity = time.monotonic()
                try:
                    session.on_line(line)
                except Exception:
                    log.exception("task %s: bad provider event", self.id)

        def read_err() -> None:
            assert proc.stderr is not None  # noqa: S101
            for line in proc.stderr:
                stderr_tail.append(line)

        reader = threading.Thread(target=read_out, daemon=True)
        err_reader = threading.Thread(target=read_err, daemon=True)
        reader.start()
        err_reader.start()
        session.begin()
        settings = self.daemon.settings
        started = time.monotonic()
        next_poll = started + settings.status_poll_interval
        timed_out = idle = False
        done_at = 0.0
        while proc.poll() is None:
            if self.cancel.wait(0.1):
                break
            now = time.monotonic()
            session.check_timers(now)
            if session.done:
                # The result is in: the CLI gets a moment to exit by itself (stdin is closed),
                # then the code after this loop stops it.
                done_at = done_at or now
                if not reader.is_alive() or now - done_at > 1.0:
                    break
            if settings.agent_timeout and now - started > settings.agent_timeout:
                timed_out = True
                break
            limit = settings.tool_watchdog if batcher.open_tools else settings.idle_watchdog
            if limit and now - batcher.last_activity > limit:
                idle = True
                break
            if now >= next_poll or self.poll_now:
                self.poll_now = False
                next_poll = now + settings.status_poll_interval
                self._poll_status()
        if proc.poll() is None and (self.cancel.is_set() or timed_out or idle):
            self.stop_process(proc, write)
        elif proc.poll() is None:
            # The session ended: give the CLI a moment to exit on its own.
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                self.stop_process(proc, write)
        reader.join(10)
        err_reader.join(2)
        if reader.is_alive():
            self.stop_process(proc, write)
            reader.join(12)
        if hasattr(session, "stream_ended"):
            session.stream_ended()
        self.daemon.clear_running(self)
        stderr = "".join(stderr_tail)[-STDERR_TAIL:]
        sid = session.session_id or self.pinned
        if self.cancel.is_set():
            return Outcome("cancelled", session_id=sid)
        if timed_out:
            return Outcome("failed", error="agent timed out", reason="timeout", session_id=sid)
        if idle:
            return Outcome("failed", error="agent produced no output for too long",
                           reason="idle_watchdog", session_id=sid)  # fmt: skip
        rejected = getattr(session, "resume_rejected", False) or (
            resume and RESUME_REJECTED.search(stderr + " " + session.error)
        )
        if resume and rejected and session.tools_run == 0 and (session.failed or not session.done):
            return Outcome("failed", error="resume rejected", reason="resume_rejected")
        if session.done and not session.failed and proc.returncode in (0, None, -15):
            return Outcome("completed", output=session.output, session_id=sid)
        error = session.error or f"{provider.key} exited with code {proc.returncode}"
        if stderr.strip():
            error += "\n" + stderr.strip()[-2000:]
        reason = session.reason or (
            classify(error) if session.done else "agent_error.process_failure"
        )
        if reason == "agent_error.unknown" and proc.returncode not in (0, None):
            reason = (
                classify(stderr)
                if classify(stderr) != "agent_error.unknown"
                else ("agent_error.process_failure")
            )
        return Outcome("failed", error=error, reason=reason, session_id=sid)

    def _mcp_config_file(self) -> str | None:
        """A managed ``mcp_config`` (any object, even ``{}``) is written to a private file for
        ``--strict-mcp-config --mcp-config``; absent or null inherits the CLI's own config."""
        config = (self.task.get("agent") or {}).get("mcp_config")
        if not isinstance(config, dict) or self.env is None:
            return None
        if "mcpServers" not in config:
            config = {"mcpServers": config}
        path = self.env.tmpdir / "multica-mcp" / "mcp-config.json"
        write_private(path, config)
        return str(path)

    def _poll_status(self) -> None:
        try:
            got = self.api.task_state(self.id)
        except ApiError as exc:
            if exc.status == 404 and "task not found" in exc.message.lower():
                self.interrupt("server")
            return
        status, epoch = str(got.get("status") or ""), got.get("lease_epoch")
        if status in TERMINAL:
            log.info("task %s is %s on the server; stopping the agent", self.id, status)
            self.interrupt("server")
        elif isinstance(epoch, int) and self.epoch is not None and epoch != self.epoch:
            log.info("task %s was leased again (epoch %s); stopping this attempt", self.id, epoch)
            self.interrupt("server")

    def interrupt(self, reason: str) -> None:
        if not self.cancel.is_set():
            self.cancel_reason = reason
            self.cancel.set()

    def stop_process(self, proc: subprocess.Popen, write: Any) -> None:
        """Close stdin, SIGTERM the process group, SIGKILL it after the grace period."""
        write(None)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(self.daemon.settings.cancel_grace)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, signal.SIGKILL)
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(5)


def process_start_time(pid: int) -> str:
    """Field 22 of ``/proc/<pid>/stat`` (guards against pid reuse); "" when unknown."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return ""
    return stat.rsplit(")", 1)[1].split()[19]


def record(path: Path, pid: int) -> None:
    write_private(path, {"pid": pid, "start": process_start_time(pid)})


def kill_leftover(path: Path) -> None:
    """A task process group left behind by a daemon that died (kill -9) is stopped."""
    try:
        data = json.loads(path.read_text())
        pid = int(data["pid"])
    except (OSError, ValueError, KeyError, TypeError):
        path.unlink(missing_ok=True)
        return
    if data.get("start") and process_start_time(pid) == data["start"]:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, signal.SIGKILL)
    path.unlink(missing_ok=True)
