"""Provider stream protocols (daemon contract §3): each session writes what its CLI expects
on stdin and turns the CLI's stdout lines into agent events for a :class:`Sink`."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from typing import Any, Protocol

from multica_cli.daemon.settings import CodexTimers

log = logging.getLogger("multica.daemon.sessions")


class Sink(Protocol):
    def text(self, content: str) -> None: ...
    def thinking(self, content: str) -> None: ...
    def tool_use(self, tool: str, call_id: str, tool_input: Any) -> None: ...
    def tool_result(self, call_id: str, output: str, tool: str = "") -> None: ...
    def error(self, content: str) -> None: ...
    def session(self, session_id: str) -> None: ...
    def usage(self, model: str, inp: int, out: int, cache_read: int, cache_write: int) -> None: ...
    def replace_usage(self, rows: dict[str, list[int]]) -> None: ...


Writer = Callable[[str | None], None]  # a line for stdin; None closes stdin


def _int(value: Any) -> int:
    try:
        return max(0, int(value or 0))
    except (TypeError, ValueError):
        return 0


def _as_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)


class Session:
    """Base: ``begin`` once after spawn, ``on_line`` per stdout line. ``done`` when a terminal
    result arrived; ``failed``/``error``/``output`` describe it."""

    def __init__(self, sink: Sink, write: Writer, *, prompt: str, model: str) -> None:
        self.sink = sink
        self.write = write
        self.prompt = prompt
        self.model = model
        self.done = False
        self.failed = False
        self.error = ""
        self.reason = ""
        self.output = ""
        self.session_id = ""
        self.tools_run = 0
        self.open_tools: set[str] = set()

    def begin(self) -> None:
        self.write(self.prompt)
        self.write(None)

    def check_timers(self, now: float) -> None:
        """Called about ten times a second by the runner: a provider-specific deadline that has
        passed ends the run (``finish``, with the reason). Most providers have none."""

    def on_line(self, line: str) -> None:
        try:
            obj = json.loads(line)
        except ValueError:
            return
        if isinstance(obj, dict):
            self.on_event(obj)

    def on_event(self, obj: dict[str, Any]) -> None:
        raise NotImplementedError

    def finish(self, *, failed: bool = False, error: str = "", output: str = "") -> None:
        self.done = True
        self.failed = failed
        self.error = error
        if output:
            self.output = output

    def _session(self, sid: Any) -> None:
        if sid and isinstance(sid, str) and sid != self.session_id:
            self.session_id = sid
            self.sink.session(sid)

    def _tool_use(self, tool: str, call_id: str, tool_input: Any) -> None:
        self.tools_run += 1
        if call_id:
            self.open_tools.add(call_id)
        self.sink.tool_use(tool, call_id, tool_input if isinstance(tool_input, dict) else {})

    def _tool_result(self, call_id: str, output: Any, tool: str = "") -> None:
        self.open_tools.discard(call_id)
        self.sink.tool_result(call_id, _as_text(output), tool)


# --- Claude Code (stream-json) ----------------------------------------------------------------


class ClaudeSession(Session):
    """``claude -p --output-format stream-json --input-format stream-json`` (§3.1)."""

    def begin(self) -> None:
        message = {
            "type": "user",
            "message": {"role": "user", "content": [{"type": "text", "text": self.prompt}]},
        }
        self.write(json.dumps(message))
        self._last_text = ""
        self._had_result = False

    def on_event(self, obj: dict[str, Any]) -> None:
        kind = obj.get("type")
        if kind == "system":
            self._session(obj.get("session_id"))
        elif kind == "assistant":
            msg = obj.get("message") or {}
            texts, tools = [], 0
            for block in msg.get("content") or []:
                btype = block.get("type")
                if btype == "text" and block.get("text"):
                    texts.append(block["text"])
                    self.sink.text(block["text"])
                elif btype == "thinking":
                    content = block.get("thinking") or block.get("text") or ""
                    if content:
                        self.sink.thinking(content)
                elif btype == "tool_use":
                    tools += 1
                    self._tool_use(str(block.get("name") or ""), str(block.get("id") or ""),
                                   block.get("input"))  # fmt: skip
            if texts and not tools:
                self._last_text = "\n".join(texts)
            usage = msg.get("usage")
            if isinstance(usage, dict):
                # Claude repeats a message's usage on every content block of that message:
                # count each message id once (its latest figures).
                per_msg = self.__dict__.setdefault("_usage_by_msg", {})
                per_msg[str(msg.get("id") or len(per_msg))] = (
                    str(msg.get("model") or self.model or "unknown"),
                    [
                        _int(usage.get("input_tokens")),
                        _int(usage.get("output_tokens")),
                        _int(usage.get("cache_read_input_tokens")),
                        _int(usage.get("cache_creation_input_tokens")),
                    ],
                )
                rows: dict[str, list[int]] = {}
                for model, numbers in per_msg.values():
                    row = rows.setdefault(model, [0, 0, 0, 0])
                    for i, n in enumerate(numbers):
                        row[i] += n
                self.sink.replace_usage(rows)
        elif kind == "user":
            content = (obj.get("message") or {}).get("content")
            for block in content if isinstance(content, list) else []:
                if block.get("type") != "tool_result":
                    continue
                raw = block.get("content")
                if isinstance(raw, dict) and raw.get("status") == "async_launched":
                    self.finish(failed=True, error="agent launched an async background task")
                self._tool_result(str(block.get("tool_use_id") or ""), raw)
        elif kind == "control_request":
            request = obj.get("request") or {}
            tool_input = dict(request.get("input") or {})
            if "run_in_background" in tool_input:
                tool_input["run_in_background"] = False
            reply = {
                "type": "control_response",
                "response": {
                    "subtype": "success",
                    "request_id": obj.get("request_id"),
                    "response": {"behavior": "allow", "updatedInput": tool_input},
                },
            }
            self.write(json.dumps(reply))
        elif kind == "result":
            self._session(obj.get("session_id"))
            model_usage = obj.get("modelUsage")
            if isinstance(model_usage, dict) and model_usage:
                self.sink.replace_usage(
                    {
                        str(m): [
                            _int(u.get("inputTokens")),
                            _int(u.get("outputTokens")),
                            _int(u.get("cacheReadInputTokens")),
                            _int(u.get("cacheCreationInputTokens")),
                        ]
                        for m, u in model_usage.items()
                        if isinstance(u, dict)
                    }
                )
            text = str(obj.get("result") or "")
            if obj.get("terminal_reason") == "prompt_too_long":
                self.reason = "agent_error.context_overflow"
                self.finish(failed=True, error=text or "prompt is too long")
            elif obj.get("is_error"):
                self.finish(failed=True, error=text or str(obj.get("subtype") or "agent error"))
            elif not self.done:
                self.finish(output=text or getattr(self, "_last_text", ""))
            self.write(None)

    def stream_ended(self) -> None:
        if not self.done:
            self.finish(failed=True, error="stream ended without terminal result")
            self.reason = self.reason or "agent_error.empty_or_unparseable_output"


# --- JSON-RPC base (Codex app-server, ACP) -----------------------------------------------------


class RpcSession(Session):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._next_id = 0
        self._pending: dict[int, Callable[[dict[str, Any]], None]] = {}
        self._sent: dict[int, tuple[str, float]] = {}  # unanswered requests: method, when

    def request(
        self, method: str, params: Any, on_reply: Callable[[dict[str, Any]], None] | None = None
    ) -> None:
        self._next_id += 1
        self._pending[self._next_id] = on_reply or (lambda _reply: None)
        self._sent[self._next_id] = (method, time.monotonic())
        self.write(json.dumps({"jsonrpc": "2.0", "id": self._next_id, "method": method,
                               "params": params}))  # fmt: skip

    def notify(self, method: str, params: Any = None) -> None:
        frame: dict[str, Any] = {"jsonrpc": "2.0", "method": method}
        if params is not None:
            frame["params"] = params
        self.write(json.dumps(frame))

    def respond(self, req_id: Any, result: Any = None, error: dict[str, Any] | None = None) -> None:
        frame: dict[str, Any] = {"jsonrpc": "2.0", "id": req_id}
        if error is not None:
            frame["error"] = error
        else:
            frame["result"] = result
        self.write(json.dumps(frame))

    def on_event(self, obj: dict[str, Any]) -> None:
        if "method" in obj and "id" in obj:
            self.on_request(obj["id"], str(obj["method"]), obj.get("params") or {})
        elif "method" in obj:
            self.on_notification(str(obj["method"]), obj.get("params") or {})
        elif "id" in obj:
            handler = None
            if isinstance(obj["id"], int):
                handler = self._pending.pop(obj["id"], None)
                self._sent.pop(obj["id"], None)
            if handler is not None:
                handler(obj)

    def on_request(self, req_id: Any, method: str, params: dict[str, Any]) -> None:
        self.respond(req_id, error={"code": -32601, "message": f"unsupported method {method}"})

    def on_notification(self, method: str, params: dict[str, Any]) -> None:
        return

    def rpc_failed(self, reply: dict[str, Any], what: str) -> bool:
        if "error" in reply:
            err = reply.get("error") or {}
            self.finish(failed=True, error=f"{what}: {err.get('message') or err}")
            self.write(None)
            return True
        return False

    def stream_ended(self) -> None:
        if not self.done:
            self.finish(failed=True, error="stream ended without terminal result")
            self.reason = self.reason or "agent_error.empty_or_unparseable_output"


# --- Codex (app-server JSON-RPC) ---------------------------------------------------------------

# The texts Multica's server classifies (both timeouts as ``codex_semantic_inactivity``: the
# thread may be mid-turn, so a retry must not resume it blindly).
CODEX_SEMANTIC_MARKER = "codex semantic inactivity timeout"
CODEX_FIRST_TURN_MARKER = "codex app-server no progress timeout"
CODEX_HANDSHAKE_TIMEOUT_MARKER = "codex app-server handshake timeout"
HANDSHAKE_METHODS = frozenset({"initialize", "thread/start", "thread/resume", "turn/start"})


def _secs(value: float) -> str:
    return f"{value:g}s"


def _command(value: Any) -> str:
    if isinstance(value, list):
        return " ".join(str(part) for part in value)
    return str(value or "")


APPROVALS = {
    "item/commandExecution/requestApproval",
    "execCommandApproval",
    "item/fileChange/requestApproval",
    "applyPatchApproval",
}


class CodexSession(RpcSession):
    """``codex app-server --listen stdio://`` (§3.2): handshake, thread start/resume, one turn."""

    def __init__(self, *args: Any, resume: str = "", workdir: str = "", agent: dict | None = None,
                 thread_name: str = "", timers: CodexTimers | None = None,
                 **kwargs: Any) -> None:  # fmt: skip
        super().__init__(*args, **kwargs)
        self.resume = resume
        self.workdir = workdir
        self.agent = agent or {}
        self.thread_name = thread_name
        self.thread_id = ""
        self.resume_rejected = False
        self.timers = timers or CodexTimers()
        self._turn_started = False
        self._items: dict[str, str] = {}
        self._last_text = ""
        self._lock = threading.RLock()  # stdout reader thread vs the runner's timer checks
        self._turn_started_at = 0.0
        self._progressed = False  # anything but status since the turn started
        self._last_activity = ""
        self._last_activity_at = 0.0
        self._legacy_usage = [0, 0, 0, 0]
        self._dialect = ""  # "legacy" once a codex/event notification arrived

    # --- timers (§3.2: handshake, first-turn no-progress, semantic inactivity) ------------------

    def on_line(self, line: str) -> None:
        with self._lock:
            super().on_line(line)

    def _activity(self, what: str) -> None:
        """Semantic progress (an item, a message, a tool, a turn end, an error). ``status:running``
        (turn start) re-arms the inactivity timer without counting as first-turn progress."""
        now = time.monotonic()
        if what == "status:running":
            if not self._turn_started_at:
                self._turn_started_at = now
        elif what != "error:retry":
            self._progressed = True
        self._last_activity = what
        self._last_activity_at = now

    def _handshake_budget(self, method: str) -> float:
        if method in ("thread/start", "thread/resume"):
            return self.timers.thread_handshake
        return self.timers.handshake

    def check_timers(self, now: float) -> None:
        with self._lock:
            if self.done:
                return
            for method, sent_at in list(self._sent.values()):
                if method not in HANDSHAKE_METHODS:
                    continue
                budget = self._handshake_budget(method)
                if budget and now - sent_at > budget:
                    self._timed_out(f"{CODEX_HANDSHAKE_TIMEOUT_MARKER}: {method} did not respond "
                                    f"after {_secs(budget)}", reason="")  # fmt: skip
                    return
            if not self._turn_started_at:
                return
            first = self.timers.first_turn
            if first and not self._progressed and now - self._turn_started_at > first:
                self._timed_out(
                    f"{CODEX_FIRST_TURN_MARKER} after {_secs(first)}: received turn start but no "
                    f"item, message, tool, turn/completed, or error event ({self._diag()})"
                )
                return
            semantic = self.timers.semantic
            if semantic and now - self._last_activity_at > semantic:
                self._timed_out(
                    f"{CODEX_SEMANTIC_MARKER} after {_secs(semantic)} without agent progress "
                    f"(last activity: {self._last_activity or 'unknown'}; {self._diag()})"
                )

    def _diag(self) -> str:
        return f'thread_id="{self.thread_id or "unknown"}" model="{self.model or "default(empty)"}"'

    def _timed_out(self, error: str, reason: str = "codex_semantic_inactivity") -> None:
        log.warning("codex: %s", error)
        self.finish(failed=True, error=error)
        self.reason = reason
        self.write(None)

    def _effort_config(self) -> dict[str, Any] | None:
        level = str(self.agent.get("thinking_level") or "")
        return {"model_reasoning_effort": level} if level else None

    def begin(self) -> None:
        self.request(
            "initialize",
            {"clientInfo": {"name": "multica-agent-sdk", "title": "Multica Agent SDK",
                            "version": "0.2.0"},
             "capabilities": {"experimentalApi": True}},
            self._initialized,
        )  # fmt: skip

    def _initialized(self, reply: dict[str, Any]) -> None:
        if self.rpc_failed(reply, "initialize"):
            return
        self.notify("initialized")
        if self.resume:
            params: dict[str, Any] = {
                "threadId": self.resume,
                "cwd": self.workdir,
                "model": self.model or None,
                "developerInstructions": None,
            }
            if self._effort_config():
                params["config"] = self._effort_config()
            self.request("thread/resume", params, self._resumed)
        else:
            self._start_thread()

    def _start_thread(self) -> None:
        params = {
            "model": self.model or None, "modelProvider": None, "profile": None,
            "cwd": self.workdir, "approvalPolicy": None, "sandbox": None,
            "config": self._effort_config(), "baseInstructions": None,
            "developerInstructions": None, "compactPrompt": None,
            "includeApplyPatchTool": None, "experimentalRawEvents": False,
            "persistExtendedHistory": True,
        }  # fmt: skip
        tier = str(self.agent.get("service_tier") or "")
        if tier:
            params["serviceTier"] = tier
        self.request("thread/start", params, self._started)

    def _resumed(self, reply: dict[str, Any]) -> None:
        if "error" in reply:
            self.resume_rejected = True
            self._start_thread()
            return
        self._thread_ready(reply)

    def _started(self, reply: dict[str, Any]) -> None:
        if self.rpc_failed(reply, "thread/start"):
            return
        self._thread_ready(reply)
        if self.thread_name:
            self.request("thread/name/set", {"threadId": self.thread_id, "name": self.thread_name})

    def _thread_ready(self, reply: dict[str, Any]) -> None:
        thread = (reply.get("result") or {}).get("thread") or {}
        self.thread_id = str(thread.get("id") or "")
        self._session(self.thread_id)
        params: dict[str, Any] = {
            "threadId": self.thread_id,
            "input": [{"type": "text", "text": self.prompt}],
        }
        level = str(self.agent.get("thinking_level") or "")
        if level:
            params["effort"] = level
        self.request("turn/start", params, self._turn_reply)

    def _turn_reply(self, reply: dict[str, Any]) -> None:
        self.rpc_failed(reply, "turn/start")

    def on_request(self, req_id: Any, method: str, params: dict[str, Any]) -> None:
        if method in APPROVALS:
            self.respond(req_id, {"decision": "accept"})
        elif method == "item/permissions/requestApproval":
            wanted = params.get("permissions") or {}
            self.respond(req_id, {"permissions": wanted, "scope": "turn"})
        elif method == "mcpServer/elicitation/request":
            self.respond(req_id, {"action": "accept", "content": None, "_meta": None})
        else:
            super().on_request(req_id, method, params)
            self.finish(failed=True, error=f"unsupported codex request {method}")
            self.write(None)

    def _numbers(self, usage: Any) -> list[int] | None:
        if not isinstance(usage, dict):
            return None
        inp = _int(usage.get("input_tokens", usage.get("inputTokens")))
        cached = _int(usage.get("cached_input_tokens", usage.get("cachedInputTokens")))
        out = _int(usage.get("output_tokens", usage.get("outputTokens")))
        out += _int(usage.get("reasoning_output_tokens", usage.get("reasoningOutputTokens")))
        # Codex counts cached input inside input: report it uncached, cache reads apart.
        return [max(0, inp - cached), out, cached, 0]

    def _usage(self, usage: Any) -> None:
        """A whole-run figure (``turn.usage``) replaces what was summed so far."""
        numbers = self._numbers(usage)
        if numbers is not None and any(numbers):
            self._run_usage = numbers
            self.sink.replace_usage({self.model or "unknown": list(numbers)})

    def _usage_update(self, token_usage: dict[str, Any]) -> None:
        """``thread/tokenUsage/updated``: ``last`` is one model response, ``total`` the whole
        thread (earlier runs included), so this run is the sum of its ``last`` figures."""
        last = self._numbers(token_usage.get("last"))
        if last is None:
            self._usage(token_usage.get("total") or token_usage)
            return
        run = getattr(self, "_run_usage", [0, 0, 0, 0])
        self._run_usage = [a + b for a, b in zip(run, last, strict=True)]
        self.sink.replace_usage({self.model or "unknown": list(self._run_usage)})

    def on_notification(self, method: str, params: dict[str, Any]) -> None:
        thread = params.get("threadId") or (params.get("thread") or {}).get("id")
        if thread and self.thread_id and thread != self.thread_id:
            return
        if method == "codex/event" or method.startswith("codex/event/"):
            # The older dialect: once seen, it is the turn's dialect (Codex builds that send
            # both would otherwise report every step twice).
            self._dialect = "legacy"
            if isinstance(params.get("msg"), dict):
                self._legacy(params["msg"])
            return
        if self._dialect == "legacy":
            return
        if method == "turn/started":
            self._turn_started = True
            self._activity("status:running")
            self._session(self.thread_id)
        elif method.startswith("item/"):
            self._activity(method)
        elif method == "error":
            self._activity("error:retry" if params.get("willRetry") else "error")
        elif method == "turn/completed":
            self._activity(method)
        if method in ("item/started", "item/completed"):
            self._item(method == "item/completed", params.get("item") or {})
        elif method == "thread/tokenUsage/updated":
            self._usage_update(params.get("tokenUsage") or {})
        elif method == "turn/completed":
            turn = params.get("turn") or {}
            self._usage(turn.get("usage") or params.get("usage"))
            status = str(turn.get("status") or "completed")
            if status in ("failed", "cancelled", "interrupted", "aborted"):
                message = str((turn.get("error") or {}).get("message") or f"turn {status}")
                self.finish(failed=True, error=message)
            elif not self.done:
                self.finish(output=self._last_text)
            self.write(None)
        elif method == "error":
            if not params.get("willRetry"):
                message = str((params.get("error") or {}).get("message") or "codex error")
                self.sink.error(message)
                self.finish(failed=True, error=message)
                self.write(None)
        elif method == "thread/status/changed":
            status = params.get("status") or {}
            if self._turn_started and status.get("type") == "idle" and not self.done:
                self.finish(output=self._last_text)
                self.write(None)

    def _legacy(self, msg: dict[str, Any]) -> None:
        """The older ``codex/event`` notifications (``params.msg.type``), mapped as the v2 items
        are: the same tool names, texts, usage and turn end."""
        kind = str(msg.get("type") or "")
        call_id = str(msg.get("call_id") or "")
        if kind == "task_started":
            self._turn_started = True
            self._activity("status:running")
            self._session(self.thread_id)
            return
        if kind in ("token_count", "agent_message_delta", "agent_reasoning_delta", ""):
            if kind == "token_count":
                self._legacy_tokens(msg.get("info") or {})
            return
        self._activity(f"legacy:{kind}")
        if kind == "agent_message":
            text = str(msg.get("message") or "")
            if text:
                self.sink.text(text)
                self._last_text = text
        elif kind == "exec_command_begin":
            self._tool_use("exec_command", call_id, {"command": _command(msg.get("command"))})
        elif kind == "exec_command_end":
            if call_id not in self.open_tools:
                self._tool_use("exec_command", call_id, {"command": _command(msg.get("command"))})
            output = msg.get("aggregated_output") or msg.get("formatted_output")
            if output is None:
                output = str(msg.get("stdout") or "") + str(msg.get("stderr") or "")
            self._tool_result(call_id, str(output), "exec_command")
        elif kind == "patch_apply_begin":
            self._tool_use("patch_apply", call_id, {"changes": msg.get("changes")})
        elif kind == "patch_apply_end":
            if call_id not in self.open_tools:
                self._tool_use("patch_apply", call_id, {"changes": msg.get("changes")})
            status = "completed" if msg.get("success", True) else "failed"
            detail = str(msg.get("stdout") or msg.get("stderr") or "").strip()
            self._tool_result(call_id, f"{status}\n{detail}".strip(), "patch_apply")
        elif kind in ("mcp_tool_call_begin", "mcp_tool_call_end"):
            inv = msg.get("invocation") or {}
            name = f"{inv.get('server') or ''}/{inv.get('tool') or ''}"
            if kind == "mcp_tool_call_begin" or call_id not in self.open_tools:
                self._tool_use(name, call_id, inv.get("arguments") or {})
            if kind == "mcp_tool_call_end":
                self._tool_result(call_id, msg.get("result") or "", name)
        elif kind == "task_complete":
            if not self.done:
                self.finish(output=str(msg.get("last_agent_message") or self._last_text))
            self.write(None)
        elif kind == "turn_aborted":
            self.finish(failed=True, error=f"turn aborted: {msg.get('reason') or 'unknown'}")
            self.write(None)
        elif kind in ("error", "stream_error"):
            message = str(msg.get("message") or "codex error")
            self.sink.error(message)
            if kind == "error":
                self.finish(failed=True, error=message)
                self.write(None)

    def _legacy_tokens(self, info: dict[str, Any]) -> None:
        """``token_count``: ``last_token_usage`` is one model response; this run is their sum."""
        last = self._numbers(info.get("last_token_usage"))
        if last is None:
            return
        self._legacy_usage = [a + b for a, b in zip(self._legacy_usage, last, strict=True)]
        self.sink.replace_usage({self.model or "unknown": list(self._legacy_usage)})

    def _item(self, completed: bool, item: dict[str, Any]) -> None:
        kind = item.get("type")
        item_id = str(item.get("id") or "")
        if kind == "commandExecution":
            if not completed:
                self._tool_use("exec_command", item_id, {"command": item.get("command")})
            else:
                if item_id not in self.open_tools:
                    self._tool_use("exec_command", item_id, {"command": item.get("command")})
                self._tool_result(item_id, str(item.get("aggregatedOutput") or ""),
                                  "exec_command")  # fmt: skip
        elif kind == "fileChange":
            if not completed:
                self._tool_use("patch_apply", item_id, {"changes": item.get("changes")})
            else:
                if item_id not in self.open_tools:
                    self._tool_use("patch_apply", item_id, {"changes": item.get("changes")})
                self._tool_result(item_id, f"{item.get('status') or 'completed'}",
                                  "patch_apply")  # fmt: skip
        elif kind == "mcpToolCall":
            name = f"{item.get('server') or ''}/{item.get('tool') or ''}"
            if not completed:
                self._tool_use(name, item_id, item.get("arguments") or {})
            else:
                if item_id not in self.open_tools:
                    self._tool_use(name, item_id, item.get("arguments") or {})
                self._tool_result(item_id, item.get("result") or item.get("error") or "", name)
        elif kind == "agentMessage" and completed:
            text = str(item.get("text") or "")
            if text:
                self.sink.text(text)
                self._last_text = text
            if item.get("phase") == "final_answer" and not self.done:
                self.finish(output=text)
        elif kind == "reasoning" and completed:
            summary = item.get("summary") or []
            text = "\n".join(s for s in summary if isinstance(s, str))
            if text:
                self.sink.thinking(text)


