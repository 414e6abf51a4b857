"""Durable terminal reports (complete / fail / cancel-ack). A report is written to
``<state>/outbox/<task>.json`` (0600, fsync'd) *before* it is sent, and removed only once the
server accepted it or refused it for good; a restarted daemon replays what is left, so a
finished task never stays ``running`` because the server was unreachable at the time."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from multica_cli.daemon.api import ApiError, DaemonApi

log = logging.getLogger("multica.daemon.outbox")

# Entries older than this are given up (the task token has expired and the server's sweeper
# has ended the task by then).
MAX_AGE = 24 * 3600.0


@dataclass
class Report:
    task_id: str
    kind: str  # complete | fail | cancel-ack
    body: dict[str, Any]
    epoch: int | None
    created_at: float = field(default_factory=time.time)
    attempts: int = 0
    next_at: float = 0.0

    @property
    def idempotency_key(self) -> str:
        return f"{self.task_id}:{self.epoch}:{self.kind}"


def write_private(path: Path, data: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        json.dump(data, fh)
        fh.flush()
        os.fsync(fh.fileno())
    tmp.replace(path)
    with contextlib.suppress(OSError):
        dir_fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


class Outbox:
    """Sends reports with retries (transient errors only) on a schedule of ``base`` × 2ⁿ,
    capped at ``cap`` seconds, for as long as the daemon runs and again after a restart."""

    def __init__(self, directory: Path, api: DaemonApi, *, base: float, cap: float) -> None:
        self.dir = directory
        self.api = api
        self.base = base
        self.cap = cap
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._force = False
        self.dir.mkdir(parents=True, exist_ok=True, mode=0o700)

    def _path(self, task_id: str) -> Path:
        return self.dir / f"{task_id}.json"

    def pending(self) -> list[Report]:
        out = []
        for path in sorted(self.dir.glob("*.json")):
            try:
                out.append(Report(**json.loads(path.read_text())))
            except (OSError, ValueError, TypeError):
                log.warning("dropping unreadable outbox entry %s", path.name)
                path.unlink(missing_ok=True)
        return out

    def has_pending(self) -> bool:
        return any(self.dir.glob("*.json"))

    def pending_task_ids(self) -> list[str]:
        return [r.task_id for r in self.pending()]

    def put(self, report: Report) -> None:
        """Persist, then try once right away (the caller's thread); retries go to the loop."""
        with self._lock:
            write_private(self._path(report.task_id), asdict(report))
        self.try_send(report)

    def _drop(self, report: Report) -> None:
        self._path(report.task_id).unlink(missing_ok=True)

    def try_send(self, report: Report) -> bool:
        """One attempt. True when the entry is settled (accepted or permanently refused)."""
        try:
            self.api.task(
                report.task_id,
                report.kind,
                report.body,
                epoch=report.epoch,
                idempotency_key=report.idempotency_key,
            )
        except ApiError as exc:
            if exc.transient and time.time() - report.created_at < MAX_AGE:
                report.attempts += 1
                delay = min(self.cap, self.base * (2 ** max(0, report.attempts - 1)))
                report.next_at = time.time() + delay
                with self._lock:
                    if self._path(report.task_id).exists():
                        write_private(self._path(report.task_id), asdict(report))
                log.warning(
                    "%s of task %s not delivered (%s); retry in %.1fs",
                    report.kind, report.task_id, exc, delay,
                )  # fmt: skip
                self._wake.set()
                return False
            if report.kind == "complete" and exc.status not in (404, 409):
                # A complete refused for good becomes a failure report (daemon contract §1.12).
                log.warning("complete of task %s refused (%s); reporting failure", report.task_id,
                            exc)  # fmt: skip
                fail = Report(
                    task_id=report.task_id,
                    kind="fail",
                    body={"error": f"complete task failed: {exc.message}"},
                    epoch=report.epoch,
                )
                with self._lock:
                    write_private(self._path(report.task_id), asdict(fail))
                return self.try_send(fail)
            log.info("%s of task %s settled by the server: %s", report.kind, report.task_id, exc)
        with self._lock:
            self._drop(report)
        return True

    def flush(self, *, force: bool = False) -> int:
        """Send every due entry once; → how many are still pending."""
        left = 0
        now = time.time()
        for report in self.pending():
            if not force and report.next_at > now:
                left += 1
                continue
            if not self.try_send(report):
                left += 1
        return left

    def wake(self, *, now: bool = False) -> None:
        """Wake the sender; ``now`` retries every entry at once (the server answered again)."""
        self._force = self._force or now
        self._wake.set()

    def run(self, stop: threading.Event) -> None:
        while not stop.is_set():
            force, self._force = self._force, False
            self.flush(force=force)
            pending = self.pending()
            delay = 1.0
            if pending:
                delay = max(0.05, min(r.next_at for r in pending) - time.time())
            self._wake.wait(min(delay, 5.0))
            self._wake.clear()
