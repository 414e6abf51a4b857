"""The daemon process (daemon contract §1, §6): health port, registration per workspace,
heartbeats, the daemon WebSocket (wakeups) with HTTP polling as the fallback, the
slot-before-claim loop, and graceful shutdown."""

from __future__ import annotations

import contextlib
import hmac
import json
import logging
import os
import random
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from websockets.exceptions import WebSocketException
from websockets.sync.client import connect as ws_connect

from multica_cli import __version__
from multica_cli.client import client_os
from multica_cli.daemon import execenv, local_skills, providers, repos
from multica_cli.daemon.api import ApiError, DaemonApi, is_not_found
from multica_cli.daemon.identity import legacy_daemon_ids
from multica_cli.daemon.outbox import Outbox, Report
from multica_cli.daemon.runner import TaskRun, kill_leftover, record
from multica_cli.daemon.settings import WORKSPACE_SYNC_EMPTY, WORKSPACE_SYNC_IDLE, DaemonSettings

log = logging.getLogger("multica.daemon")

WS_MAX_BACKOFF = 30.0
WS_SILENCE = 60.0
TOKEN_RENEW_EVERY = 72 * 3600.0
GC_EVERY = 3600.0


class DaemonError(Exception):
    pass


class Slots:
    """``max_concurrent_tasks`` numbered slots; a claim asks for no more than it holds."""

    def __init__(self, n: int) -> None:
        self._free = list(range(n - 1, -1, -1))
        self._cond = threading.Condition()
        self.size = n

    def acquire_all(self, timeout: float) -> list[int]:
        with self._cond:
            if not self._free and not self._cond.wait_for(lambda: bool(self._free), timeout):
                return []
            held, self._free = self._free, []
            return held

    def release(self, slots: list[int]) -> None:
        with self._cond:
            self._free.extend(slots)
            self._cond.notify_all()

    @property
    def used(self) -> int:
        with self._cond:
            return self.size - len(self._free)


