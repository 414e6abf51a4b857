"""Reads of the issues domain. Loaders take the workspace context and raise NotFound for
missing and foreign objects alike."""

from __future__ import annotations

import re
import uuid
from typing import Any

from issues.models import Issue
from multica_site.errors import NotFound
from workspaces.context import WorkspaceContext

IDENTIFIER_RE = re.compile(r"^([A-Za-z0-9]{1,10})-(\d{1,9})$")


def issue_get(*, ctx: WorkspaceContext, issue_ref: Any, for_update: bool = False) -> Issue:
    """Load an issue of ``ctx.workspace`` by UUID or ``PREFIX-N`` (prefix case-insensitive)."""
    qs = Issue.objects.filter(workspace_id=ctx.workspace_id)
    if for_update:
        qs = qs.select_for_update()
    ref = str(issue_ref).strip()
    try:
        issue = qs.filter(pk=uuid.UUID(ref)).first()
    except ValueError:
        match = IDENTIFIER_RE.match(ref)
        issue = None
        if match and match.group(1).upper() == ctx.workspace.issue_prefix.upper():
            issue = qs.filter(number=int(match.group(2))).first()
    if issue is None:
        raise NotFound("issue not found", code="issue_not_found")
    return issue
