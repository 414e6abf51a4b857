"""Labels on issues (spec §3.3 ``/api/issues/{id}/labels``): attach and detach issue-type labels
of the workspace. A change bumps the issue's revision and last activity and publishes
``issue_labels:changed {issue_id, labels, issue_revision}``."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone

from issues.models import Issue, IssueLabel, Label
from issues.selectors import issue_get, label_get, labels_of_issue
from issues.services.issues import ISSUE_LABELS_CHANGED, check_type
from issues.services.list_cache import issue_counts_changed
from issues.wire import label_wire
from multica_site.errors import ValidationError
from multica_site.events import publish
from workspaces.context import WorkspaceContext


@dataclass
class IssueLabels:
    labels: list[Label]
    issue_revision: int | None  # set when this write changed the issue's labels


def _labels_changed(ctx: WorkspaceContext, issue: Issue) -> list[Label]:
    issue_counts_changed(ctx.workspace_id)
    issue.revision += 1
    issue.last_activity_at = max(issue.last_activity_at or issue.updated_at, timezone.now())
    issue.save(update_fields=["revision", "last_activity_at"])
    labels = labels_of_issue(ctx=ctx, issue=issue)
    publish(
        ISSUE_LABELS_CHANGED,
        {
            "issue_id": str(issue.pk),
            "labels": [label_wire(label) for label in labels],
            "issue_revision": issue.revision,
        },
        workspace_id=ctx.workspace_id,
        actor=ctx.actor,
    )
    return labels


def issue_label_attach(*, ctx: WorkspaceContext, issue_ref: Any, label_id: Any) -> IssueLabels:
    if not label_id:
        raise ValidationError("label_id is required")
    check_type("label_id", label_id, str, uuid.UUID)
    with transaction.atomic():
        issue = issue_get(ctx=ctx, issue_ref=issue_ref, for_update=True)
        label = label_get(ctx=ctx, label_id=label_id, field_name="label_id")
        _, created = IssueLabel.objects.get_or_create(issue=issue, label=label)
        if not created:
            return IssueLabels(labels_of_issue(ctx=ctx, issue=issue), None)
        return IssueLabels(_labels_changed(ctx, issue), issue.revision)


def issue_label_detach(*, ctx: WorkspaceContext, issue_ref: Any, label_id: Any) -> IssueLabels:
    with transaction.atomic():
        issue = issue_get(ctx=ctx, issue_ref=issue_ref, for_update=True)
        label = label_get(ctx=ctx, label_id=label_id, field_name="label id")
        deleted, _ = IssueLabel.objects.filter(issue=issue, label=label).delete()
        if not deleted:
            return IssueLabels(labels_of_issue(ctx=ctx, issue=issue), None)
        return IssueLabels(_labels_changed(ctx, issue), issue.revision)
