"""Issue writes (spec §3.1, §3.3, §3.10): create, update, move, delete, batches, labels.

Every write runs in one transaction, validates ids from the body against ``ctx.workspace``
(foreign and unknown ids fail alike, nothing written), and publishes Multica's events on commit.
Error sentences are Multica's. Side effects owned by other areas are called, not reimplemented:
subscribers/inbox (:mod:`issues.services.notifications`), attachments
(:mod:`issues.services.attachments`), and — through the hook lists below — agent tasks.
"""

from __future__ import annotations

import math
import re
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from django.db import connection, transaction
from django.db.models import Min
from django.utils import timezone

from issues.models import (
    Attachment,
    Issue,
    IssueLabel,
    Label,
    Project,
    normalized_title,
    uuid7,
)
from issues.selectors import (
    StatusCategories,
    closed_status_keys,
    issue_get,
    parse_uuid,
    status_resolve,
)
from issues.services.activity import activity_record_many
from issues.services.attachments import attachments_link
from issues.services.changes import IssueChanges
from issues.services.list_cache import issue_counts_changed
from issues.services.notifications import issue_created_notify, issue_updated_notify
from issues.services.statuses import catalog_lock_shared
from issues.wire import PRIORITIES, issue_prefix, issue_wire
from multica_site.errors import Conflict, DomainError, NotFound, ValidationError
from multica_site.events import publish
from workspaces.context import WorkspaceContext
from workspaces.models import Member

ISSUE_CREATED = "issue:created"
ISSUE_UPDATED = "issue:updated"
ISSUE_DELETED = "issue:deleted"
ISSUE_LABELS_CHANGED = "issue_labels:changed"
ISSUE_ATTACHMENTS_CHANGED = "issue_attachments:changed"

STATUS_ARCHIVED_RACE = (
    "the target status was archived while this request was in flight; "
    "reload the status list and retry"
)

# --- extension points -------------------------------------------------------------------------
# Assignee kinds beyond ``member``: ``validator(ctx, assignee_id)`` raises a DomainError when the
# target does not exist, is archived, or the actor may not invoke it (agents, squads).
AssigneeValidator = Callable[[WorkspaceContext, uuid.UUID], None]
ASSIGNEE_VALIDATORS: dict[str, AssigneeValidator] = {}
UNREGISTERED_ASSIGNEE_ERRORS = {"agent": "agent not found", "squad": "squad not found"}

# Run inside the writing transaction, after the row is written (agent task enqueue, §3.9):
#   ISSUE_CREATED_HOOKS:  hook(ctx=, issue=)
#   ISSUE_UPDATED_HOOKS:  hook(ctx=, issue=, changes=, suppress_run=, handoff_note=)
#   ISSUE_DELETED_HOOKS:  hook(ctx=, issue=) before the row is deleted (cancel active tasks…)
ISSUE_CREATED_HOOKS: list[Callable[..., None]] = []
ISSUE_UPDATED_HOOKS: list[Callable[..., None]] = []
ISSUE_DELETED_HOOKS: list[Callable[..., None]] = []

UPDATE_FIELDS = (
    "title", "description", "status", "priority", "assignee_type", "assignee_id", "position",
    "start_date", "due_date", "parent_issue_id", "project_id", "stage",
)  # fmt: skip
# Fields whose change counts as activity (bumps last_activity_at); position alone does not.
ACTIVITY_FIELDS = frozenset(UPDATE_FIELDS) - {"position"}
NULLABLE_FIELDS = frozenset(
    {"assignee_type", "assignee_id", "start_date", "due_date", "parent_issue_id", "project_id",
     "stage"}
)  # fmt: skip
MOVE_FIELDS = frozenset(
    {"status", "assignee_type", "assignee_id", "parent_issue_id", "project_id", "before_id",
     "after_id", "expected_revision"}
)  # fmt: skip
MAX_PARENT_DEPTH = 100


# --- small validators -------------------------------------------------------------------------


def _text(value: str) -> str:
    """Stored text never carries NUL bytes (PostgreSQL rejects them)."""
    return value.replace("\x00", "")