# --- ACP (hermes, kimi, kiro, …) ----------------------------------------------------------------


class AcpSession(RpcSession):
    """Agent Client Protocol over stdio (§3.3)."""

    def __init__(self, *args: Any, resume: str = "", workdir: str = "", resume_method: str = "",
                 **kwargs: Any) -> None:  # fmt: skip
        super().__init__(*args, **kwargs)
        self.resume = resume
        self.workdir = workdir
        self.resume_method = resume_method or "session/resume"
        self.resume_rejected = False
        self._text: list[str] = []

    def begin(self) -> None:
        self.request(
            "initialize",
            {"protocolVersion": 1, "clientInfo": {"name": "multica-agent-sdk", "version": "0.2.0"},
             "clientCapabilities": {}},
            self._initialized,
        )  # fmt: skip

    def _initialized(self, reply: dict[str, Any]) -> None:
        if self.rpc_failed(reply, "initialize"):
            return
        if self.resume:
            params = {"cwd": self.workdir, "sessionId": self.resume, "mcpServers": []}
            self.request(self.resume_method, params, self._resumed)
        else:
            self.request("session/new", {"cwd": self.workdir, "mcpServers": []}, self._created)

    def _resumed(self, reply: dict[str, Any]) -> None:
        if "error" in reply:
            self.resume_rejected = True
            self.request("session/new", {"cwd": self.workdir, "mcpServers": []}, self._created)
            return
        self._session(self.resume)
        self._prompt()

    def _created(self, reply: dict[str, Any]) -> None:
        if self.rpc_failed(reply, "session/new"):
            return
        self._session(str((reply.get("result") or {}).get("sessionId") or ""))
        if self.model:
            self.request("session/set_model", {"sessionId": self.session_id,
                                               "modelId": self.model})  # fmt: skip
        self._prompt()

    def _prompt(self) -> None:
        params = {"sessionId": self.session_id, "prompt": [{"type": "text", "text": self.prompt}]}
        self.request("session/prompt", params, self._prompted)

    def _prompted(self, reply: dict[str, Any]) -> None:
        if self.rpc_failed(reply, "session/prompt"):
            return
        result = reply.get("result") or {}
        usage = result.get("usage") or (result.get("_meta") or {}).get("usage")
        self._usage(usage)
        self.finish(output="".join(self._text))
        self.write(None)

    def _usage(self, usage: Any) -> None:
        if not isinstance(usage, dict):
            return

        def pick(*keys: str) -> int:
            for key in keys:
                if key in usage:
                    return _int(usage[key])
            return 0

        self.sink.replace_usage({self.model or "unknown": [
            pick("inputTokens", "input_tokens"),
            pick("outputTokens", "output_tokens"),
            pick("cachedReadTokens", "cacheReadTokens", "cached_input_tokens"),
            pick("cachedWriteTokens", "cache_creation_input_tokens"),
        ]})  # fmt: skip

    def on_request(self, req_id: Any, method: str, params: dict[str, Any]) -> None:
        if method == "session/request_permission":
            options = params.get("options") or []
            allow = next((o for o in options if str(o.get("kind", "")).startswith("allow")),
                         options[0] if options else {})  # fmt: skip
            self.respond(req_id, {"outcome": {"outcome": "selected",
                                              "optionId": allow.get("optionId")}})  # fmt: skip
        else:
            super().on_request(req_id, method, params)

    def on_notification(self, method: str, params: dict[str, Any]) -> None:
        if method != "session/update":
            return
        update = params.get("update") or {}
        kind = update.get("sessionUpdate")
        content = update.get("content") or {}
        text = content.get("text") if isinstance(content, dict) else None
        if kind == "agent_message_chunk" and text:
            self._text.append(text)
            self.sink.text(text)
        elif kind == "agent_thought_chunk" and text:
            self.sink.thinking(text)
        elif kind == "tool_call":
            self._tool_use(
                str(update.get("title") or update.get("kind") or "tool"),
                str(update.get("toolCallId") or ""),
                update.get("rawInput") or {},
            )
        elif kind == "tool_call_update" and update.get("status") in ("completed", "failed"):
            self._tool_result(
                str(update.get("toolCallId") or ""),
                update.get("rawOutput") or update.get("content") or "",
            )
        elif kind == "usage_update":
            self._usage(update.get("usage") or update)


