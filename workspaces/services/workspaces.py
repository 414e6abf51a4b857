"""Workspaces, members, invitations (spec §2)."""

from __future__ import annotations

import re

from django.db import IntegrityError, transaction

from multica_site.errors import Conflict, ValidationError
from workspaces.models import Member, Role, User, Workspace

SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
PREFIX_RE = re.compile(r"^[A-Z0-9]{1,10}$")


def default_issue_prefix(slug: str) -> str:
    chars = [c for c in slug.upper() if c.isalnum()][:4]
    return "".join(chars) or "WS"


def workspace_create(
    *,
    user: User,
    name: str,
    slug: str,
    description: str | None = None,
    context: str | None = None,
    issue_prefix: str | None = None,
) -> Workspace:
    """Create a workspace with ``user`` as its owner."""
    from workspaces.reserved import is_reserved_slug  # noqa: PLC0415

    name = (name or "").strip()
    if not name:
        raise ValidationError("name is required")
    slug = (slug or "").strip().lower()
    if not slug:
        raise ValidationError("slug is required")
    if not SLUG_RE.match(slug):
        raise ValidationError(
            "slug must contain only lowercase letters, numbers, and hyphens", code="invalid_slug"
        )
    if is_reserved_slug(slug):
        raise ValidationError("slug is reserved", code="reserved_slug")
    prefix = (issue_prefix or "").strip().upper() or default_issue_prefix(slug)
    if not PREFIX_RE.match(prefix):
        raise ValidationError(
            "issue_prefix must be 1-10 uppercase letters or digits", code="invalid_issue_prefix"
        )
    try:
        with transaction.atomic():
            workspace = Workspace.objects.create(
                name=name, slug=slug, description=description, context=context, issue_prefix=prefix
            )
            Member.objects.create(workspace=workspace, user=user, role=Role.OWNER)
            for hook in WORKSPACE_CREATED_HOOKS:
                hook(workspace)
    except IntegrityError as exc:
        raise Conflict("workspace slug already exists", code="slug_conflict") from exc
    return workspace


# Other domains seed per-workspace data here (e.g. the issue status catalog), inside the
# creating transaction.
WORKSPACE_CREATED_HOOKS: list = []