def check_type(name: str, value: Any, *types: type) -> None:
    if value is None:
        return
    if isinstance(value, bool) and bool not in types:
        raise ValidationError("invalid request body")
    if not isinstance(value, types):
        raise ValidationError("invalid request body")


def _priority(value: str) -> str:
    if value not in PRIORITIES:
        raise ValidationError(
            f'invalid priority "{value}"; valid values: {", ".join(PRIORITIES)}',
            code="invalid_priority",
        )
    return value


def _stage(value: Any) -> int | None:
    if value is None:
        return None
    check_type("stage", value, int)
    if value < 1:
        raise ValidationError("stage must be >= 1")
    return int(value)


def parse_calendar_date(value: Any, field_name: str) -> date | None:
    """``YYYY-MM-DD``; an RFC 3339 timestamp only when it is exactly a UTC midnight. Empty or
    null clears."""
    if value is None or value == "":
        return None
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    error = ValidationError(f"invalid {field_name} format, expected YYYY-MM-DD")
    if not isinstance(value, str):
        raise error
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        try:
            return date.fromisoformat(value)
        except ValueError as exc:
            raise error from exc
    try:
        stamp = datetime.fromisoformat(value.replace("z", "Z"))
    except ValueError as exc:
        raise error from exc
    if stamp.tzinfo is None or "T" not in value.upper():
        raise error
    stamp = stamp.astimezone(UTC)
    if (stamp.hour, stamp.minute, stamp.second, stamp.microsecond) != (0, 0, 0, 0):
        raise error
    return stamp.date()


def _uuid_or_none(value: Any, field_name: str) -> uuid.UUID | None:
    if value is None:
        return None
    check_type(field_name, value, str, uuid.UUID)
    return parse_uuid(value, field_name)


def _uuid_list(values: Iterable[Any] | None, field_name: str) -> list[uuid.UUID]:
    if values is None:
        return []
    if isinstance(values, str | bytes) or not isinstance(values, Iterable):
        raise ValidationError("invalid request body")
    return list(dict.fromkeys(parse_uuid(v, field_name) for v in values))


def _actor_uuid(ctx: WorkspaceContext) -> uuid.UUID:
    try:
        return uuid.UUID(str(ctx.actor.id))
    except ValueError as exc:
        raise ValidationError("an actor is required to write issues") from exc


def _validate_member(ctx: WorkspaceContext, assignee_id: uuid.UUID) -> None:
    if not Member.objects.filter(workspace_id=ctx.workspace_id, user_id=assignee_id).exists():
        raise ValidationError("assignee_id does not refer to a member of this workspace")


def validate_assignee(
    ctx: WorkspaceContext, assignee_type: str | None, assignee_id: uuid.UUID | None
) -> None:
    """The (type, id) pair: both or neither; a member must belong to the workspace; other kinds go
    to :data:`ASSIGNEE_VALIDATORS`."""
    if assignee_type is None and assignee_id is None:
        return
    if (assignee_type is None) != (assignee_id is None):
        raise ValidationError("assignee_type and assignee_id must be provided together")
    assert assignee_id is not None  # noqa: S101 - narrowed by the check above
    if assignee_type == "member":
        _validate_member(ctx, assignee_id)
        return
    validator = ASSIGNEE_VALIDATORS.get(str(assignee_type))
    if validator is not None:
        validator(ctx, assignee_id)
        return
    if assignee_type in UNREGISTERED_ASSIGNEE_ERRORS:
        raise ValidationError(UNREGISTERED_ASSIGNEE_ERRORS[str(assignee_type)])
    raise ValidationError("assignee_type must be 'member', 'agent', or 'squad'")


def _issue_json(ctx: WorkspaceContext, issue: Issue, **extra: Any) -> dict[str, Any]:
    return issue_wire(
        issue,
        prefix=issue_prefix(ctx.workspace),
        status_category=StatusCategories(ctx)(issue.status),
        **extra,
    )


