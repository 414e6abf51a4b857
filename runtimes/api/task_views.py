"""Daemon task routes (daemon spec §1.7–§1.13): claim, the reports on a leased task, orphan
recovery and the prepare lease. Thin: each view calls one service of
:mod:`runtimes.services.claims` / :mod:`runtimes.services.reports`.

The lease epoch is optional on the wire (``X-Lease-Epoch`` header or ``lease_epoch`` in the
body); Multica's daemon sends none and is fenced by runtime ownership (see ``reports``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from agents.task_wire import task_wire
from multica_site.errors import ValidationError
from runtimes.auth import DaemonView
from runtimes.services import claims, reports
from runtimes.services.claims import Caller


def _body(request: Request) -> Mapping[str, Any]:
    data = request.data
    if data in (None, ""):
        return {}
    if not isinstance(data, Mapping):
        raise ValidationError("invalid request body")
    return data


def _caller(request: Request) -> Caller:
    return Caller(user=request.user, credential=request.auth)


def _epoch(request: Request, body: Mapping[str, Any]) -> int | None:
    raw = request.headers.get("X-Lease-Epoch")
    if raw in (None, ""):
        raw = body.get("lease_epoch")
    return reports.parse_epoch(raw)


@extend_schema(request=OpenApiTypes.OBJECT, responses=OpenApiTypes.OBJECT)
class _TaskView(DaemonView):
    """The daemon scope; the services decide which runtime and task the caller may touch."""


class ClaimView(_TaskView):
    """``POST /api/daemon/tasks/claim`` (alias ``/api/daemon/claim``)."""

    def post(self, request: Request) -> Response:
        body = _body(request)
        runtime_ids = body.get("runtime_ids") or []
        if not isinstance(runtime_ids, list):
            raise ValidationError("runtime_ids must be a list")
        try:
            max_tasks = int(body.get("max_tasks", 1))
        except (TypeError, ValueError) as exc:
            raise ValidationError("invalid max_tasks") from exc
        claimed = claims.task_claim(
            caller=_caller(request),
            runtime_ids=runtime_ids,
            max_tasks=max_tasks,
            daemon_id=str(body.get("daemon_id") or "") or None,
        )
        return Response({"tasks": claims.claim_payloads(claimed)})


class LegacyClaimView(_TaskView):
    """``POST /api/daemon/runtimes/{rid}/tasks/claim`` → ``{"task": Task|null}``."""

    def post(self, request: Request, runtime_id: Any) -> Response:
        item = claims.task_claim_legacy(caller=_caller(request), runtime_id=runtime_id)
        return Response({"task": claims.claim_payload(item) if item else None})


class StartView(_TaskView):
    def post(self, request: Request, task_id: Any) -> Response:
        task = reports.task_start(
            caller=_caller(request), task_id=task_id, epoch=_epoch(request, _body(request))
        )
        return Response(task_wire(task))


class WaitLocalDirectoryView(_TaskView):
    """``POST /api/daemon/tasks/{id}/wait-local-directory`` ``{"reason"}`` → the task."""

    def post(self, request: Request, task_id: Any) -> Response:
        body = _body(request)
        task = reports.task_wait_local_directory(
            caller=_caller(request),
            task_id=task_id,
            reason=str(body.get("reason") or ""),
            epoch=_epoch(request, body),
        )
        return Response(task_wire(task))


class ProgressView(_TaskView):
    def post(self, request: Request, task_id: Any) -> Response:
        body = _body(request)
        reports.task_progress(
            caller=_caller(request),
            task_id=task_id,
            summary=str(body.get("summary") or ""),
            step=body.get("step"),
            total=body.get("total"),
            epoch=_epoch(request, body),
        )
        return Response({"status": "ok"})


class MessagesView(_TaskView):
    def post(self, request: Request, task_id: Any) -> Response:
        body = _body(request)
        reports.task_messages_append(
            caller=_caller(request),
            task_id=task_id,
            messages=body.get("messages") or [],
            epoch=_epoch(request, body),
        )
        return Response({"status": "ok"})


class SessionView(_TaskView):
    def post(self, request: Request, task_id: Any) -> Response:
        body = _body(request)
        reports.task_session_pin(
            caller=_caller(request),
            task_id=task_id,
            session_id=body.get("session_id"),
            work_dir=body.get("work_dir"),
            epoch=_epoch(request, body),
        )
        return Response(status=204)


class StatusView(_TaskView):
    def get(self, request: Request, task_id: Any) -> Response:
        return Response(reports.task_status(caller=_caller(request), task_id=task_id))


class _TerminalView(_TaskView):
    kind = ""

    def post(self, request: Request, task_id: Any) -> Response:
        body = dict(_body(request))
        epoch = _epoch(request, body)
        body.pop("lease_epoch", None)
        status, response = reports.task_report(
            caller=_caller(request),
            task_id=task_id,
            kind=self.kind,
            body=body,
            epoch=epoch,
            idempotency_key=request.headers.get("Idempotency-Key"),
        )
        return Response(response, status=status)


class CompleteView(_TerminalView):
    kind = "complete"


class FailView(_TerminalView):
    kind = "fail"


class CancelAckView(_TerminalView):
    kind = "cancel-ack"


class RecoverOrphansView(_TaskView):
    """``POST /api/daemon/runtimes/{rid}/recover-orphans`` ``{}`` (Multica), or
    ``POST /api/daemon/recover-orphans`` ``{runtime_ids, held_task_ids?}``."""

    def post(self, request: Request, runtime_id: Any = None) -> Response:
        body = _body(request)
        caller = _caller(request)
        if runtime_id is not None:
            claims.runtime_for_caller(caller, runtime_id)
            runtime_ids: list[Any] = [runtime_id]
        else:
            runtime_ids = body.get("runtime_ids") or []
            if not isinstance(runtime_ids, list):
                raise ValidationError("runtime_ids must be a list")
        held = body.get("held_task_ids") or []
        if not isinstance(held, list):
            raise ValidationError("held_task_ids must be a list")
        return Response(
            reports.orphans_recover(caller=caller, runtime_ids=runtime_ids, held_task_ids=held)
        )


class PrepareLeaseView(_TaskView):
    def post(self, request: Request, task_id: Any, runtime_id: Any = None) -> Response:
        task = claims.prepare_lease_extend(
            caller=_caller(request), task_id=task_id, runtime_id=runtime_id
        )
        return Response(task_wire(task))


class SkillBundlesView(_TaskView):
    """``POST /api/daemon/runtimes/{rid}/tasks/{tid}/skill-bundles/resolve``."""

    def post(self, request: Request, runtime_id: Any, task_id: Any) -> Response:
        body = _body(request)
        refs = body.get("skills") or []
        if not isinstance(refs, list):
            raise ValidationError("skills must be a list")
        task = claims.task_for_caller(_caller(request), task_id, runtime_id=runtime_id)
        return Response({"bundles": claims.skill_bundles(task, refs)})