# --- one-shot JSON-lines CLIs ------------------------------------------------------------------


class JsonLinesSession(Session):
    """copilot / opencode / cursor / pi (§3.3): the prompt on stdin (or argv), events out."""

    def __init__(self, *args: Any, provider: str = "", prompt_on_stdin: bool = True,
                 **kwargs: Any) -> None:  # fmt: skip
        super().__init__(*args, **kwargs)
        self.provider = provider
        self.prompt_on_stdin = prompt_on_stdin
        self._text: list[str] = []

    def begin(self) -> None:
        if self.prompt_on_stdin:
            self.write(self.prompt)
        self.write(None)

    def stream_ended(self) -> None:
        if not self.done:
            self.finish(output="".join(self._text))

    def _say(self, text: Any) -> None:
        if isinstance(text, str) and text:
            self._text.append(text)
            self.sink.text(text)

    def on_event(self, obj: dict[str, Any]) -> None:
        kind = str(obj.get("type") or "")
        p = self.provider
        if p == "copilot":
            data = obj.get("data") or {}
            if kind == "session.start":
                self._session(data.get("sessionId"))
            elif kind == "assistant.message":
                if data.get("reasoningText"):
                    self.sink.thinking(str(data["reasoningText"]))
                self._say(data.get("content"))
                for req in data.get("toolRequests") or []:
                    self._tool_use(str(req.get("name") or ""), str(req.get("toolCallId") or ""),
                                   req.get("arguments") or {})  # fmt: skip
            elif kind == "tool.execution_complete":
                self._tool_result(str(data.get("toolCallId") or ""), data.get("result") or "")
            elif kind == "assistant.usage":
                self.sink.usage(str(data.get("model") or self.model or "unknown"),
                                _int(data.get("inputTokens")), _int(data.get("outputTokens")),
                                _int(data.get("cacheReadTokens")),
                                _int(data.get("cacheWriteTokens")))  # fmt: skip
            elif kind == "session.error":
                self.finish(failed=True, error=str(data.get("message") or "copilot error"))
            elif kind == "result":
                self._session(obj.get("sessionId"))
                if _int(obj.get("exitCode")):
                    self.finish(failed=True, error=f"copilot exited {obj.get('exitCode')}")
                elif not self.done:
                    self.finish(output="".join(self._text))
        elif p == "opencode":
            self._session(obj.get("sessionID"))
            part = obj.get("part") or {}
            if kind == "text":
                self._say(part.get("text"))
            elif kind == "tool_use":
                state = part.get("state") or {}
                call = str(part.get("callID") or "")
                self._tool_use(str(part.get("tool") or ""), call, state.get("input") or {})
                if state.get("status") in ("completed", "error"):
                    self._tool_result(call, state.get("output") or state.get("error") or "")
            elif kind == "step_finish":
                tokens = part.get("tokens") or {}
                cache = tokens.get("cache") or {}
                self.sink.usage(self.model or "unknown", _int(tokens.get("input")),
                                _int(tokens.get("output")) + _int(tokens.get("reasoning")),
                                _int(cache.get("read")), _int(cache.get("write")))  # fmt: skip
            elif kind == "error":
                err = obj.get("error") or {}
                self.finish(failed=True, error=str(err.get("message") if isinstance(err, dict)
                                                   else err))  # fmt: skip
        elif p == "cursor":
            if kind == "system":
                self._session(obj.get("session_id"))
            elif kind == "assistant":
                for block in (obj.get("message") or {}).get("content") or []:
                    if block.get("type") == "text":
                        self._say(block.get("text"))
            elif kind == "thinking" and obj.get("text"):
                self.sink.thinking(str(obj["text"]))
            elif kind == "tool_call":
                call = str(obj.get("call_id") or "")
                body = obj.get("tool_call") or {}
                name = next(iter(body), "tool") if isinstance(body, dict) else "tool"
                if obj.get("subtype") == "started":
                    self._tool_use(name, call, (body.get(name) or {}).get("args") or {})
                else:
                    self._tool_result(call, (body.get(name) or {}).get("result") or "", name)
            elif kind == "result":
                self._session(obj.get("session_id"))
                usage = obj.get("usage") or {}
                self.sink.usage(
                    self.model or "unknown",
                    _int(usage.get("inputTokens", usage.get("input_tokens"))),
                    _int(usage.get("outputTokens", usage.get("output_tokens"))),
                    _int(usage.get("cacheReadTokens", usage.get("cache_read_input_tokens"))),
                    _int(usage.get("cacheWriteTokens", usage.get("cache_creation_input_tokens"))),
                )
                if obj.get("is_error"):
                    self.finish(failed=True, error=str(obj.get("result") or "cursor error"))
                else:
                    self.finish(output=str(obj.get("result") or "".join(self._text)))
            elif kind == "error":
                self.finish(failed=True, error=str(obj.get("message") or "cursor error"))
        elif p == "pi":
            if kind == "message_update":
                event = obj.get("assistantMessageEvent") or obj.get("event") or {}
                if event.get("type") == "text_delta":
                    self._say(event.get("delta"))
                elif event.get("type") == "thinking_delta" and event.get("delta"):
                    self.sink.thinking(str(event["delta"]))
            elif kind == "tool_execution_start":
                self._tool_use(str(obj.get("toolName") or ""), str(obj.get("toolCallId") or ""),
                               obj.get("args") or {})  # fmt: skip
            elif kind == "tool_execution_end":
                self._tool_result(str(obj.get("toolCallId") or ""), obj.get("result") or "")
            elif kind == "turn_end":
                message = obj.get("message") or {}
                usage = message.get("usage") or {}
                self.sink.usage(
                    str(message.get("model") or self.model or "unknown"),
                    _int(usage.get("input")),
                    _int(usage.get("output")),
                    _int(usage.get("cacheRead")),
                    _int(usage.get("cacheWrite")),
                )
            elif kind == "error":
                self.finish(failed=True, error=str(obj.get("message") or "pi error"))