def _reresolve_custom_status(ctx: WorkspaceContext, key: str) -> None:
    """Under the shared catalog lock, the custom status must still be active (else 409)."""
    catalog_lock_shared(ctx.workspace_id)
    try:
        status_resolve(ctx=ctx, status=key)
    except ValidationError as exc:
        raise Conflict(STATUS_ARCHIVED_RACE, code="issue_status_archived") from exc


def _project_exists(ctx: WorkspaceContext, project_id: uuid.UUID) -> None:
    if not Project.objects.filter(pk=project_id, workspace_id=ctx.workspace_id).exists():
        raise ValidationError("project not found in this workspace")


def revision_conflict(issue_id: Any, expected: int, actual: int) -> Conflict:
    return Conflict(
        "resource changed since it was loaded",
        code="revision_conflict",
        extra={
            "resource_type": "issue",
            "resource_id": str(issue_id),
            "expected_revision": expected,
            "actual_revision": actual,
        },
    )


def _edit_conflict(issue_id: Any) -> Conflict:
    return Conflict(
        "resource field changed since it was loaded",
        code="revision_conflict",
        extra={"resource_type": "issue", "resource_id": str(issue_id)},
    )


# --- create -----------------------------------------------------------------------------------


@dataclass
class IssueWithRelations:
    issue: Issue
    labels: list[Label] = field(default_factory=list)
    attachments: list[Attachment] = field(default_factory=list)


def find_active_duplicate(
    ctx: WorkspaceContext,
    *,
    title: str,
    project_id: uuid.UUID | None,
    parent_issue_id: uuid.UUID | None,
) -> Issue | None:
    """An open issue (category not done/cancelled) with the same whitespace-collapsed,
    lower-cased title, the same project and the same parent."""
    normalized = " ".join(title.split()).lower()
    if not normalized:
        return None
    # ``issue_ws_norm_title`` serves (workspace, normalized title): an index probe.
    return (
        Issue.objects.alias(normalized=normalized_title())
        .filter(
            workspace_id=ctx.workspace_id,
            normalized=normalized,
            project_id=project_id,
            parent_issue_id=parent_issue_id,
        )
        .exclude(status__in=closed_status_keys(ctx=ctx))
        .order_by("created_at", "id")
        .first()
    )


def _next_number(workspace_id: Any) -> int:
    """Bump ``workspace.issue_counter`` under its row lock (held until commit): concurrent
    creates in one workspace serialize here and never share a number. The counter never falls
    behind the highest number in use (a stale full-row save of the workspace, an import), which
    costs one probe of the ``(workspace, number)`` unique index."""
    with connection.cursor() as cur:
        cur.execute(
            "UPDATE workspace SET issue_counter = GREATEST(issue_counter, "
            "(SELECT COALESCE(MAX(number), 0) FROM issue WHERE workspace_id = %s)) + 1 "
            "WHERE id = %s RETURNING issue_counter",
            [workspace_id, workspace_id],
        )
        row = cur.fetchone()
    if row is None:
        raise NotFound("workspace not found", code="workspace_not_found")
    return int(row[0])


def _labels_for_create(ctx: WorkspaceContext, label_ids: list[uuid.UUID]) -> list[Label]:
    if not label_ids:
        return []
    labels = list(
        Label.objects.filter(
            workspace_id=ctx.workspace_id,
            pk__in=label_ids,
            resource_type=Label.ResourceType.ISSUE,
        )
    )
    if len(labels) != len(label_ids):
        raise ValidationError("one or more labels not found in this workspace")
    return sorted(labels, key=lambda label: (label.name.lower(), str(label.pk)))


