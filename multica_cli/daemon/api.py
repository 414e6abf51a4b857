"""The daemon's HTTP side of the protocol (daemon contract §0, §1): every call carries the
daemon's client headers; task reports carry the lease epoch (``X-Lease-Epoch``), terminal
reports an ``Idempotency-Key``."""

from __future__ import annotations

from typing import Any

from multica_cli.client import ApiClient, ApiError

# Advertise only what this daemon implements (daemon contract §7): skills arrive as refs that
# are resolved through ``skill-bundles/resolve`` (and cached); comments folded into a task
# arrive as ``coalesced_comments``.
CAPABILITIES = "skill-bundles-v1,coalesced-comments-v1"

CONTROL_TIMEOUT = 30.0
CLAIM_TIMEOUT = 5.0 + 10.0
REPORT_TIMEOUT = 10.0
MESSAGES_TIMEOUT = 5.0


def is_not_found(exc: ApiError, needle: str) -> bool:
    return exc.status == 404 and needle in (exc.message or "").lower()


class DaemonApi:
    """Thin, thread-safe wrapper over :class:`ApiClient` (httpx) with the daemon's headers."""

    def __init__(self, server_url: str, token: str) -> None:
        self.client = ApiClient(
            server_url,
            token,
            timeout=CONTROL_TIMEOUT,
            platform="daemon",
            capabilities=CAPABILITIES,
        )
        self.server_url = self.client.server_url
        self.legacy_claim = False

    def close(self) -> None:
        self.client.close()

    def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        timeout: float | None = None,
        epoch: int | None = None,
        idempotency_key: str | None = None,
    ) -> Any:
        headers: dict[str, str] = {}
        if epoch is not None:
            headers["X-Lease-Epoch"] = str(epoch)
        if idempotency_key:
            headers["Idempotency-Key"] = idempotency_key
        return self.client.request(
            method, path, json=body, headers=headers or None, timeout=timeout
        )

    def ws_headers(self) -> dict[str, str]:
        return self.client.headers()

    # --- control plane -------------------------------------------------------------------

    def workspaces(self) -> list[dict[str, Any]]:
        try:
            found = self.call("GET", "/api/daemon/workspaces")
        except ApiError as exc:
            if exc.status != 404:
                raise
            found = self.call("GET", "/api/workspaces")
        return [w for w in found or [] if isinstance(w, dict) and w.get("id")]

    def register(self, body: dict[str, Any]) -> dict[str, Any]:
        return self.call("POST", "/api/daemon/register", body) or {}

    def deregister(
        self, runtime_ids: list[str], reasons: dict[str, dict[str, Any]] | None = None
    ) -> None:
        body: dict[str, Any] = {"runtime_ids": runtime_ids}
        if reasons:
            body["offline_reasons"] = reasons
        self.call("POST", "/api/daemon/deregister", body, timeout=5)

    def heartbeat(self, runtime_id: str) -> dict[str, Any]:
        body = {"runtime_id": runtime_id, "supports_batch_import": True}
        return self.call("POST", "/api/daemon/heartbeat", body) or {}

    def recover_orphans(self, runtime_ids: list[str], held: list[str]) -> dict[str, Any]:
        body = {"runtime_ids": runtime_ids, "held_task_ids": held}
        try:
            return self.call("POST", "/api/daemon/recover-orphans", body) or {}
        except ApiError as exc:
            if exc.status != 404:
                raise
        out = {"orphaned": 0, "retried": 0}
        for rid in runtime_ids:  # Multica's per-runtime form
            got = self.call("POST", f"/api/daemon/runtimes/{rid}/recover-orphans", {}) or {}
            for key in out:
                out[key] += int(got.get(key) or 0)
        return out

    def claim(self, daemon_id: str, runtime_ids: list[str], max_tasks: int) -> list[dict]:
        """The batch claim; a server without it (404) is asked per runtime (legacy route)."""
        body = {"daemon_id": daemon_id, "runtime_ids": runtime_ids, "max_tasks": max_tasks}
        if not self.legacy_claim:
            try:
                got = self.call("POST", "/api/daemon/tasks/claim", body, timeout=CLAIM_TIMEOUT)
                return [t for t in (got or {}).get("tasks") or [] if isinstance(t, dict)]
            except ApiError as exc:
                if exc.status != 404:
                    raise
                self.legacy_claim = True
        out: list[dict] = []
        for rid in runtime_ids:
            if len(out) >= max_tasks:
                break
            path = f"/api/daemon/runtimes/{rid}/tasks/claim"
            got = self.call("POST", path, {}, timeout=CLAIM_TIMEOUT) or {}
            if isinstance(got.get("task"), dict):
                out.append(got["task"])
        return out

    # --- one task ------------------------------------------------------------------------

    def task(
        self,
        task_id: str,
        action: str,
        body: Any = None,
        *,
        epoch: int | None = None,
        timeout: float = REPORT_TIMEOUT,
        idempotency_key: str | None = None,
    ) -> Any:
        return self.call(
            "POST",
            f"/api/daemon/tasks/{task_id}/{action}",
            {} if body is None else body,
            timeout=timeout,
            epoch=epoch,
            idempotency_key=idempotency_key,
        )

    def task_state(self, task_id: str) -> dict[str, Any]:
        """``{"status", "lease_epoch"?}`` of a task."""
        got = self.call("GET", f"/api/daemon/tasks/{task_id}/status", timeout=REPORT_TIMEOUT)
        return got if isinstance(got, dict) else {}

    def task_status(self, task_id: str) -> str:
        return str(self.task_state(task_id).get("status") or "")

    def prepare_lease(self, runtime_id: str, task_id: str, epoch: int | None) -> None:
        self.call(
            "POST",
            f"/api/daemon/runtimes/{runtime_id}/tasks/{task_id}/prepare-lease",
            {},
            timeout=REPORT_TIMEOUT,
            epoch=epoch,
        )


__all__ = ["ApiError", "DaemonApi", "is_not_found"]
