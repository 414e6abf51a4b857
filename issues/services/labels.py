"""Labels (spec §4): create, update and delete a workspace's labels; publish ``label:*``.

Validation mirrors Multica's ``handler/label.go`` (same sentences): names are trimmed, free of
control characters and at most 32 characters; colours are ``#rrggbb`` (a leading ``#`` is
optional on input, stored lower-case with it); a name is unique per (workspace, resource type)
ignoring case, which the database enforces (409 on a race too).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from django.db import IntegrityError, transaction

from issues.models import IssueLabel, Label
from issues.selectors_catalog import label_get, label_parse_resource_type
from issues.wire_catalog import label_wire
from multica_site.errors import Conflict, ValidationError
from multica_site.events import publish

if TYPE_CHECKING:
    from workspaces.context import WorkspaceContext

LABEL_NAME_MAX = 32
LABEL_NAME_UNIQUE = "label_ws_type_name_uniq"
# LOAD-BEARING: the web client renders the colour as an inline style; keep this strict.
HEX_COLOR_RE = re.compile(r"^#?[0-9a-fA-F]{6}$")

# Called with the label inside the delete transaction, before the row goes: the agents and
# skills domains register the cleanup of their label link tables here.
LABEL_DELETE_HOOKS: list[Callable[[Label], None]] = []


def label_validate_name(raw: Any) -> str:
    if raw is None:
        raw = ""
    if not isinstance(raw, str):
        raise ValidationError("invalid request body")
    if any(unicodedata.category(ch) == "Cc" for ch in raw):
        raise ValidationError(
            "name cannot contain tabs, newlines, or control characters", code="invalid_name"
        )
    name = raw.strip()
    if not name:
        raise ValidationError("name is required", code="invalid_name")
    if len(name) > LABEL_NAME_MAX:
        raise ValidationError("name must be 32 characters or fewer", code="invalid_name")
    return name


def label_normalize_color(raw: Any) -> str:
    value = raw.strip() if isinstance(raw, str) else ""
    if not HEX_COLOR_RE.match(value):
        raise ValidationError(
            "color must be a 6-digit hex value like #3b82f6", code="invalid_color"
        )
    if not value.startswith("#"):
        value = "#" + value
    return value.lower()


def _clean_description(raw: Any) -> str:
    if not isinstance(raw, str):
        raise ValidationError("invalid request body")
    return raw.strip().replace("\x00", "")


def _is_name_conflict(exc: IntegrityError) -> bool:
    return (
        LABEL_NAME_UNIQUE in str(exc)
        or getattr(getattr(exc.__cause__, "diag", None), "constraint_name", None)
        == LABEL_NAME_UNIQUE
    )


def _conflict() -> Conflict:
    return Conflict("a label with that name already exists", code="label_name_conflict")


def label_create(
    *,
    ctx: WorkspaceContext,
    name: Any,
    color: Any,
    description: Any = "",
    resource_type: Any = "",
) -> Label:
    """Create a label; 400 on invalid input, 409 when the name is taken (case-insensitive)."""
    clean_name = label_validate_name(name)
    clean_color = label_normalize_color(color)
    clean_type = label_parse_resource_type(resource_type)
    clean_description = _clean_description(description or "")
    try:
        with transaction.atomic():
            label = Label.objects.create(
                workspace_id=ctx.workspace_id,
                resource_type=clean_type,
                name=clean_name,
                description=clean_description,
                color=clean_color,
            )
            label.usage_count = 0
            publish(
                "label:created",
                {"label": label_wire(label)},
                workspace_id=ctx.workspace_id,
                actor=ctx.actor,
            )
    except IntegrityError as exc:
        if _is_name_conflict(exc):
            raise _conflict() from exc
        raise
    return label


def label_update(
    *,
    ctx: WorkspaceContext,
    label_id: Any,
    name: Any = None,
    description: Any = None,
    color: Any = None,
) -> Label:
    """Change the given fields (``None`` = unchanged, as Multica's pointer fields)."""
    changes: dict[str, Any] = {}
    if name is not None:
        changes["name"] = label_validate_name(name)
    if description is not None:
        changes["description"] = _clean_description(description)
    if color is not None:
        changes["color"] = label_normalize_color(color)
    try:
        with transaction.atomic():
            label = label_get(ctx=ctx, label_id=label_id, for_update=True)
            for field, value in changes.items():
                setattr(label, field, value)
            label.save()
            label = label_get(ctx=ctx, label_id=label.pk)  # with usage_count
            publish(
                "label:updated",
                {"label": label_wire(label)},
                workspace_id=ctx.workspace_id,
                actor=ctx.actor,
            )
    except IntegrityError as exc:
        if _is_name_conflict(exc):
            raise _conflict() from exc
        raise
    return label


def label_delete(*, ctx: WorkspaceContext, label_id: Any) -> None:
    """Delete a label and detach it from everything that carries it, in one transaction."""
    with transaction.atomic():
        label = label_get(ctx=ctx, label_id=label_id, for_update=True)
        IssueLabel.objects.filter(label_id=label.pk).delete()
        for hook in LABEL_DELETE_HOOKS:
            hook(label)
        Label.objects.filter(pk=label.pk, workspace_id=ctx.workspace_id).delete()
        publish(
            "label:deleted",
            {"label_id": str(label.pk)},
            workspace_id=ctx.workspace_id,
            actor=ctx.actor,
        )