def issue_create(
    *,
    ctx: WorkspaceContext,
    title: Any = None,
    description: Any = None,
    status: Any = None,
    priority: Any = None,
    assignee_type: Any = None,
    assignee_id: Any = None,
    parent_issue_id: Any = None,
    project_id: Any = None,
    stage: Any = None,
    start_date: Any = None,
    due_date: Any = None,
    attachment_ids: Iterable[Any] | None = None,
    label_ids: Iterable[Any] | None = None,
    allow_duplicate: bool = False,
) -> IssueWithRelations:
    """Create an issue: numbered from the workspace counter, at the top of its status column.

    Effects on commit: ``issue:created {issue}``, the ``created`` activity row, subscribers and
    inbox (:func:`issue_created_notify`), and :data:`ISSUE_CREATED_HOOKS` (agent tasks).
    """
    for name, value in (("title", title), ("description", description), ("status", status),
                        ("priority", priority), ("assignee_type", assignee_type)):  # fmt: skip
        check_type(name, value, str)
    title = _text(title or "")
    if not title:
        raise ValidationError("title is required")
    description = _text(description) if description is not None else None
    status_key, _category, custom_status = status_resolve(ctx=ctx, status=status or "todo")
    priority = _priority(priority or "none")
    stage = _stage(stage)
    assignee_uuid = _uuid_or_none(assignee_id, "assignee_id")
    validate_assignee(ctx, assignee_type, assignee_uuid)
    project_uuid = _uuid_or_none(project_id, "project_id")
    parent_uuid = _uuid_or_none(parent_issue_id, "parent_issue_id")
    attachment_uuids = _uuid_list(attachment_ids, "attachment_ids")
    label_uuids = _uuid_list(label_ids, "label_ids")
    start = parse_calendar_date(start_date, "start_date")
    due = parse_calendar_date(due_date, "due_date")
    creator_id = _actor_uuid(ctx)

    with transaction.atomic():
        if custom_status:
            _reresolve_custom_status(ctx, status_key)
        if parent_uuid is not None:
            parent = Issue.objects.filter(pk=parent_uuid, workspace_id=ctx.workspace_id).first()
            if parent is None:
                raise ValidationError("parent issue not found in this workspace")
            if project_uuid is None:
                project_uuid = parent.project_id
        if project_uuid is not None:
            _project_exists(ctx, project_uuid)
        labels = _labels_for_create(ctx, label_uuids)

        number = _next_number(ctx.workspace_id)
        if not allow_duplicate:
            duplicate = find_active_duplicate(
                ctx, title=title, project_id=project_uuid, parent_issue_id=parent_uuid
            )
            if duplicate is not None:
                identifier = f"{issue_prefix(ctx.workspace)}-{duplicate.number}"
                raise Conflict(
                    f"Active duplicate issue exists: {identifier} {duplicate.title} "
                    f"(status: {duplicate.status}). Set allow_duplicate=true or use "
                    "--allow-duplicate to create another.",
                    code="active_duplicate_issue",
                    extra={"issue": _issue_json(ctx, duplicate)},
                )
        top = Issue.objects.filter(workspace_id=ctx.workspace_id, status=status_key).aggregate(
            m=Min("position")
        )["m"]
        now = timezone.now()
        issue = Issue.objects.create(
            id=uuid7(), workspace_id=ctx.workspace_id, number=number, title=title,
            description=description, status=status_key, priority=priority,
            assignee_type=assignee_type if assignee_uuid else None, assignee_id=assignee_uuid,
            creator_type=ctx.actor.type, creator_id=creator_id, parent_issue_id=parent_uuid,
            project_id=project_uuid, position=(top or 0.0) - 1, stage=stage, start_date=start,
            due_date=due, created_at=now, updated_at=now, last_activity_at=now,
        )  # fmt: skip
        if labels:
            IssueLabel.objects.bulk_create(
                [IssueLabel(issue=issue, label=label, created_at=now) for label in labels]
            )
        attachments: list[Attachment] = []
        if attachment_uuids:
            attachments_link(ctx=ctx, attachment_ids=attachment_uuids, issue=issue)
            attachments = list(
                Attachment.objects.filter(workspace_id=ctx.workspace_id, issue=issue).order_by(
                    "created_at", "id"
                )
            )
        publish(
            ISSUE_CREATED,
            {"issue": _issue_json(ctx, issue, labels=labels, attachments=attachments)},
            workspace_id=ctx.workspace_id,
            actor=ctx.actor,
        )
        activity_record_many(ctx=ctx, issue=issue, entries=[("created", {})])
        issue_counts_changed(ctx.workspace_id)
        issue_created_notify(ctx=ctx, issue=issue)
        for hook in ISSUE_CREATED_HOOKS:
            hook(ctx=ctx, issue=issue)
    return IssueWithRelations(issue=issue, labels=labels, attachments=attachments)


