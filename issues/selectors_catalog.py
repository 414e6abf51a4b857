"""Reads of labels, projects and attachments (spec §4, §10).

Every loader filters by ``ctx.workspace_id``; a missing and a foreign row raise the same
``NotFound``. Lists carry their counts as annotations of the one list query (no N+1).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from functools import reduce
from operator import and_
from typing import TYPE_CHECKING, Any

from django.db.models import (
    Case,
    Count,
    Exists,
    Expression,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
    Window,
)
from django.db.models.functions import Coalesce, Lower

from issues.models import Attachment, Issue, IssueLabel, IssueStatus, Label, Project
from issues.selectors import issue_get
from multica_site.errors import NotFound, ValidationError

if TYPE_CHECKING:
    from workspaces.context import WorkspaceContext

# --- labels -----------------------------------------------------------------------------------

LABEL_RESOURCE_TYPES = ("issue", "agent", "skill")
DEFAULT_LABEL_RESOURCE_TYPE = "issue"


def label_parse_resource_type(raw: Any) -> str:
    """``issue`` when empty; else one of ``issue|agent|skill`` or 400 (Multica's wording)."""
    if raw is not None and not isinstance(raw, str):
        raise ValidationError("invalid request body")
    value = (raw or "").strip()
    if not value:
        return DEFAULT_LABEL_RESOURCE_TYPE
    if value not in LABEL_RESOURCE_TYPES:
        raise ValidationError(
            "resource_type must be issue, agent, or skill", code="invalid_resource_type"
        )
    return value


def _count_subquery(qs: QuerySet, group_by: str) -> Expression:
    """``(SELECT count(*) FROM … GROUP BY <group_by>)`` correlated to the outer row, 0 if none."""
    counted = qs.order_by().values(group_by).annotate(n=Count("*")).values("n")[:1]
    return Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))


def _issue_label_usage() -> Expression:
    return _count_subquery(IssueLabel.objects.filter(label_id=OuterRef("pk")), "label_id")


# resource_type → expression counting the resources carrying the label (correlated on ``pk``).
# The agents and skills domains register theirs when their link tables exist; until then their
# labels count 0.
LABEL_USAGE_COUNTERS: dict[str, Callable[[], Expression]] = {"issue": _issue_label_usage}


def label_usage_count() -> Expression:
    """``usage_count`` of a label row, for ``.annotate(usage_count=label_usage_count())``."""
    whens = [When(resource_type=t, then=fn()) for t, fn in LABEL_USAGE_COUNTERS.items()]
    return Case(*whens, default=Value(0), output_field=IntegerField())


def label_list(*, ctx: WorkspaceContext, resource_type: str) -> QuerySet[Label]:
    """Labels of one resource type, by lower-cased name, each with ``usage_count``."""
    return (
        Label.objects.filter(workspace_id=ctx.workspace_id, resource_type=resource_type)
        .annotate(usage_count=label_usage_count())
        .order_by(Lower("name"), "id")
    )


def label_get(*, ctx: WorkspaceContext, label_id: Any, for_update: bool = False) -> Label:
    pk = _uuid_or_none(label_id)
    qs = Label.objects.filter(workspace_id=ctx.workspace_id)
    if for_update:
        qs = qs.select_for_update()
    else:
        qs = qs.annotate(usage_count=label_usage_count())
    label = qs.filter(pk=pk).first() if pk else None
    if label is None:
        raise NotFound("label not found", code="label_not_found")
    return label


# --- projects ---------------------------------------------------------------------------------

CLOSED_CATEGORIES = ("done", "cancelled")
CLOSED_PROJECT_STATUSES = ("completed", "cancelled")


def project_with_issue_stats(qs: QuerySet[Project]) -> QuerySet[Project]:
    """Annotate ``issue_count`` and ``done_count`` as correlated subqueries of the list query.

    Done = the issue's effective status category is done/cancelled: built-in keys are their own
    category, custom keys map through the workspace's status catalog.
    """
    issues = Issue.objects.filter(project_id=OuterRef("pk"), workspace_id=OuterRef("workspace_id"))
    closed_custom = IssueStatus.objects.filter(
        workspace_id=OuterRef("workspace_id"),
        key=OuterRef("status"),
        category__in=CLOSED_CATEGORIES,
    )
    done = issues.filter(Q(status__in=CLOSED_CATEGORIES) | Exists(closed_custom))
    return qs.annotate(
        issue_count=_count_subquery(issues, "project_id"),
        done_count=_count_subquery(done, "project_id"),
    )


def project_list(
    *, ctx: WorkspaceContext, status: str | None = None, priority: str | None = None
) -> QuerySet[Project]:
    """Projects, newest first, each with its issue counts (one query)."""
    qs = Project.objects.filter(workspace_id=ctx.workspace_id)
    if status:
        qs = qs.filter(status=status)
    if priority:
        qs = qs.filter(priority=priority)
    return project_with_issue_stats(qs).order_by("-created_at", "-id")


def project_get(*, ctx: WorkspaceContext, project_id: Any, for_update: bool = False) -> Project:
    pk = _uuid_or_none(project_id)
    qs = Project.objects.filter(workspace_id=ctx.workspace_id)
    qs = qs.select_for_update() if for_update else project_with_issue_stats(qs)
    project = qs.filter(pk=pk).first() if pk else None
    if project is None:
        raise NotFound("project not found", code="project_not_found")
    return project


SEARCH_DEFAULT_LIMIT = 20
SEARCH_MAX_LIMIT = 50