class Daemon:
    def __init__(self, settings: DaemonSettings) -> None:
        if not settings.token:
            raise DaemonError("not logged in: run `multica login` first")
        if not settings.server_url:
            raise DaemonError("no server URL configured: run `multica setup`")
        self.settings = settings
        self.api = DaemonApi(settings.server_url, settings.token)
        self.outbox = Outbox(settings.outbox_dir, self.api, base=settings.report_backoff,
                             cap=settings.report_backoff_cap)  # fmt: skip
        self.lock = threading.RLock()
        self.runtimes: dict[str, dict[str, str]] = {}  # rid → {workspace_id, provider}
        self.workspaces: dict[str, str] = {}  # id → name
        self.detected: dict[str, providers.Detected] = {}
        self.skipped: dict[str, str] = {}
        self.runs: dict[str, TaskRun] = {}
        self.run_threads: dict[str, threading.Thread] = {}
        self.slots = Slots(settings.max_concurrent_tasks)
        self.wake = threading.Event()
        self.sync_wake = threading.Event()
        self.stopping = threading.Event()
        self.halt = threading.Event()
        self.need_register: set[str] = set()
        self.ws_acks: dict[str, float] = {}
        self.hb_due: dict[str, float] = {}
        self.hb_now: set[str] = set()
        self.status = "starting"
        self.started = time.monotonic()
        self.health: ThreadingHTTPServer | None = None
        self.runtime_version = 0
        self.renewed_at = time.monotonic()
        self.gc_at = 0.0
        self.repos: dict[str, set[str]] = {}
        self.repo_cache = repos.RepoCache(settings.workspaces_root)
        self.loops: list[threading.Thread] = []

    # --- lifecycle -----------------------------------------------------------------------

    def run(self) -> int:
        self._bind_health()
        try:
            self._startup()
            self.status = "running"
            log.info("daemon %s running: %d runtimes, %d slots", self.settings.daemon_id,
                     len(self.runtimes), self.slots.size)  # fmt: skip
            self._claim_loop()
        finally:
            self._shutdown()
        return 0

    def request_stop(self) -> None:
        self.stopping.set()
        self.wake.set()

    def _startup(self) -> None:
        settings = self.settings
        settings.workspaces_root.mkdir(parents=True, exist_ok=True)
        execenv.write_root_marker(settings.workspaces_root)
        settings.running_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        for leftover in settings.running_dir.glob("*.json"):
            kill_leftover(leftover)
        self._renew_token()
        left = self.outbox.flush(force=True)
        if left:
            log.warning("%d terminal reports still pending; retrying in the background", left)
        self._discover()
        backoff = 1.0
        while not self.stopping.is_set():
            try:
                self._sync_workspaces(initial=True)
                break
            except ApiError as exc:
                log.warning("workspace sync failed (%s); retrying in %.0fs", exc, backoff)
                self.stopping.wait(backoff)
                backoff = min(backoff * 2, 30.0)
        for target, name in (
            (self.outbox.run, "outbox"),
            (self._sync_loop, "sync"),
            (self._heartbeat_loop, "heartbeat"),
            (self._ws_loop, "ws"),
        ):
            loop = threading.Thread(target=self._guard, args=(target, name), name=name,
                                    daemon=True)  # fmt: skip
            loop.start()
            self.loops.append(loop)

    def _renew_token(self) -> None:
        """Keep a personal access token alive (daemon tokens are not renewed this way)."""
        self.renewed_at = time.monotonic()
        if not self.settings.token.startswith("mul_"):
            return
        try:
            self.api.call("POST", "/api/tokens/current/renew", {}, timeout=15)
        except ApiError as exc:
            if exc.status == 401:
                log.warning("the server refused this daemon's token: run `multica login` again")

    def _guard(self, target: Any, name: str) -> None:
        """Background loops survive their own bugs: log and restart after a pause."""
        while not self.halt.is_set():
            try:
                target(self.halt) if target == self.outbox.run else target()
                return
            except Exception:
                log.exception("%s loop crashed; restarting", name)
                self.halt.wait(1.0)

    def _shutdown(self) -> None:
        self.status = "stopping"
        self.stopping.set()
        # Everything in flight is reported within the grace period: tasks may finish on their
        # own until the last moment that still leaves time to stop the rest and report them.
        grace = self.settings.shutdown_grace
        deadline = time.monotonic() + max(0.0, grace - self.settings.cancel_grace - 5.0)
        for thread in list(self.run_threads.values()):
            thread.join(max(0.0, deadline - time.monotonic()))
        with self.lock:
            runs = list(self.runs.values())
        for run in runs:
            run.interrupt("shutdown")
        for thread in list(self.run_threads.values()):
            thread.join(self.settings.cancel_grace + 15)
        # Background loops end first: no heartbeat may land after the deregister below.
        self.halt.set()
        self.sync_wake.set()
        self.outbox.wake()
        for loop in self.loops:
            loop.join(5)
        self.outbox.flush(force=True)
        with self.lock:
            rids = list(self.runtimes)
        if rids:
            try:
                self.api.deregister(rids)
            except ApiError as exc:
                log.warning("deregister failed: %s", exc)
        if self.health is not None:
            self.health.shutdown()
            self.health.server_close()
        self.api.close()
        log.info("daemon stopped")

    # --- providers and workspaces --------------------------------------------------------

    def _discover(self) -> bool:
        found, skipped = providers.detect()
        with self.lock:
            before = {k: d.version for k, d in self.detected.items()}
            self.detected = {d.provider.key: d for d in found}
            self.skipped = skipped
            changed = before != {k: d.version for k, d in self.detected.items()}
        if changed:
            log.info("agent CLIs: %s", ", ".join(f"{d.provider.key} {d.version}" for d in found)
                     or "none")  # fmt: skip
        return changed

    def _register(self, workspace_id: str) -> None:
        with self.lock:
            detected = list(self.detected.values())
        if not detected:
            return
        label = self.settings.runtime_name or self.settings.device_name
        body = {
            "workspace_id": workspace_id,
            "daemon_id": self.settings.daemon_id,
            "legacy_daemon_ids": legacy_daemon_ids(self.settings.daemon_id, self.settings.profile),
            "device_name": self.settings.device_name,
            "cli_version": __version__,
            "launched_by": self.settings.launched_by,
            "runtimes": [
                {"name": f"{d.provider.display} ({label})", "type": d.provider.key,
                 "version": d.version, "status": "online"}
                for d in detected
            ],
        }  # fmt: skip
        got = self.api.register(body)
        new: list[str] = []
        with self.lock:
            self.repos[workspace_id] = {
                str(r.get("url")) for r in got.get("repos") or [] if isinstance(r, dict)
            }
            for rid in [r for r, v in self.runtimes.items() if v["workspace_id"] == workspace_id]:
                self.runtimes.pop(rid, None)
            for rt in got.get("runtimes") or []:
                rid = str(rt.get("id"))
                new.append(rid)
                self.runtimes[rid] = {"workspace_id": workspace_id,
                                      "provider": str(rt.get("provider") or "")}  # fmt: skip
                self.hb_now.add(rid)
            self.runtime_version += 1
            held = list(self.runs) + self.outbox.pending_task_ids()
        if new:
            try:
                got = self.api.recover_orphans(new, held)
                if got.get("orphaned"):
                    log.info("recovered %s orphaned tasks (%s retried)", got.get("orphaned"),
                             got.get("retried"))  # fmt: skip
            except ApiError as exc:
                log.warning("recover-orphans failed: %s", exc)
        self.wake.set()

    def _sync_workspaces(self, *, initial: bool = False) -> None:
        found = {str(w["id"]): str(w.get("name") or "") for w in self.api.workspaces()}
        with self.lock:
            gone = set(self.workspaces) - set(found)
            for rid in [r for r, v in self.runtimes.items() if v["workspace_id"] in gone]:
                self.runtimes.pop(rid, None)
            self.workspaces = found
            have = {v["workspace_id"] for v in self.runtimes.values()}
            todo = [w for w in found if w not in have]
            if gone:
                self.runtime_version += 1
        errors = []
        for ws in todo:
            try:
                self._register(ws)
            except ApiError as exc:
                errors.append(exc)
                log.warning("register in workspace %s failed: %s", ws, exc)
        if initial and todo and len(errors) == len(todo):
            raise errors[0]

    def _sync_loop(self) -> None:
        """Workspace sync, provider rediscovery, token renewal, and re-registration of
        workspaces that lost their runtimes (at most once per ``reregister_interval``, twice
        that after a failure)."""
        last_discover = time.monotonic()
        failures = 0
        next_register = 0.0
        while not self.halt.is_set():
            now = time.monotonic()
            with self.lock:
                covered = {v["workspace_id"] for v in self.runtimes.values()}
                settled = bool(self.workspaces) and covered >= set(self.workspaces)
                urgent = bool(self.need_register)
            cadence = WORKSPACE_SYNC_IDLE if settled else WORKSPACE_SYNC_EMPTY
            cadence = min(cadence * (2**failures), WORKSPACE_SYNC_IDLE)
            wait = min(
                cadence * random.uniform(0.8, 1.2),  # noqa: S311
                max(0.0, last_discover + self.settings.rediscover_interval - now) + 0.05,
            )
            if urgent:
                wait = min(wait, max(0.0, next_register - now))
            self.sync_wake.wait(wait)
            self.sync_wake.clear()
            if self.halt.is_set():
                return
            now = time.monotonic()
            if now - self.renewed_at > TOKEN_RENEW_EVERY:
                self._renew_token()
            if now - self.gc_at > GC_EVERY:
                self._gc()
            if now - last_discover >= self.settings.rediscover_interval:
                last_discover = now
                if self._discover():
                    self._drop_vanished_providers()
                    with self.lock:
                        self.need_register |= set(self.workspaces)
            if now < next_register:
                continue  # coalesce re-registrations
            with self.lock:
                pending, self.need_register = set(self.need_register), set()
            try:
                for ws in pending:
                    self._register(ws)
                self._sync_workspaces()
                failures = 0
                next_register = now + (self.settings.reregister_interval if pending else 0.0)
            except ApiError as exc:
                failures += 1
                next_register = now + 2 * self.settings.reregister_interval
                with self.lock:
                    self.need_register |= pending
                log.warning("workspace sync failed: %s", exc)

    def _gc(self) -> None:
        self.gc_at = time.monotonic()
        with self.lock:
            active = {run.env.root for run in self.runs.values() if run.env is not None}
        removed = execenv.gc_task_dirs(self.settings.workspaces_root, self.settings.gc_ttl, active)
        if removed:
            log.info("removed %d finished task directories", removed)

    def _drop_vanished_providers(self) -> None:
        """Runtimes of a CLI that is gone (or now too old) are taken offline with a reason."""
        with self.lock:
            gone = {
                rid: info["provider"]
                for rid, info in self.runtimes.items()
                if info["provider"] not in self.detected
            }
            for rid in gone:
                self.runtimes.pop(rid, None)
            if gone:
                self.runtime_version += 1
            skipped = dict(self.skipped)
        if not gone:
            return
        reasons = {
            rid: {"code": "not_executable",
                  "detail": skipped.get(provider, f"{provider} is no longer on PATH")}
            for rid, provider in gone.items()
        }  # fmt: skip
        try:
            self.api.deregister(list(gone), reasons)
        except ApiError as exc:
            log.warning("deregister of vanished runtimes failed: %s", exc)

    def runtime_gone(self, rid: str) -> None:
        with self.lock:
            info = self.runtimes.pop(rid, None)
            if info is None:
                return
            self.runtime_version += 1
            self.need_register.add(info["workspace_id"])
        log.info("runtime %s is gone on the server; re-registering", rid)
        self.sync_wake.set()

    # --- heartbeats and the socket -------------------------------------------------------

    def _heartbeat_loop(self) -> None:
        interval = self.settings.heartbeat_interval
        while not self.halt.wait(0.25):
            now = time.monotonic()
            with self.lock:
                rids = list(self.runtimes)
                urgent, self.hb_now = self.hb_now, set()
            for rid in rids:
                due = self.hb_due.setdefault(rid, now + random.uniform(0, interval))  # noqa: S311
                if rid not in urgent and now < due:
                    continue
                self.hb_due[rid] = now + interval
                if rid not in urgent and self.ws_acks.get(rid, -1e9) > now - 2 * interval:
                    continue
                try:
                    self._pending_work(rid, self.api.heartbeat(rid))
                    if self.outbox.has_pending():
                        self.outbox.wake(now=True)  # a good heartbeat: replay what is waiting
                except ApiError as exc:
                    if is_not_found(exc, "runtime not found"):
                        self.runtime_gone(rid)
                    else:
                        log.debug("heartbeat of %s failed: %s", rid, exc)

    def _pending_work(self, rid: str, ack: dict[str, Any]) -> None:
        """Requests handed out in a heartbeat (each only once): answered off the loop."""
        imports = ack.get("pending_local_skill_imports")
        if not isinstance(imports, list):
            single = ack.get("pending_local_skill_import")
            imports = [single] if isinstance(single, dict) else []
        listing = ack.get("pending_local_skills")
        if not imports and not isinstance(listing, dict):
            return
        with self.lock:
            provider = (self.runtimes.get(rid) or {}).get("provider", "")
        jobs: list[tuple[str, dict[str, Any]]] = []
        if isinstance(listing, dict) and listing.get("id"):
            path = f"/api/daemon/runtimes/{rid}/local-skills/{listing['id']}/result"
            jobs.append((path, {"kind": "list"}))
        for item in imports:
            if isinstance(item, dict) and item.get("id"):
                path = f"/api/daemon/runtimes/{rid}/local-skills/import/{item['id']}/result"
                jobs.append((path, {"kind": "import", "key": str(item.get("skill_key") or "")}))
        for path, job in jobs:
            threading.Thread(target=self._answer_local_skills, args=(provider, path, job),
                             daemon=True).start()  # fmt: skip

    def _answer_local_skills(self, provider: str, path: str, job: dict[str, Any]) -> None:
        try:
            if job["kind"] == "list":
                body: dict[str, Any] = {
                    "status": "completed", "skills": local_skills.inventory(provider),
                    "supported": True, "mcp_servers": [], "mcp_supported": False,
                }  # fmt: skip
            else:
                body = {"status": "completed", "skill": local_skills.bundle(provider, job["key"])}
        except (OSError, ValueError) as exc:
            body = {"status": "failed", "error": str(exc)}
        for delay in (0.0, 0.5, 2.0, 4.0):
            if self.halt.wait(delay):
                return
            try:
                self.api.call("POST", path, body)
                return
            except ApiError as exc:
                if not exc.transient:
                    log.warning("local skills result refused: %s", exc)
                    return

    def _ws_url(self, rids: list[str]) -> str:
        base = self.api.server_url
        base = "wss://" + base[8:] if base.startswith("https://") else "ws://" + base[7:]
        return f"{base}/api/daemon/ws?runtime_ids={','.join(sorted(rids))}"

    def _ws_loop(self) -> None:
        backoff = 1.0
        while not self.halt.is_set():
            with self.lock:
                rids = sorted(self.runtimes)
                version = self.runtime_version
            if not rids:
                self.halt.wait(1.0)
                continue
            opened = time.monotonic()
            try:
                with ws_connect(self._ws_url(rids), additional_headers=self.api.ws_headers(),
                                open_timeout=10, max_size=64 * 1024 * 1024,
                                ping_interval=20, ping_timeout=20) as conn:  # fmt: skip
                    log.info("daemon socket connected (%d runtimes)", len(rids))
                    self._ws_session(conn, rids, version)
            except (OSError, WebSocketException, TimeoutError) as exc:
                log.debug("daemon socket: %s", exc)
            finally:
                with self.lock:
                    self.ws_acks.clear()
            if self.halt.is_set():
                return
            with self.lock:
                changed = self.runtime_version != version
            if changed:
                backoff = 1.0
                continue
            if time.monotonic() - opened >= 10:
                backoff = 1.0
            self.halt.wait(backoff * random.uniform(0.8, 1.2))  # noqa: S311
            backoff = min(backoff * 2, WS_MAX_BACKOFF)

    def _ws_session(self, conn: Any, rids: list[str], version: int) -> None:
        interval = self.settings.heartbeat_interval
        self.wake.set()  # one claim cycle on every (re)connect
        with self.lock:
            self.hb_now |= set(rids)
        for run in list(self.runs.values()):
            run.poll_now = True
        self.sync_wake.set()
        last_read = time.monotonic()
        next_beat = 0.0
        while not self.halt.is_set():
            now = time.monotonic()
            with self.lock:
                if self.runtime_version != version:
                    return
            if now >= next_beat:
                next_beat = now + interval
                for rid in rids:
                    conn.send(json.dumps({"type": "daemon:heartbeat", "payload": {
                        "runtime_id": rid, "supports_batch_import": True}}))  # fmt: skip
            try:
                raw = conn.recv(timeout=0.5)
            except TimeoutError:
                if time.monotonic() - last_read > WS_SILENCE:
                    return
                continue
            last_read = time.monotonic()
            try:
                frame = json.loads(raw)
            except ValueError:
                continue
            self._ws_frame(frame if isinstance(frame, dict) else {})

    def _ws_frame(self, frame: dict[str, Any]) -> None:
        kind = frame.get("type")
        payload = frame.get("payload") or {}
        rid = str(payload.get("runtime_id") or "")
        if kind == "daemon:heartbeat_ack":
            if self.outbox.has_pending():
                self.outbox.wake(now=True)
            if payload.get("runtime_gone") or payload.get("status") == "runtime_gone":
                self.runtime_gone(rid)
            else:
                self.ws_acks[rid] = time.monotonic()
                self._pending_work(rid, payload)
        elif kind == "daemon:task_available":
            self.wake.set()
        elif kind == "daemon:pending_work":
            with self.lock:
                self.hb_now.add(rid)
        elif kind in ("daemon:workspaces_changed", "daemon:runtime_profiles_changed"):
            self.sync_wake.set()

    # --- claims and tasks ----------------------------------------------------------------

    def _claim_loop(self) -> None:
        while not self.stopping.is_set():
            try:
                self._claim_once()
            except Exception:
                log.exception("claim loop error; continuing")
                self.stopping.wait(1.0)

    def _claim_once(self) -> None:
        """One turn of the claim loop: slots first, then a claim for at most that many."""
        poll = self.settings.poll_interval
        with self.lock:
            rids = sorted(self.runtimes)
        if not rids:
            self.wake.wait(1.0)
            self.wake.clear()
            return
        held = self.slots.acquire_all(timeout=2.0)
        if not held:
            self.wake.wait(min(poll, 5.0))  # a finished task sets wake
            self.wake.clear()
            return
        if self.stopping.is_set():
            self.slots.release(held)
            return
        self.wake.clear()
        try:
            tasks = self.api.claim(self.settings.daemon_id, rids, len(held))
        except ApiError as exc:
            self.slots.release(held)
            log.warning("claim failed: %s", exc)
            self.wake.wait(min(poll, 5.0))
            return
        for task in tasks:
            if not held:  # more than asked for: never run a task without a slot
                self._refuse(task, "no free slot on this daemon")
                continue
            self._launch(task, held.pop())
        filled = not held
        self.slots.release(held)
        if not filled:
            self.wake.wait(poll)

    def _refuse(self, task: dict[str, Any], why: str) -> None:
        epoch = task.get("lease_epoch") if isinstance(task.get("lease_epoch"), int) else None
        report = Report(str(task.get("id")), "fail",
                        {"error": why, "failure_reason": "runtime_offline"}, epoch)  # fmt: skip
        self.outbox.put(report)

    def _launch(self, task: dict[str, Any], slot: int) -> None:
        task_id = str(task.get("id"))
        with self.lock:
            info = self.runtimes.get(str(task.get("runtime_id")))
            detected = self.detected.get(info["provider"]) if info else None
        epoch = task.get("lease_epoch") if isinstance(task.get("lease_epoch"), int) else None
        if detected is None:
            log.warning("task %s is for a runtime this daemon does not host", task_id)
            self.outbox.put(
                Report(
                    task_id,
                    "fail",
                    {
                        "error": "runtime not hosted by this daemon",
                        "failure_reason": "runtime_offline",
                    },
                    epoch,
                )
            )
            self.slots.release([slot])
            return
        log.info("task %s claimed (%s, slot %d)", task_id, detected.provider.key, slot)
        run = TaskRun(daemon=self, task=task, slot=slot, detected=detected)
        thread = threading.Thread(target=run.execute, name=f"task-{task_id[:8]}", daemon=True)
        with self.lock:
            self.runs[task_id] = run
            self.run_threads[task_id] = thread
        thread.start()

    def task_done(self, run: TaskRun) -> None:
        with self.lock:
            self.runs.pop(run.id, None)
            self.run_threads.pop(run.id, None)
        self.slots.release([run.slot])
        self.wake.set()
        log.info("task %s finished", run.id)

    def record_running(self, run: TaskRun, proc: Any) -> None:
        record(self.settings.running_dir / f"{run.id}.json", proc.pid)

    def clear_running(self, run: TaskRun) -> None:
        (self.settings.running_dir / f"{run.id}.json").unlink(missing_ok=True)

    # --- health port ---------------------------------------------------------------------

    def health_payload(self) -> dict[str, Any]:
        with self.lock:
            by_ws: dict[str, list[str]] = {}
            for rid, info in sorted(self.runtimes.items()):
                by_ws.setdefault(info["workspace_id"], []).append(rid)
            runs = len(self.runs)
            agents = sorted(self.detected)
            skipped = dict(self.skipped)
        payload: dict[str, Any] = {
            "status": self.status if self.status != "stopping" else "running",
            "pid": os.getpid(),
            "os": client_os(),
            "uptime": f"{int(time.monotonic() - self.started)}s",
            "profile": self.settings.profile or "",
            "daemon_id": self.settings.daemon_id,
            "device_name": self.settings.device_name,
            "server_url": self.settings.server_url,
            "cli_version": __version__,
            "active_task_count": runs,
            "running_task_count": runs,
            "resource_wait_task_count": 0,
            "agents": agents,
            "workspaces": [{"id": ws, "runtimes": r} for ws, r in sorted(by_ws.items())],
            "pending_reports": len(self.outbox.pending_task_ids()),
        }
        if skipped:
            payload["skipped_agents"] = skipped
        if self.settings.launched_by:
            payload["launched_by"] = self.settings.launched_by
        return payload

    def repo_checkout(
        self, authorization: str, raw: bytes
    ) -> tuple[int, dict[str, Any], dict[str, str]]:
        """``POST /repo/checkout`` from an agent: only with an active task's own token, for a
        workdir inside that task's, and a URL of the task's or the workspace's repositories."""
        token = authorization.removeprefix("Bearer ").strip()
        with self.lock:
            run = next(
                (r for r in self.runs.values()
                 if token.startswith("mat_")
                 and hmac.compare_digest(str(r.task.get("auth_token") or ""), token)),
                None,
            )  # fmt: skip
        if run is None or run.env is None:
            return 401, {"error": "not an active task's token"}, {}
        try:
            body = repos.parse_request(json.loads(raw or b"{}"))
        except (ValueError, repos.RepoError) as exc:
            return 400, {"error": str(exc) or "invalid request body"}, {}
        ws = str(run.task.get("workspace_id"))
        same_task = str(body.get("task_id") or run.id) == run.id
        if str(body.get("workspace_id") or ws) != ws or not same_task:
            return 403, {"error": "workspace or task does not match the token"}, {}
        workdir = Path(str(body.get("workdir") or run.env.workdir))
        if not repos.inside(workdir, run.env.workdir):
            return 403, {"error": "workdir is outside the task's work directory"}, {}
        url = str(body["url"]).strip()
        if url not in self._repo_urls(run, refresh=False) and url not in self._repo_urls(
            run, refresh=True
        ):
            return 403, {"error": "repository is not configured for this workspace"}, {}
        try:
            out = self.repo_cache.checkout(
                workspace_id=ws, url=url, workdir=workdir,
                agent_name=str((run.task.get("agent") or {}).get("name") or "agent"),
                task_key=execenv.task_key(run.id), ref=str(body.get("ref") or ""),
                wait=bool(body.get("retry_busy")),
            )  # fmt: skip
        except repos.RepoBusy as exc:
            return exc.status, {"error": str(exc)}, {
                "X-Multica-Retryable": "repo-busy", "Retry-After": "2"}  # fmt: skip
        except repos.RepoError as exc:
            return exc.status, {"error": str(exc)}, {}
        return 200, out, {}

    def _repo_urls(self, run: TaskRun, *, refresh: bool) -> set[str]:
        ws = str(run.task.get("workspace_id"))
        urls = {str(r.get("url")) for r in run.task.get("repos") or [] if isinstance(r, dict)}
        if refresh:
            with contextlib.suppress(ApiError):
                got = self.api.call("GET", f"/api/daemon/workspaces/{ws}/repos") or {}
                with self.lock:
                    self.repos[ws] = {str(r.get("url")) for r in got.get("repos") or []}
        with self.lock:
            return urls | self.repos.get(ws, set())

    def _bind_health(self) -> None:
        daemon = self

        class Handler(BaseHTTPRequestHandler):
            def _json(self, status: int, body: Any, extra: dict[str, str] | None = None) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                for key, value in (extra or {}).items():
                    self.send_header(key, value)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                if self.path.split("?", 1)[0] == "/health":
                    self._json(200, daemon.health_payload())
                else:
                    self._json(404, {"error": "not found"})

            def do_POST(self) -> None:
                path = self.path.split("?", 1)[0]
                if path == "/shutdown":
                    self._json(200, {"status": "shutting down"})
                    daemon.request_stop()
                elif path == "/repo/checkout":
                    length = int(self.headers.get("Content-Length") or 0)
                    raw = self.rfile.read(min(length, 1024 * 1024)) if length > 0 else b""
                    status, body, extra = daemon.repo_checkout(
                        self.headers.get("Authorization", ""), raw
                    )
                    self._json(status, body, extra)
                else:
                    self._json(404, {"error": "not found"})

            def log_message(self, format: str, *args: Any) -> None:
                return

        try:
            self.health = ThreadingHTTPServer(("127.0.0.1", self.settings.health_port), Handler)
        except OSError as exc:
            raise DaemonError(
                f"cannot bind 127.0.0.1:{self.settings.health_port} ({exc.strerror}): "
                "is a daemon of this profile already running?"
            ) from exc
        self.health.daemon_threads = True
        threading.Thread(target=self.health.serve_forever, name="health", daemon=True).start()