# --- update -----------------------------------------------------------------------------------


def _would_cycle(ctx: WorkspaceContext, issue: Issue, new_parent: uuid.UUID) -> bool:
    """Walking up from ``new_parent`` reaches ``issue``."""
    cursor: uuid.UUID | None = new_parent
    seen: set[uuid.UUID] = set()
    for _ in range(MAX_PARENT_DEPTH):
        if cursor is None or cursor in seen:
            return False
        if cursor == issue.pk:
            return True
        seen.add(cursor)
        cursor = (
            Issue.objects.filter(pk=cursor, workspace_id=ctx.workspace_id)
            .values_list("parent_issue_id", flat=True)
            .first()
        )
    return True


@dataclass
class _Planned:
    values: dict[str, Any]
    custom_status: str | None
    assignee_touched: bool


def _plan_update(ctx: WorkspaceContext, issue: Issue, fields: Mapping[str, Any]) -> _Planned:
    """Validate the present fields (JSON null clears nullable ones; a null title, description,
    status, priority or position is ignored) into model attribute values."""
    values: dict[str, Any] = {}
    custom_status = None
    for name in ("title", "description", "status", "priority", "assignee_type"):
        check_type(name, fields.get(name), str)
    if fields.get("title") is not None:
        values["title"] = _text(fields["title"])
    if fields.get("description") is not None:
        values["description"] = _text(fields["description"])
    if fields.get("status") is not None:
        key, _category, custom = status_resolve(ctx=ctx, status=fields["status"])
        values["status"] = key
        custom_status = key if custom else None
    if fields.get("priority") is not None:
        values["priority"] = _priority(fields["priority"])
    if fields.get("position") is not None:
        check_type("position", fields["position"], int, float)
        position = float(fields["position"])
        if math.isnan(position) or math.isinf(position):
            raise ValidationError("invalid request body")
        values["position"] = position
    if "assignee_type" in fields:
        values["assignee_type"] = fields["assignee_type"]
    if "assignee_id" in fields:
        values["assignee_id"] = _uuid_or_none(fields["assignee_id"], "assignee_id")
    for name in ("start_date", "due_date"):
        if name in fields:
            values[name] = parse_calendar_date(fields[name], name)
    if "parent_issue_id" in fields:
        parent = _uuid_or_none(fields["parent_issue_id"], "parent_issue_id")
        if parent is not None:
            if parent == issue.pk:
                raise ValidationError("an issue cannot be its own parent")
            if not Issue.objects.filter(pk=parent, workspace_id=ctx.workspace_id).exists():
                raise ValidationError("parent issue not found in this workspace")
            if _would_cycle(ctx, issue, parent):
                raise ValidationError("circular parent relationship detected")
        values["parent_issue_id"] = parent
    if "project_id" in fields:
        project = _uuid_or_none(fields["project_id"], "project_id")
        if project is not None:
            _project_exists(ctx, project)
        values["project_id"] = project
    if "stage" in fields:
        values["stage"] = _stage(fields["stage"])
    touched = "assignee_type" in fields or "assignee_id" in fields
    if touched:
        validate_assignee(
            ctx,
            values.get("assignee_type", issue.assignee_type),
            values.get("assignee_id", issue.assignee_id),
        )
    return _Planned(values, custom_status, touched)


def _changed_flags(prev: dict[str, Any], touched: bool) -> dict[str, bool]:
    return {
        "assignee_changed": touched and ("assignee_type" in prev or "assignee_id" in prev),
        "status_changed": "status" in prev,
        "priority_changed": "priority" in prev,
        "project_changed": "project_id" in prev,
        "start_date_changed": "start_date" in prev,
        "due_date_changed": "due_date" in prev,
        "description_changed": "description" in prev,
        "title_changed": "title" in prev,
    }


def _date_text(value: date | None) -> str:
    return value.isoformat() if value is not None else ""