def project_search(
    *,
    ctx: WorkspaceContext,
    q: str,
    limit: int = SEARCH_DEFAULT_LIMIT,
    offset: int = 0,
    include_closed: bool = False,
) -> tuple[list[Project], int]:
    """Multica's project search: the phrase (or, for several words, every word) in the title or
    description, ranked exact title > title prefix > title contains > all words in title >
    description; cancelled projects sink unless the title is an exact hit. One query.

    Rows carry ``match_source`` (``title``/``description``) and ``matched_snippet``.
    """
    phrase = q.strip()
    if not phrase:
        raise ValidationError("q parameter is required", code="invalid_query")
    terms = phrase.split()
    text_match = Q(title__icontains=phrase) | Q(description__icontains=phrase)
    title_all: Q | None = None
    if len(terms) > 1:
        text_match |= reduce(
            and_, (Q(title__icontains=t) | Q(description__icontains=t) for t in terms)
        )
        title_all = reduce(and_, (Q(title__icontains=t) for t in terms))
    qs = Project.objects.filter(workspace_id=ctx.workspace_id).filter(text_match)
    if not include_closed:
        qs = qs.exclude(status__in=CLOSED_PROJECT_STATUSES)

    rank_whens = [
        When(title__iexact=phrase, then=Value(0)),
        When(title__istartswith=phrase, then=Value(1)),
        When(title__icontains=phrase, then=Value(2)),
    ]
    source_whens = [When(title__icontains=phrase, then=Value("title"))]
    if title_all is not None:
        rank_whens.append(When(title_all, then=Value(3)))
        source_whens.append(When(title_all, then=Value("title")))
    rank_whens.append(When(description__icontains=phrase, then=Value(4)))
    qs = project_with_issue_stats(qs).annotate(
        total_count=Window(Count("*")),
        cancelled_rank=Case(
            When(Q(status="cancelled") & ~Q(title__iexact=phrase), then=Value(1)),
            default=Value(0),
        ),
        rank=Case(*rank_whens, default=Value(5)),
        match_source=Case(*source_whens, default=Value("description")),
    )
    limit = max(1, min(limit, SEARCH_MAX_LIMIT))
    offset = max(0, offset)
    rows = list(qs.order_by("cancelled_rank", "rank", "-updated_at", "id")[offset : offset + limit])
    for row in rows:
        row.matched_snippet = (
            extract_snippet(row.description, phrase)
            if row.match_source == "description" and row.description
            else None
        )
    total = rows[0].total_count if rows else 0
    return rows, total


def extract_snippet(content: str, query: str) -> str:
    """Up to 40 characters before and 80 after the first hit of the phrase (or earliest word)."""
    lower = content.lower()
    needle = query.lower()
    idx = lower.find(needle) if needle else -1
    match_len = len(needle)
    if idx < 0:
        hits = [(lower.find(t), len(t)) for t in needle.split()] if len(needle.split()) > 1 else []
        hits = [h for h in hits if h[0] >= 0]
        if hits:
            idx, match_len = min(hits)
    if idx < 0:
        return content[:120] + "..." if len(content) > 120 else content
    start = max(0, idx - 40)
    end = min(len(content), idx + match_len + 80)
    snippet = content[start:end]
    if start > 0:
        snippet = "..." + snippet
    if end < len(content):
        snippet += "..."
    return snippet


# --- attachments ------------------------------------------------------------------------------


def attachment_get(
    *, ctx: WorkspaceContext, attachment_id: Any, for_update: bool = False
) -> Attachment:
    pk = _uuid_or_none(attachment_id)
    qs = Attachment.objects.filter(workspace_id=ctx.workspace_id)
    if for_update:
        qs = qs.select_for_update()
    attachment = qs.filter(pk=pk).first() if pk else None
    if attachment is None:
        raise NotFound("attachment not found", code="attachment_not_found")
    return attachment


def attachment_list_for_issue(*, ctx: WorkspaceContext, issue_ref: Any) -> list[Attachment]:
    """Attachments linked to an issue of ``ctx.workspace`` (UUID or ``PREFIX-N``), oldest first."""
    issue = issue_get(ctx=ctx, issue_ref=issue_ref)
    return list(
        Attachment.objects.filter(workspace_id=ctx.workspace_id, issue_id=issue.pk).order_by(
            "created_at", "id"
        )
    )


def attachment_workspace_for_member(
    *, attachment_id: Any, user: Any, bound_workspace_id: uuid.UUID | None = None
) -> uuid.UUID | None:
    """The workspace of an attachment, if ``user`` is a member of it (else ``None``).

    Lets ``GET /api/attachments/{id}/download`` work as a plain ``<img src>`` load, which cannot
    carry workspace headers: the attachment row names its workspace. A token bound to another
    workspace gets ``None``. Tenancy is still decided by the resolver, which re-checks
    membership for the workspace returned here.
    """
    pk = _uuid_or_none(attachment_id)
    if pk is None or user is None:
        return None
    qs = Attachment.objects.filter(pk=pk, workspace__members__user=user)
    if bound_workspace_id is not None:
        qs = qs.filter(workspace_id=bound_workspace_id)
    return qs.values_list("workspace_id", flat=True).first()


def _uuid_or_none(value: Any) -> uuid.UUID | None:
    if isinstance(value, uuid.UUID):
        return value
    try:
        return uuid.UUID(str(value))
    except (TypeError, ValueError):
        return None