# --- Codex exec --json (JSONL) -------------------------------------------------------------------


class CodexExecSession(Session):
    """``codex exec --json … -`` (prompt on stdin): ``thread.started``, ``item.*`` with
    snake_case item types, ``turn.completed`` (usage) / ``turn.failed``."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._last_text = ""

    def stream_ended(self) -> None:
        if not self.done:
            self.finish(failed=True, error="stream ended without terminal result")
            self.reason = self.reason or "agent_error.empty_or_unparseable_output"

    def on_event(self, obj: dict[str, Any]) -> None:
        kind = str(obj.get("type") or "")
        if kind == "thread.started":
            self._session(obj.get("thread_id"))
        elif kind in ("item.started", "item.completed"):
            self._item(kind == "item.completed", obj.get("item") or {})
        elif kind == "turn.completed":
            usage = obj.get("usage") or {}
            inp = _int(usage.get("input_tokens"))
            cached = _int(usage.get("cached_input_tokens"))
            rows = {
                self.model or "unknown": [
                    max(0, inp - cached),
                    _int(usage.get("output_tokens")),
                    cached,
                    0,
                ]
            }
            self.sink.replace_usage(rows)  # fmt: skip
            self.finish(output=self._last_text)
        elif kind == "turn.failed":
            message = str((obj.get("error") or {}).get("message") or "codex turn failed")
            self.finish(failed=True, error=message)
        elif kind == "error":
            self.sink.error(str(obj.get("message") or "codex error"))

    def _item(self, completed: bool, item: dict[str, Any]) -> None:
        kind = item.get("type")
        item_id = str(item.get("id") or "")
        if kind == "command_execution":
            if not completed or item_id not in self.open_tools:
                self._tool_use("exec_command", item_id, {"command": item.get("command")})
            if completed:
                self._tool_result(item_id, str(item.get("aggregated_output") or ""),
                                  "exec_command")  # fmt: skip
        elif kind == "file_change" and completed:
            self._tool_use("patch_apply", item_id, {"changes": item.get("changes")})
            self._tool_result(item_id, str(item.get("status") or "completed"), "patch_apply")
        elif kind == "mcp_tool_call":
            name = f"{item.get('server') or ''}/{item.get('tool') or ''}"
            if not completed or item_id not in self.open_tools:
                self._tool_use(name, item_id, item.get("arguments") or {})
            if completed:
                self._tool_result(item_id, item.get("result") or item.get("error") or "", name)
        elif kind == "agent_message" and completed:
            text = str(item.get("text") or "")
            if text:
                self.sink.text(text)
                self._last_text = text
        elif kind == "reasoning" and completed and item.get("text"):
            self.sink.thinking(str(item["text"]))