def _activity_entries(
    issue: Issue, prev: dict[str, Any], flags: dict[str, bool]
) -> list[tuple[str, dict[str, Any]]]:
    """§3.6 rows, in Multica's listener order."""
    entries: list[tuple[str, dict[str, Any]]] = []
    if flags["status_changed"]:
        entries.append(("status_changed", {"from": prev["status"], "to": issue.status}))
    if flags["priority_changed"]:
        entries.append(("priority_changed", {"from": prev["priority"], "to": issue.priority}))
    if flags["assignee_changed"]:
        old_type = prev.get("assignee_type", issue.assignee_type)
        old_id = prev.get("assignee_id", issue.assignee_id)
        details: dict[str, Any] = {}
        if old_type is not None:
            details["from_type"] = old_type
        if old_id is not None:
            details["from_id"] = str(old_id)
        if issue.assignee_type is not None:
            details["to_type"] = issue.assignee_type
        if issue.assignee_id is not None:
            details["to_id"] = str(issue.assignee_id)
        entries.append(("assignee_changed", details))
    for name in ("start_date", "due_date"):
        if flags[f"{name}_changed"]:
            entries.append(
                (
                    f"{name}_changed",
                    {"from": _date_text(prev[name]), "to": _date_text(getattr(issue, name))},
                )
            )
    if flags["title_changed"]:
        entries.append(("title_changed", {"from": prev["title"], "to": issue.title}))
    if flags["description_changed"]:
        entries.append(("description_updated", {}))
    return entries


def issue_update(
    *,
    ctx: WorkspaceContext,
    issue_ref: Any,
    fields: Mapping[str, Any],
    expected_revision: Any = None,
    title_base: str | None = None,
    description_base: str | None = None,
    attachment_ids: Iterable[Any] | None = None,
    suppress_run: bool = False,
    handoff_note: str = "",
) -> Issue:
    """Partial update of the present ``fields`` (any of :data:`UPDATE_FIELDS`).

    ``revision`` +1 on every effective change, ``last_activity_at`` advances on every change but
    a pure reposition. ``expected_revision`` (and ``title_base``/``description_base``) guard
    against lost updates with 409 ``revision_conflict``. Publishes ``issue:updated`` (§3.10) and
    an ``activity:created`` per activity row.
    """
    issue = issue_get(ctx=ctx, issue_ref=issue_ref)
    if expected_revision is not None:
        check_type("expected_revision", expected_revision, int)
        if expected_revision < 1:
            raise ValidationError("expected_revision must be a positive integer")
        if issue.revision != expected_revision:
            raise revision_conflict(issue.pk, expected_revision, issue.revision)
    plan = _plan_update(ctx, issue, fields)
    attachment_uuids = _uuid_list(attachment_ids, "attachment_ids")

    with transaction.atomic():
        if plan.custom_status:
            _reresolve_custom_status(ctx, plan.custom_status)
        issue = issue_get(ctx=ctx, issue_ref=issue.pk, for_update=True)
        if expected_revision is not None and issue.revision != expected_revision:
            raise revision_conflict(issue.pk, expected_revision, issue.revision)
        # A text edit made against a stale base loses to whatever landed since (field-level).
        new_title = plan.values.get("title")
        stale_title = title_base is not None and issue.title not in (title_base, new_title)
        new_description = plan.values.get("description")
        stale_description = description_base is not None and (issue.description or "") not in (
            description_base,
            new_description,
        )
        if (new_title is not None and stale_title) or (
            new_description is not None and stale_description
        ):
            raise _edit_conflict(issue.pk)

        prev: dict[str, Any] = {}
        for name, value in plan.values.items():
            if getattr(issue, name) != value:
                prev[name] = getattr(issue, name)
                setattr(issue, name, value)
        now = timezone.now()
        update_fields = list(prev)
        if prev:
            issue.revision += 1
            issue.updated_at = now
            update_fields += ["revision", "updated_at"]
            if ACTIVITY_FIELDS & set(prev):
                issue.last_activity_at = max(issue.last_activity_at or now, now)
                update_fields.append("last_activity_at")
            issue.save(update_fields=update_fields)
            issue_counts_changed(ctx.workspace_id)

        attachments_changed = False
        if attachment_uuids:
            linked = attachments_link(ctx=ctx, attachment_ids=attachment_uuids, issue=issue)
            attachments_changed = bool(linked)
            if attachments_changed and not prev:
                issue.revision += 1
                issue.save(update_fields=["revision"])

        changes = IssueChanges(prev=prev)
        flags = _changed_flags(prev, plan.assignee_touched)
        issue_json = _issue_json(ctx, issue)
        publish(
            ISSUE_UPDATED,
            {
                "issue": issue_json,
                **flags,
                "prev_title": prev.get("title", issue.title),
                "prev_assignee_type": prev.get("assignee_type", issue.assignee_type),
                "prev_assignee_id": _str(prev.get("assignee_id", issue.assignee_id)),
                "prev_status": prev.get("status", issue.status),
                "prev_priority": prev.get("priority", issue.priority),
                "prev_start_date": _iso(prev.get("start_date", issue.start_date)),
                "prev_due_date": _iso(prev.get("due_date", issue.due_date)),
                "prev_description": prev.get("description", issue.description),
                "creator_type": issue.creator_type,
                "creator_id": str(issue.creator_id),
            },
            workspace_id=ctx.workspace_id,
            actor=ctx.actor,
        )
        if attachments_changed:
            publish(
                ISSUE_ATTACHMENTS_CHANGED,
                {"issue_id": str(issue.pk), "issue_revision": issue.revision},
                workspace_id=ctx.workspace_id,
                actor=ctx.actor,
            )
        activity_record_many(ctx=ctx, issue=issue, entries=_activity_entries(issue, prev, flags))
        if changes.any:
            issue_updated_notify(ctx=ctx, issue=issue, changes=changes)
            for hook in ISSUE_UPDATED_HOOKS:
                hook(
                    ctx=ctx,
                    issue=issue,
                    changes=changes,
                    suppress_run=suppress_run,
                    handoff_note=handoff_note,
                )
    return issue


