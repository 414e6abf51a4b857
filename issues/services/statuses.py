"""The status catalog (spec §3.2): the 7 built-in statuses seeded for every workspace, plus the
custom statuses owners and admins add. A custom status inherits one of the 7 categories; its key
is immutable once created because it is the value stored in ``issue.status``.

Every write publishes ``issue_status:changed {action}`` on commit; clients re-read the catalog.
Archiving takes the catalog's exclusive advisory lock; an issue write that lands on a custom status
takes the shared side (:func:`catalog_lock_shared`) and re-resolves the status under it, so no new
issue can be put on a status that an archive has just retired.
"""

from __future__ import annotations

import re
import uuid
from typing import TYPE_CHECKING, Any

from django.db import IntegrityError, connection, transaction
from django.db.models import Max
from django.utils import timezone

from issues.models import IssueStatus
from issues.services.list_cache import issue_counts_changed
from issues.wire import (  # noqa: F401 - re-exported for other areas
    BUILTIN_STATUSES,
    CATEGORIES,
    CATEGORY_RANK,
    CLOSED_CATEGORIES,
)
from multica_site.errors import Conflict, NotFound, PermissionDenied, ValidationError
from multica_site.events import publish

if TYPE_CHECKING:
    from workspaces.context import WorkspaceContext
    from workspaces.models import Workspace

ISSUE_STATUS_CHANGED = "issue_status:changed"

KEY_RE = re.compile(r"^[a-z0-9][a-z0-9_]{0,31}$")
COLOR_RE = re.compile(r"^#?[0-9a-fA-F]{6}$")
NAME_ERROR = "name must be 1-64 characters"
DESCRIPTION_ERROR = "description must be at most 256 characters"
COLOR_ERROR = "color must be a 6-digit hex value like #3b82f6"
CATEGORY_ERROR = "category must be one of: " + ", ".join(CATEGORIES)

_UNSET: Any = object()


def statuses_seed(workspace: Workspace) -> None:
    """Create the built-in statuses of ``workspace`` (idempotent, safe under concurrency)."""
    IssueStatus.objects.bulk_create(
        [
            IssueStatus(
                workspace=workspace, key=key, name=name, description=description,
                category=key, color=color, is_system=True, position=0.0,
            )
            for key, name, description, color in BUILTIN_STATUSES
        ],
        ignore_conflicts=True,
    )  # fmt: skip


def register() -> None:
    from workspaces.services.workspaces import WORKSPACE_CREATED_HOOKS  # noqa: PLC0415

    if statuses_seed not in WORKSPACE_CREATED_HOOKS:
        WORKSPACE_CREATED_HOOKS.append(statuses_seed)


# --- locks ------------------------------------------------------------------------------------


def _catalog_lock(workspace_id: Any, *, shared: bool) -> None:
    fn = "pg_advisory_xact_lock_shared" if shared else "pg_advisory_xact_lock"
    with connection.cursor() as cur:
        cur.execute(
            f"SELECT {fn}(hashtextextended(%s || ':issue_status', 0))",
            [str(workspace_id)],
        )


def catalog_lock_shared(workspace_id: Any) -> None:
    """The shared side of the catalog lock, for issue writes onto a custom status."""
    _catalog_lock(workspace_id, shared=True)


# --- validation -------------------------------------------------------------------------------


def validate_key(raw: str) -> str:
    key = raw.strip().lower()
    if not key:
        raise ValidationError("status key is required")
    if not KEY_RE.match(key):
        raise ValidationError(
            "status key must be 1-32 characters of lowercase letters, digits or underscore, "
            "starting with a letter or digit"
        )
    if key in CATEGORY_RANK:
        raise ValidationError(f'"{key}" is a built-in status key and cannot be reused')
    return key


