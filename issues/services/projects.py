"""Projects (spec §4): create, update and delete; publish ``project:*``.

Input rules follow Multica's ``handler/project.go`` (same sentences). The lead is a
``(lead_type, lead_id)`` pair checked against the workspace through :data:`LEAD_VALIDATORS`
(``member`` here; the agents domain registers ``agent``).
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable, Mapping
from datetime import date
from typing import TYPE_CHECKING, Any

from django.db import transaction

from issues.models import Issue, Priority, Project
from issues.selectors_catalog import project_get
from issues.wire_catalog import project_wire
from multica_site.errors import PermissionDenied, ValidationError
from multica_site.events import publish
from workspaces.context import ADMINS
from workspaces.models import Member

if TYPE_CHECKING:
    from workspaces.context import WorkspaceContext

PROJECT_STATUSES = tuple(Project.Status.values)
PROJECT_PRIORITIES = tuple(Priority.values)
LEAD_TYPES = ("member", "agent")
TITLE_MAX = Project._meta.get_field("title").max_length or 255
ICON_MAX = Project._meta.get_field("icon").max_length or 64
DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")

# Keys ``project_update`` accepts; a key present with ``None`` clears a nullable field.
UPDATABLE = frozenset(
    {"title", "description", "icon", "status", "priority", "lead_type", "lead_id",
     "start_date", "due_date"}
)  # fmt: skip


def _member_lead(ctx: WorkspaceContext, lead_id: uuid.UUID) -> None:
    if not Member.objects.filter(workspace_id=ctx.workspace_id, user_id=lead_id).exists():
        raise ValidationError("member not found", code="member_not_found")


# lead_type → check that ``lead_id`` names one of ``ctx.workspace``'s own (raise ValidationError).
# A lead type without a validator is refused as "<type> not found".
LeadValidator = Callable[["WorkspaceContext", uuid.UUID], None]
LEAD_VALIDATORS: dict[str, LeadValidator] = {"member": _member_lead}


def _enum(field: str, value: Any, allowed: tuple[str, ...]) -> str:
    if not isinstance(value, str) or value not in allowed:
        shown = json.dumps(value if isinstance(value, str) else str(value))
        raise ValidationError(
            f"invalid {field} {shown}; valid values: {', '.join(allowed)}",
            code=f"invalid_{field}",
        )
    return value


def _title(raw: Any) -> str:
    if not isinstance(raw, str) or not raw.strip():
        raise ValidationError("title is required", code="invalid_title")
    title = raw.replace("\x00", "").strip()
    if len(title) > TITLE_MAX:
        raise ValidationError(
            f"title must be {TITLE_MAX} characters or fewer", code="invalid_title"
        )
    return title


def _optional_text(raw: Any) -> str | None:
    if raw is None:
        return None
    if not isinstance(raw, str):
        raise ValidationError("invalid request body")
    return raw.replace("\x00", "")


def _icon(raw: Any) -> str | None:
    icon = _optional_text(raw)
    if icon is not None and len(icon) > ICON_MAX:
        raise ValidationError(f"icon must be {ICON_MAX} characters or fewer", code="invalid_icon")
    return icon


def _date(field: str, raw: Any) -> date | None:
    """``YYYY-MM-DD``; absent, ``null`` or ``""`` mean no date."""
    if raw is None or raw == "":
        return None
    try:
        if not isinstance(raw, str) or not DATE_RE.match(raw):
            raise ValueError(raw)
        return date.fromisoformat(raw)
    except ValueError as exc:
        raise ValidationError(
            f"invalid {field} format, expected YYYY-MM-DD", code=f"invalid_{field}"
        ) from exc


def _lead_id(raw: Any) -> uuid.UUID | None:
    if raw is None:
        return None
    try:
        if not isinstance(raw, str):
            raise ValueError(raw)
        return uuid.UUID(raw)
    except ValueError as exc:
        raise ValidationError("invalid lead_id", code="invalid_lead_id") from exc


def _validate_lead(ctx: WorkspaceContext, lead_type: Any, lead_id: uuid.UUID | None) -> None:
    if lead_type is None and lead_id is None:
        return
    if lead_type is None or lead_id is None:
        raise ValidationError(
            "lead_type and lead_id must be provided together", code="invalid_lead"
        )
    if lead_type not in LEAD_TYPES:
        raise ValidationError("invalid lead_type", code="invalid_lead_type")
    validator = LEAD_VALIDATORS.get(lead_type)
    if validator is None:
        raise ValidationError(f"{lead_type} not found", code=f"{lead_type}_not_found")
    validator(ctx, lead_id)


def project_create(
    *,
    ctx: WorkspaceContext,
    title: Any,
    description: Any = None,
    icon: Any = None,
    status: Any = None,
    priority: Any = None,
    lead_type: Any = None,
    lead_id: Any = None,
    start_date: Any = None,
    due_date: Any = None,
) -> Project:
    """Create a project (status ``planned`` and priority ``none`` unless given)."""
    clean_title = _title(title)
    clean_status = _enum("status", status or Project.Status.PLANNED, PROJECT_STATUSES)
    clean_priority = _enum("priority", priority or Priority.NONE, PROJECT_PRIORITIES)
    clean_lead_type = _optional_text(lead_type)
    clean_lead_id = _lead_id(lead_id)
    values = {
        "description": _optional_text(description),
        "icon": _icon(icon),
        "start_date": _date("start_date", start_date),
        "due_date": _date("due_date", due_date),
    }
    with transaction.atomic():
        _validate_lead(ctx, clean_lead_type, clean_lead_id)
        project = Project.objects.create(
            workspace_id=ctx.workspace_id,
            title=clean_title,
            status=clean_status,
            priority=clean_priority,
            lead_type=clean_lead_type,
            lead_id=clean_lead_id,
            **values,
        )
        project.issue_count = project.done_count = 0
        publish(
            "project:created",
            {"project": project_wire(project)},
            workspace_id=ctx.workspace_id,
            actor=ctx.actor,
        )
    return project


def project_update(
    *, ctx: WorkspaceContext, project_id: Any, changes: Mapping[str, Any]
) -> Project:
    """Apply the keys present in ``changes`` (see :data:`UPDATABLE`).

    As Multica's ``UpdateProject``: ``title``/``status``/``priority`` set to ``null`` are left
    unchanged; the other fields are cleared by ``null`` (dates also by ``""``).
    """
    unknown = set(changes) - UPDATABLE
    if unknown:
        raise ValueError(f"unknown project fields: {sorted(unknown)}")
    fields: dict[str, Any] = {}
    if changes.get("title") is not None:
        fields["title"] = _title(changes["title"])
    if changes.get("status") is not None:
        fields["status"] = _enum("status", changes["status"], PROJECT_STATUSES)
    if changes.get("priority") is not None:
        fields["priority"] = _enum("priority", changes["priority"], PROJECT_PRIORITIES)
    if "description" in changes:
        fields["description"] = _optional_text(changes["description"])
    if "icon" in changes:
        fields["icon"] = _icon(changes["icon"])
    if "lead_type" in changes:
        fields["lead_type"] = _optional_text(changes["lead_type"])
    if "lead_id" in changes:
        fields["lead_id"] = _lead_id(changes["lead_id"])
    for field in ("start_date", "due_date"):
        if field in changes:
            fields[field] = _date(field, changes[field])

    with transaction.atomic():
        project = project_get(ctx=ctx, project_id=project_id, for_update=True)
        lead_changed = "lead_type" in fields or "lead_id" in fields
        for field, value in fields.items():
            setattr(project, field, value)
        if lead_changed:
            _validate_lead(ctx, project.lead_type, project.lead_id)
        project.save()
        project = project_get(ctx=ctx, project_id=project.pk)  # with issue counts
        publish(
            "project:updated",
            {"project": project_wire(project)},
            workspace_id=ctx.workspace_id,
            actor=ctx.actor,
        )
    return project


def project_delete(*, ctx: WorkspaceContext, project_id: Any) -> None:
    """Delete a project (owner/admin, as Multica); its issues keep existing, unfiled."""
    with transaction.atomic():
        project = project_get(ctx=ctx, project_id=project_id, for_update=True)
        if ctx.role not in ADMINS:
            raise PermissionDenied()
        Issue.objects.filter(workspace_id=ctx.workspace_id, project_id=project.pk).update(
            project=None
        )
        Project.objects.filter(pk=project.pk, workspace_id=ctx.workspace_id).delete()
        publish(
            "project:deleted",
            {"project_id": str(project.pk)},
            workspace_id=ctx.workspace_id,
            actor=ctx.actor,
        )