def _str(value: Any) -> str | None:
    return str(value) if value is not None else None


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value is not None else None


# --- move -------------------------------------------------------------------------------------


def _anchor(value: Any, field_name: str) -> uuid.UUID | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value:
        raise ValidationError(f"{field_name} must be a UUID or null")
    return parse_uuid(value, field_name)


def _anchor_position(ctx: WorkspaceContext, anchor: uuid.UUID | None) -> float | None:
    if anchor is None:
        return None
    position = (
        Issue.objects.filter(pk=anchor, workspace_id=ctx.workspace_id)
        .values_list("position", flat=True)
        .first()
    )
    if position is None:
        raise ValidationError("move anchor not found in this workspace")
    return float(position)


def move_position(current: float, before: float | None, after: float | None) -> float:
    """Between both anchors (midpoint), after ``before`` (+1), before ``after`` (−1), or kept."""
    if before is not None and after is not None:
        if not before < after:
            raise Conflict("move anchors are stale or out of order", code="move_conflict")
        position = before + (after - before) / 2
        if not before < position < after or math.isinf(position) or math.isnan(position):
            raise Conflict("move anchors are too close; refresh and retry", code="move_conflict")
        return position
    if before is not None or after is not None:
        position = before + 1 if before is not None else after - 1  # type: ignore[operator]
        if math.isinf(position) or math.isnan(position):
            raise Conflict("move position is out of range", code="move_conflict")
        return position
    return current