def slugify_key(name: str) -> str:
    out: list[str] = []
    last_underscore = False
    for ch in name.strip().lower():
        if ("a" <= ch <= "z") or ("0" <= ch <= "9"):
            out.append(ch)
            last_underscore = False
        elif not last_underscore and out:
            out.append("_")
            last_underscore = True
    slug = "".join(out).strip("_")
    if len(slug) > 32:
        slug = slug[:32].strip("_")
    if not slug:
        raise ValidationError("cannot derive a status key from that name; provide one explicitly")
    return validate_key(slug)


def normalize_color(raw: str) -> str:
    color = raw.strip()
    if not COLOR_RE.match(color):
        raise ValidationError(COLOR_ERROR)
    if not color.startswith("#"):
        color = "#" + color
    return color.lower()


def _clean_name(raw: str) -> str:
    name = raw.strip()
    if not name or len(name) > 64:
        raise ValidationError(NAME_ERROR)
    return name


def _clean_description(raw: str) -> str:
    if len(raw) > 256:
        raise ValidationError(DESCRIPTION_ERROR)
    return raw


def _changed(ctx: WorkspaceContext, action: str) -> None:
    issue_counts_changed(ctx.workspace_id)  # category filters expand to the catalog's keys
    publish(
        ISSUE_STATUS_CHANGED, {"action": action}, workspace_id=ctx.workspace_id, actor=ctx.actor
    )


def _name_taken(ctx: WorkspaceContext, name: str, exclude_id: Any = None) -> bool:
    qs = IssueStatus.objects.filter(
        workspace_id=ctx.workspace_id, archived_at__isnull=True, name__iexact=name
    )
    if exclude_id is not None:
        qs = qs.exclude(pk=exclude_id)
    return qs.exists()


def _load(ctx: WorkspaceContext, status_id: Any, *, for_update: bool = False) -> IssueStatus:
    try:
        pk = uuid.UUID(str(status_id))
    except ValueError as exc:
        raise ValidationError("invalid issue status id") from exc
    qs = IssueStatus.objects.filter(pk=pk, workspace_id=ctx.workspace_id)
    if for_update:
        qs = qs.select_for_update()
    entry = qs.first()
    if entry is None:
        raise NotFound("issue status not found", code="issue_status_not_found")
    return entry


# --- writes -----------------------------------------------------------------------------------


def status_create(
    *,
    ctx: WorkspaceContext,
    name: str,
    category: str,
    color: str,
    key: str = "",
    description: str = "",
) -> IssueStatus:
    """A custom status at the end of its category (owner/admin; the view gates the role)."""
    name = _clean_name(name)
    description = _clean_description(description)
    if category not in CATEGORY_RANK:
        raise ValidationError(CATEGORY_ERROR)
    color = normalize_color(color)
    key = validate_key(key) if key.strip() else slugify_key(name)
    duplicate = "a status with this key or name already exists"
    with transaction.atomic():
        # Exclusive: two creates with the same name must not both pass the name check (the
        # model has no unique index on the active names; see the report).
        _catalog_lock(ctx.workspace_id, shared=False)
        if _name_taken(ctx, name):
            raise Conflict(duplicate, code="issue_status_exists")
        top = IssueStatus.objects.filter(
            workspace_id=ctx.workspace_id, category=category
        ).aggregate(m=Max("position"))["m"]
        try:
            with transaction.atomic():
                entry = IssueStatus.objects.create(
                    workspace_id=ctx.workspace_id, key=key, name=name, description=description,
                    category=category, color=color, is_system=False,
                    position=(top + 1) if top is not None else 0.0,
                )  # fmt: skip
        except IntegrityError as exc:
            raise Conflict(duplicate, code="issue_status_exists") from exc
        _changed(ctx, "created")
    return entry


def status_update(
    *,
    ctx: WorkspaceContext,
    status_id: Any,
    name: Any = _UNSET,
    description: Any = _UNSET,
    color: Any = _UNSET,
    position: Any = _UNSET,
) -> IssueStatus:
    """Name, description, colour or intra-category position of a custom status. Key and category
    are immutable; built-ins are immutable altogether."""
    with transaction.atomic():
        _catalog_lock(ctx.workspace_id, shared=False)  # the name check, as in status_create
        entry = _load(ctx, status_id, for_update=True)
        if entry.is_system:
            raise PermissionDenied("built-in statuses cannot be modified")
        if entry.archived_at is not None:
            raise Conflict("archived statuses cannot be modified", code="issue_status_archived")
        fields: list[str] = []
        if name is not _UNSET and name is not None:
            entry.name = _clean_name(name)
            if _name_taken(ctx, entry.name, exclude_id=entry.pk):
                raise Conflict("a status with this name already exists", code="issue_status_exists")
            fields.append("name")
        if description is not _UNSET and description is not None:
            entry.description = _clean_description(description)
            fields.append("description")
        if color is not _UNSET and color is not None:
            entry.color = normalize_color(color)
            fields.append("color")
        if position is not _UNSET and position is not None:
            entry.position = float(position)
            fields.append("position")
        entry.updated_at = timezone.now()
        entry.save(update_fields=[*fields, "updated_at"])
        _changed(ctx, "updated")
    return entry


def status_archive(*, ctx: WorkspaceContext, status_id: Any) -> IssueStatus:
    """Retire a custom status from future use; issues already on it keep it (idempotent)."""
    entry = _load(ctx, status_id)
    if entry.is_system:
        raise PermissionDenied("built-in statuses cannot be archived")
    if entry.archived_at is not None:
        return entry
    with transaction.atomic():
        _catalog_lock(ctx.workspace_id, shared=False)
        entry = _load(ctx, status_id, for_update=True)
        if entry.archived_at is not None:
            raise Conflict("status is no longer archivable", code="issue_status_archived")
        entry.archived_at = entry.updated_at = timezone.now()
        entry.save(update_fields=["archived_at", "updated_at"])
        _changed(ctx, "archived")
    return entry


def statuses_reorder(*, ctx: WorkspaceContext, category: str, ids: list[Any]) -> None:
    """Rewrite the order of ``category``'s active custom statuses: ``ids`` must name all of them."""
    if category not in CATEGORY_RANK:
        raise ValidationError(CATEGORY_ERROR)
    if not ids:
        raise ValidationError("ids must not be empty")
    parsed: list[uuid.UUID] = []
    seen: set[str] = set()
    for raw in ids:
        if str(raw) in seen:
            raise ValidationError("duplicate ids")
        seen.add(str(raw))
        try:
            parsed.append(uuid.UUID(str(raw)))
        except ValueError as exc:
            raise ValidationError("invalid issue status id") from exc
    with transaction.atomic():
        _catalog_lock(ctx.workspace_id, shared=True)
        active = {
            s.pk: s
            for s in IssueStatus.objects.select_for_update().filter(
                workspace_id=ctx.workspace_id,
                category=category,
                is_system=False,
                archived_at__isnull=True,
            )
        }
        for pk in parsed:
            if pk in active:
                continue
            entry = IssueStatus.objects.filter(pk=pk, workspace_id=ctx.workspace_id).first()
            if entry is None:
                raise NotFound("issue status not found", code="issue_status_not_found")
            if entry.is_system:
                raise PermissionDenied("built-in statuses cannot be reordered")
            if entry.archived_at is not None:
                raise Conflict(
                    "archived statuses cannot be reordered", code="issue_status_archived"
                )
            if entry.category != category:
                raise ValidationError("ids must all belong to the requested category")
            raise Conflict("issue status catalog changed during reorder")
        if len(active) != len(parsed):
            raise Conflict("ids must name every active custom status in the category")
        now = timezone.now()
        for index, pk in enumerate(parsed, start=1):
            entry = active[pk]
            entry.position = float(index)
            entry.updated_at = now
        IssueStatus.objects.bulk_update(list(active.values()), ["position", "updated_at"])
        _changed(ctx, "reordered")