def issue_move(*, ctx: WorkspaceContext, issue_ref: Any, body: Mapping[str, Any]) -> Issue:
    """``POST /api/issues/{id}/move``: position from the neighbours ``before_id``/``after_id``
    (both keys required, uuid or null), plus optional status/assignee/parent/project changes;
    then exactly the PUT path."""
    issue = issue_get(ctx=ctx, issue_ref=issue_ref)
    for key in body:
        if key not in MOVE_FIELDS:
            raise ValidationError(f"unsupported move field: {key}")
    for key in ("before_id", "after_id"):
        if key not in body:
            raise ValidationError(f"{key} is required")
    if body.get("project_id") is not None:
        _project_exists(ctx, _anchor(body["project_id"], "project_id"))  # type: ignore[arg-type]
    before_id = _anchor(body["before_id"], "before_id")
    after_id = _anchor(body["after_id"], "after_id")
    if before_id == issue.pk:
        raise ValidationError("before_id cannot be the moved issue")
    if after_id == issue.pk:
        raise ValidationError("after_id cannot be the moved issue")
    if before_id is not None and before_id == after_id:
        raise ValidationError("move anchors must be distinct")
    position = move_position(
        issue.position, _anchor_position(ctx, before_id), _anchor_position(ctx, after_id)
    )
    fields = {k: v for k, v in body.items() if k not in ("before_id", "after_id")}
    expected_revision = fields.pop("expected_revision", None)
    fields["position"] = position
    return issue_update(
        ctx=ctx, issue_ref=issue.pk, fields=fields, expected_revision=expected_revision
    )


# --- delete -----------------------------------------------------------------------------------


def issue_delete(*, ctx: WorkspaceContext, issue_ref: Any) -> None:
    """Delete an issue and what cascades from it; children keep living without a parent.
    Publishes ``issue:deleted {issue_id}`` (always the UUID)."""
    with transaction.atomic():
        issue = issue_get(ctx=ctx, issue_ref=issue_ref, for_update=True)
        for hook in ISSUE_DELETED_HOOKS:
            hook(ctx=ctx, issue=issue)
        Issue.objects.filter(pk=issue.pk, workspace_id=ctx.workspace_id).delete()
        issue_counts_changed(ctx.workspace_id)
        publish(
            ISSUE_DELETED,
            {"issue_id": str(issue.pk)},
            workspace_id=ctx.workspace_id,
            actor=ctx.actor,
        )


# --- batches ----------------------------------------------------------------------------------


def _batch_ids(issue_ids: Any) -> list[uuid.UUID]:
    if issue_ids is not None and (isinstance(issue_ids, str) or not isinstance(issue_ids, list)):
        raise ValidationError("invalid request body")
    if not issue_ids:
        raise ValidationError("issue_ids is required")
    out = []
    for raw in issue_ids:
        try:
            out.append(uuid.UUID(str(raw)))
        except ValueError:
            continue  # Multica skips unparseable ids
    return out


def issues_batch_update(
    *,
    ctx: WorkspaceContext,
    issue_ids: Any,
    updates: Mapping[str, Any],
    suppress_run: bool = False,
    handoff_note: str = "",
) -> int:
    """Apply the same PUT fields to many issues; an issue that fails its own validation is
    skipped. Whole-batch errors (bad status, priority or project) are 400s. Returns the count."""
    ids = _batch_ids(issue_ids)
    fields = {k: v for k, v in updates.items() if k in UPDATE_FIELDS}
    has_mutation = any(
        (k in NULLABLE_FIELDS) or fields[k] is not None for k in fields
    )  # non-nullable fields sent as null change nothing
    if not has_mutation:
        return 0
    if fields.get("priority") is not None:
        check_type("priority", fields["priority"], str)
        _priority(fields["priority"])
    if fields.get("status") is not None:
        check_type("status", fields["status"], str)
        fields["status"] = status_resolve(ctx=ctx, status=fields["status"])[0]
    if fields.get("project_id") is not None:
        _project_exists(ctx, _uuid_or_none(fields["project_id"], "project_id"))  # type: ignore[arg-type]
    updated = 0
    for issue_id in ids:
        try:
            issue_update(
                ctx=ctx,
                issue_ref=issue_id,
                fields=fields,
                suppress_run=suppress_run,
                handoff_note=handoff_note,
            )
        except Conflict as exc:
            if exc.code == "issue_status_archived":
                raise  # the whole batch targets the same status
            continue
        except DomainError:
            continue
        updated += 1
    return updated


def issues_batch_delete(*, ctx: WorkspaceContext, issue_ids: Any) -> int:
    deleted = 0
    for issue_id in _batch_ids(issue_ids):
        try:
            issue_delete(ctx=ctx, issue_ref=issue_id)
        except NotFound:
            continue
        deleted += 1
    return deleted
