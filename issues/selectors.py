"""Reads of the issues domain. Loaders take the workspace context and raise NotFound for
missing and foreign objects alike; lists fetch related rows in bulk (one query per kind)."""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.core.cache import cache
from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import (
    Case,
    Count,
    Exists,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Value,
    When,
    Window,
)
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Lower, RowNumber
from redis.exceptions import RedisError

from issues.models import Attachment, Issue, IssueLabel, IssueReaction, IssueStatus, Label
from issues.wire import (
    BUILTIN_KEYS,
    CATEGORIES,
    CATEGORY_RANK,
    CLOSED_CATEGORIES,
    ISSUE_ROW_FIELDS,
    PRIORITIES,
    issue_prefix,
)
from multica_site.db import prepared_cursor
from multica_site.errors import NotFound, ValidationError
from multica_site.wire import format_time
from workspaces.context import WorkspaceContext

IDENTIFIER_RE = re.compile(r"^([A-Za-z0-9]{1,10})-(\d{1,9})$")
QUERY_NUMBER_RE = re.compile(r"^[a-z]+-(\d+)$", re.IGNORECASE)
METADATA_KEY_RE = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_.-]{0,63}$")
ACTOR_TYPES = frozenset({"member", "agent", "squad"})
LIST_LIMIT = 100
CHILDREN_PARENTS_MAX = 200
NO_PROPERTY_VALUE = "__none__"
MAX_PROPERTY_FILTER_DEFINITIONS, MAX_PROPERTY_FILTER_VALUES = 20, 50

# ``involves_user_id`` (spec §3.4): issues assigned to that user's agents or to squads involving
# them. The agents/squads domains register a builder ``(ctx, user_id) -> Q`` here; with none, the
# filter matches nothing (there are no agents or squads to be involved through).
INVOLVES_FILTERS: list[Callable[[WorkspaceContext, uuid.UUID], Q]] = []


def parse_uuid(value: Any, field_name: str) -> uuid.UUID:
    """A UUID from user input, or 400 ``invalid <field>`` (Multica's ``parseUUIDOrBadRequest``)."""
    if isinstance(value, uuid.UUID):
        return value
    try:
        return uuid.UUID(str(value).strip())
    except (ValueError, AttributeError) as exc:
        raise ValidationError(f"invalid {field_name}", code="invalid_id") from exc


# --- issues by id -----------------------------------------------------------------------------


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
        if match and match.group(1).upper() == issue_prefix(ctx.workspace).upper():
            issue = qs.filter(number=int(match.group(2))).first()
    if issue is None:
        raise NotFound("issue not found", code="issue_not_found")
    return issue


# --- status catalog ---------------------------------------------------------------------------


def _category_rank() -> Case:
    return Case(
        *[When(category=key, then=Value(rank)) for key, rank in CATEGORY_RANK.items()],
        default=Value(len(CATEGORIES)),
        output_field=IntegerField(),
    )


def status_list(*, ctx: WorkspaceContext, include_archived: bool = False) -> list[IssueStatus]:
    """The catalog in display order: category rank, intra-category position, key."""
    qs = IssueStatus.objects.filter(workspace_id=ctx.workspace_id)
    if not include_archived:
        qs = qs.filter(archived_at__isnull=True)
    return list(qs.order_by(_category_rank(), "position", "key"))


def status_active_keys(*, ctx: WorkspaceContext) -> list[str]:
    """Usable keys in display order; the built-ins are always included (for error messages)."""
    keys = [s.key for s in status_list(ctx=ctx)]
    return keys + [k for k in CATEGORIES if k not in keys]


def status_resolve(*, ctx: WorkspaceContext, status: str) -> tuple[str, str, bool]:
    """``(key, category, is_custom)`` for a status usable in new writes, or 400
    ``invalid status "x"; valid values: …``. Built-ins resolve without a catalog row."""
    key = str(status).strip().lower()
    if key in BUILTIN_KEYS:
        return key, key, False
    entry = None
    if key:
        entry = IssueStatus.objects.filter(
            workspace_id=ctx.workspace_id, key=key, archived_at__isnull=True
        ).first()
    if entry is None:
        allowed = ", ".join(status_active_keys(ctx=ctx))
        raise ValidationError(
            f"invalid status {json.dumps(status)}; valid values: {allowed}", code="invalid_status"
        )
    return entry.key, entry.category, not entry.is_system


def status_keys_for_categories(*, ctx: WorkspaceContext, categories: Iterable[str]) -> list[str]:
    """Every status key (archived included) in the given categories; unknown categories are
    ignored. Lets category filters use the indexed ``status = ANY(…)`` predicate."""
    valid = [c for c in categories if c in CATEGORY_RANK]
    if not valid:
        return []
    keys = list(
        IssueStatus.objects.filter(workspace_id=ctx.workspace_id, category__in=valid).values_list(
            "key", flat=True
        )
    )
    return keys + [c for c in valid if c not in keys]


class StatusCategories:
    """Resolves status keys to categories for one request: built-ins cost nothing, the first
    custom key loads the whole catalog in one query (archived included)."""

    def __init__(self, ctx: WorkspaceContext) -> None:
        self.workspace_id = ctx.workspace_id
        self._map: dict[str, str] | None = None

    def __call__(self, status: str) -> str:
        if status in BUILTIN_KEYS:
            return status
        if self._map is None:
            self._map = dict(
                IssueStatus.objects.filter(workspace_id=self.workspace_id).values_list(
                    "key", "category"
                )
            )
        return self._map.get(status, status)


def closed_status_keys(*, ctx: WorkspaceContext) -> list[str]:
    return status_keys_for_categories(ctx=ctx, categories=CLOSED_CATEGORIES)


# --- labels, reactions, attachments of issues ---------------------------------------------------


def labels_for_issues(
    *, ctx: WorkspaceContext, issue_ids: Iterable[Any]
) -> dict[uuid.UUID, list[Label]]:
    """Issue-type labels of many issues in one query, each list ordered by lower(name)."""
    ids = list(issue_ids)
    out: dict[uuid.UUID, list[Label]] = {i: [] for i in ids}
    if not ids:
        return out
    rows = (
        IssueLabel.objects.filter(
            issue_id__in=ids, label__workspace_id=ctx.workspace_id, label__resource_type="issue"
        )
        .select_related("label")
        .order_by("issue_id", Lower("label__name"), "label_id")
    )
    for row in rows:
        out.setdefault(row.issue_id, []).append(row.label)
    return out


# Plain SQL: this runs on every list page, and the ORM's compile step costs more than the query.
PAGE_LABELS_SQL = """
    SELECT il.issue_id, l.id, l.workspace_id, l.resource_type, l.name, l.description, l.color,
           l.created_at, l.updated_at
    FROM issue_to_label il JOIN issue_label l ON l.id = il.label_id
    WHERE il.issue_id = ANY(%s) AND l.workspace_id = %s AND l.resource_type = 'issue'
    ORDER BY il.issue_id, lower(l.name), l.id
"""


def label_json_for_issues(
    *, ctx: WorkspaceContext, issue_ids: Iterable[Any]
) -> dict[uuid.UUID, list[dict[str, Any]]]:
    """Rendered issue-type labels of many issues in one query (list pages): each label is
    rendered once however many issues carry it."""
    ids = list(issue_ids)
    out: dict[uuid.UUID, list[dict[str, Any]]] = {i: [] for i in ids}
    if not ids:
        return out
    with prepared_cursor() as cur:
        cur.execute(PAGE_LABELS_SQL, [ids, ctx.workspace_id])
        rows = cur.fetchall()
    rendered: dict[uuid.UUID, dict[str, Any]] = {}
    for issue_id, label_id, ws_id, rtype, name, description, color, created, updated in rows:
        label = rendered.get(label_id)
        if label is None:
            label = rendered[label_id] = {
                "id": str(label_id),
                "workspace_id": str(ws_id),
                "resource_type": rtype,
                "name": name,
                "description": description,
                "color": color,
                "created_at": format_time(created),
                "updated_at": format_time(updated),
            }
        out.setdefault(issue_id, []).append(label)
    return out


def labels_of_issue(*, ctx: WorkspaceContext, issue: Issue) -> list[Label]:
    return labels_for_issues(ctx=ctx, issue_ids=[issue.pk])[issue.pk]


def issue_reactions(*, ctx: WorkspaceContext, issue: Issue) -> list[IssueReaction]:
    return list(
        IssueReaction.objects.filter(workspace_id=ctx.workspace_id, issue=issue).order_by(
            "created_at", "id"
        )
    )


def issue_attachments(*, ctx: WorkspaceContext, issue: Issue) -> list[Attachment]:
    return list(
        Attachment.objects.filter(workspace_id=ctx.workspace_id, issue=issue).order_by(
            "created_at", "id"
        )
    )


def label_get(*, ctx: WorkspaceContext, label_id: Any, field_name: str = "label_id") -> Label:
    """An issue-type label of the workspace: 404 ``label not found`` / ``issue label not found``."""
    pk = parse_uuid(label_id, field_name)
    label = Label.objects.filter(pk=pk, workspace_id=ctx.workspace_id).first()
    if label is None:
        raise NotFound("label not found", code="label_not_found")
    if label.resource_type != Label.ResourceType.ISSUE:
        raise NotFound("issue label not found", code="label_not_found")
    return label


# --- list parameters (spec §3.4) ----------------------------------------------------------------


def split_comma(raw: str | None) -> list[str]:
    return [p.strip() for p in (raw or "").split(",") if p.strip()]


def _uuid_list(raw: str | None, field_name: str) -> list[uuid.UUID]:
    return [parse_uuid(p, field_name) for p in split_comma(raw)]


def _actor_filters(raw: str | None, field_name: str) -> list[tuple[str, uuid.UUID]]:
    out = []
    for part in split_comma(raw):
        kind, sep, ident = part.partition(":")
        if not sep or kind not in ACTOR_TYPES or not ident.strip():
            raise ValidationError(f"invalid {field_name}")
        out.append((kind, parse_uuid(ident.strip(), field_name)))
    return out


def int_param(raw: str | None) -> int | None:
    try:
        value = int(str(raw))
    except (TypeError, ValueError):
        return None
    return value


def search_terms(q: str) -> list[str]:
    return q.split()


def query_number(q: str) -> int | None:
    """An issue number from ``PREFIX-123`` or a bare ``123``."""
    q = q.strip()
    match = QUERY_NUMBER_RE.match(q)
    text = match.group(1) if match else q
    if not text.isdigit():
        return None
    n = int(text)
    return n if 0 < n < 2**31 else None


def _metadata_filter(raw: str) -> dict[str, Any] | None:
    if not raw:
        return None
    try:
        parsed = json.loads(raw)
    except ValueError:
        parsed = None
    if not isinstance(parsed, dict):
        raise ValidationError("metadata filter must be a JSON object")
    for key, value in parsed.items():
        if not METADATA_KEY_RE.match(key):
            message = "key is required" if not key else f"key must match {METADATA_KEY_RE.pattern}"
            raise ValidationError("metadata filter " + message)
        if isinstance(value, bool | str | int | float) and value is not None:
            continue
        raise ValidationError("metadata filter values must be primitives (string, number, bool)")
    return parsed


def _properties_filter(raw: str) -> Q | None:
    """``{definitionId: [values]}``: OR within a definition, AND across definitions. ``__none__``
    means unset; ``true``/``false`` also match checkbox booleans."""
    if not raw:
        return None
    shape_error = "properties filter must be a JSON object of {definitionId: [values]}"
    try:
        parsed = json.loads(raw)
    except ValueError as exc:
        raise ValidationError(shape_error) from exc
    if not isinstance(parsed, dict) or not all(
        isinstance(v, list) and all(isinstance(x, str) for x in v) for v in parsed.values()
    ):
        raise ValidationError(shape_error)
    if len(parsed) > MAX_PROPERTY_FILTER_DEFINITIONS:
        raise ValidationError(
            "properties filter cannot cover more than "
            f"{MAX_PROPERTY_FILTER_DEFINITIONS} definitions"
        )
    groups: list[Q] = []
    alternatives_total = 0
    for definition_id, values in parsed.items():
        try:
            uuid.UUID(definition_id)
        except ValueError as exc:
            raise ValidationError(
                f"properties filter key {json.dumps(definition_id)} is not a definition id"
            ) from exc
        if not values:
            continue
        if len(values) > MAX_PROPERTY_FILTER_VALUES:
            raise ValidationError(
                f"properties filter for {definition_id} cannot list more than "
                f"{MAX_PROPERTY_FILTER_VALUES} values"
            )
        alternatives: list[Q] = []
        for value in dict.fromkeys(values):
            if value == "":
                raise ValidationError("properties filter values cannot be empty")
            if value == NO_PROPERTY_VALUE:
                alternatives.append(~Q(properties__has_key=definition_id))
                continue
            alternatives.append(Q(properties__contains={definition_id: value}))
            alternatives.append(Q(properties__contains={definition_id: [value]}))
            if value in ("true", "false"):
                alternatives.append(Q(properties__contains={definition_id: value == "true"}))
        alternatives_total += len(alternatives)
        group = Q()
        for alt in alternatives:
            group |= alt
        groups.append(group)
    if alternatives_total > 256:
        raise ValidationError("properties filter is too large")
    if not groups:
        return None
    out = Q()
    for group in groups:
        out &= group
    return out


def _parse_time(raw: str, field_name: str) -> datetime:
    try:
        value = datetime.fromisoformat(raw.replace("z", "Z"))
    except ValueError as exc:
        raise ValidationError(f"invalid {field_name}") from exc
    if value.tzinfo is None or "T" not in raw.upper():
        raise ValidationError(f"invalid {field_name}")
    return value


def _date_filter(params: Mapping[str, str]) -> Q | None:
    field_name = (params.get("date_field") or "").strip()
    start_raw = (params.get("date_start") or "").strip()
    end_raw = (params.get("date_end") or "").strip()
    if not (field_name or start_raw or end_raw):
        return None
    if not (field_name and start_raw and end_raw):
        raise ValidationError("date_field, date_start, and date_end are required together")
    if field_name not in ("created_at", "updated_at"):
        raise ValidationError("invalid date_field")
    start = _parse_time(start_raw, "date_start")
    end = _parse_time(end_raw, "date_end")
    if not start < end:
        raise ValidationError("date_start must be before date_end")
    return Q(**{f"{field_name}__gte": start, f"{field_name}__lt": end})


def _title_search(raw: str) -> Q | None:
    """Every word in the title (case-insensitive), or the exact issue number."""
    q = raw.strip()
    if not q:
        return None
    words = search_terms(q.lower())
    ors: list[Q] = []
    if words:
        title = Q()
        for word in words:
            title &= Q(title__icontains=word)
        ors.append(title)
    number = query_number(q)
    if number is not None:
        ors.append(Q(number=number))
    out = Q()
    for cond in ors:
        out |= cond
    return out


@dataclass
class IssueListQuery:
    """A parsed ``GET /api/issues`` request: filters, order, window."""

    filters: list[Q] = field(default_factory=list)
    order_by: list[Any] = field(default_factory=list)
    limit: int = LIST_LIMIT
    offset: int = 0
    open_only: bool = False
    empty: bool = False  # a filter that can match nothing (e.g. ``ids=``)
    signature: str = ""  # the filtering parameters, canonical (the count cache key)


def _sort(params: Mapping[str, str]) -> list[Any]:
    sort = params.get("sort") or "position"
    direction = params.get("direction") or ""
    tiebreak: list[Any] = [F("created_at").desc(), F("id").desc()]
    if sort == "position":
        return [F("position").asc(), *tiebreak]
    desc_default = False
    nulls_last = False
    if sort in ("title", "created_at", "updated_at"):
        expr: Any = F(sort)
    elif sort in ("start_date", "due_date"):
        expr, nulls_last = F(sort), True
    elif sort == "last_activity":
        expr, nulls_last, desc_default = F("last_activity_at"), True, True
        tiebreak = [F("id").desc()]
    elif sort == "status":
        expr = Case(
            *[When(status=key, then=Value(rank)) for key, rank in CATEGORY_RANK.items()],
            default=Value(len(CATEGORIES)),
            output_field=IntegerField(),
        )
    elif sort == "priority":
        expr = Case(
            *[When(priority=key, then=Value(rank)) for rank, key in enumerate(PRIORITIES)],
            default=Value(len(PRIORITIES) - 1),
            output_field=IntegerField(),
        )
    elif sort.startswith("property:"):
        definition_id = sort[len("property:") :]
        try:
            uuid.UUID(definition_id)
        except ValueError as exc:
            raise ValidationError("invalid sort value") from exc
        expr, nulls_last = KeyTextTransform(str(uuid.UUID(definition_id)), "properties"), True
    else:
        raise ValidationError("invalid sort value")
    descending = desc_default
    if direction:
        if direction.lower() not in ("asc", "desc"):
            raise ValidationError("invalid direction value")
        descending = direction.lower() == "desc"
    ordered = (
        expr.desc(nulls_last=nulls_last or None)
        if descending
        else expr.asc(nulls_last=nulls_last or None)
    )
    return [ordered, *tiebreak]


def issue_list_query(*, ctx: WorkspaceContext, params: Mapping[str, str]) -> IssueListQuery:
    """Parse the §3.4 parameters (all strings) into filters and an order; 400s use Multica's
    sentences."""
    query = IssueListQuery()
    query.signature = json.dumps(
        {k: v for k, v in params.items() if k not in _IGNORED_FOR_COUNT}, sort_keys=True
    )
    add = query.filters.append

    priority = params.get("priority") or ""
    assignee_id = params.get("assignee_id") or ""
    if assignee_id:
        add(Q(assignee_id=parse_uuid(assignee_id, "assignee_id")))
    assignee_ids = _uuid_list(params.get("assignee_ids"), "assignee_ids")
    if assignee_ids:
        add(Q(assignee_id__in=assignee_ids))
    creator_id = params.get("creator_id") or ""
    if creator_id:
        add(Q(creator_id=parse_uuid(creator_id, "creator_id")))
    project_id = params.get("project_id") or ""
    if project_id:
        add(Q(project_id=parse_uuid(project_id, "project_id")))
    involves = params.get("involves_user_id") or ""
    if involves:
        user_id = parse_uuid(involves, "involves_user_id")
        involved = Q(pk__in=[])
        for build in INVOLVES_FILTERS:
            involved |= build(ctx, user_id)
        add(involved)
    metadata = _metadata_filter(params.get("metadata") or "")
    if metadata:
        add(Q(metadata__contains=metadata))
    properties = _properties_filter(params.get("properties") or "")
    if properties is not None:
        add(properties)
    dates = _date_filter(params)
    if dates is not None:
        add(dates)

    statuses = split_comma(params.get("statuses")) or split_comma(params.get("status"))
    categories = split_comma(params.get("status_categories")) or split_comma(
        params.get("status_category")
    )
    priorities = split_comma(params.get("priorities")) or split_comma(priority)
    assignee_types = split_comma(params.get("assignee_types"))
    if any(t not in ACTOR_TYPES for t in assignee_types):
        raise ValidationError("invalid assignee_types")
    if categories:
        add(Q(status__in=status_keys_for_categories(ctx=ctx, categories=categories)))
    if statuses:
        add(Q(status__in=statuses))
    if priorities:
        add(Q(priority__in=priorities))
    if assignee_types:
        add(Q(assignee_type__in=assignee_types))

    assignee_filters = _actor_filters(params.get("assignee_filters"), "assignee_filters")
    include_no_assignee = params.get("include_no_assignee") == "true"
    if assignee_filters or include_no_assignee:
        cond = Q(pk__in=[])
        for kind, ident in assignee_filters:
            cond |= Q(assignee_type=kind, assignee_id=ident)
        if include_no_assignee:
            cond |= Q(assignee_type__isnull=True, assignee_id__isnull=True)
        add(cond)
    creator_filters = _actor_filters(params.get("creator_filters"), "creator_filters")
    if creator_filters:
        cond = Q(pk__in=[])
        for kind, ident in creator_filters:
            cond |= Q(creator_type=kind, creator_id=ident)
        add(cond)
    project_ids = _uuid_list(params.get("project_ids"), "project_ids")
    include_no_project = params.get("include_no_project") == "true"
    if project_ids or include_no_project:
        cond = Q(pk__in=[])
        if project_ids:
            cond |= Q(project_id__in=project_ids)
        if include_no_project:
            cond |= Q(project_id__isnull=True)
        add(cond)
    label_ids = _uuid_list(params.get("label_ids"), "label_ids")
    if label_ids:
        add(Exists(IssueLabel.objects.filter(issue_id=OuterRef("pk"), label_id__in=label_ids)))
    if "ids" in params:
        ids = _uuid_list(params.get("ids"), "ids")
        if not ids:
            query.empty = True
        add(Q(pk__in=ids))
    if params.get("top_level_only") == "true":
        add(Q(parent_issue__isnull=True))
    title = _title_search(params.get("q") or "")
    if title is not None:
        add(title)
    if params.get("scheduled") == "true":
        add(Q(start_date__isnull=False) | Q(due_date__isnull=False))

    if params.get("open_only") == "true":
        query.open_only = True
        add(~Q(status__in=closed_status_keys(ctx=ctx)))
    query.order_by = _sort(params)
    limit = int_param(params.get("limit"))
    query.limit = min(limit, LIST_LIMIT) if limit and limit > 0 else LIST_LIMIT
    offset = int_param(params.get("offset"))
    query.offset = offset if offset and offset > 0 else 0
    return query


def _filtered(ctx: WorkspaceContext, query: IssueListQuery) -> QuerySet[Issue]:
    qs = Issue.objects.filter(workspace_id=ctx.workspace_id)
    for cond in query.filters:
        qs = qs.filter(cond)
    return qs


@dataclass
class IssuePage:
    """Issue rows (``ISSUE_ROW_FIELDS`` dicts), the total, rendered labels per issue id."""

    rows: list[dict[str, Any]]
    total: int
    labels: dict[uuid.UUID, list[dict[str, Any]]]
    categories: StatusCategories


_JSON_COLUMNS = ("metadata", "properties")


def _fetch_rows(qs: QuerySet[Issue]) -> list[dict[str, Any]]:
    """``qs.values(*ISSUE_ROW_FIELDS)`` without the ORM's per-row machinery (the list pages' hot
    path): the compiled SQL runs on a plain cursor and rows are zipped with the field names. The
    only conversion the ORM would have made is decoding the JSON columns (text on the wire)."""
    try:
        sql, params = qs.values_list(*ISSUE_ROW_FIELDS).query.sql_with_params()
    except EmptyResultSet:  # a filter that can match nothing (e.g. ``status__in=[]``)
        return []
    with prepared_cursor() as cur:  # the list pages' few query shapes get prepared
        cur.execute(sql, params)
        rows = [dict(zip(ISSUE_ROW_FIELDS, r, strict=True)) for r in cur.fetchall()]
    for row in rows:
        for name in _JSON_COLUMNS:
            if isinstance(row[name], str | bytes):
                row[name] = json.loads(row[name])
    return rows


def _page(ctx: WorkspaceContext, qs: QuerySet[Issue], total: int | None = None) -> IssuePage:
    rows = _fetch_rows(qs)
    labels = label_json_for_issues(ctx=ctx, issue_ids=[r["id"] for r in rows])
    return IssuePage(rows, len(rows) if total is None else total, labels, StatusCategories(ctx))


def issue_list(*, ctx: WorkspaceContext, query: IssueListQuery) -> IssuePage:
    """One page of issues (the ``(workspace, position, id)`` index serves the default order),
    the total, and the page's labels in one more query."""
    if query.empty:
        return IssuePage([], 0, {}, StatusCategories(ctx))
    qs = _filtered(ctx, query).order_by(*query.order_by)
    if query.open_only:
        return _page(ctx, qs)
    page = _page(ctx, qs[query.offset : query.offset + query.limit])
    if query.offset == 0 and len(page.rows) < query.limit:
        return page  # the whole result is on this page: its length is the total
    page.total = issue_count(ctx=ctx, query=query)
    return page


# Totals are cached per (workspace, filters) under a per-workspace version that every issue
# write replaces on commit (``issues.services.issues.issue_counts_changed``); the TTL bounds how
# long a write that bypasses the services (admin, SQL) can leave a total stale.
COUNT_CACHE_TTL = 10
_IGNORED_FOR_COUNT = frozenset(
    {"sort", "direction", "limit", "offset", "workspace_id", "workspace_slug"}
)


def count_version_key(workspace_id: Any) -> str:
    return f"issues:count-version:{workspace_id}"


def _count_key(ctx: WorkspaceContext, query: IssueListQuery) -> str:
    digest = hashlib.sha256(query.signature.encode()).hexdigest()[:32]
    return f"issues:count:{ctx.workspace_id}:{digest}"


def issue_count(*, ctx: WorkspaceContext, query: IssueListQuery) -> int:
    """``COUNT(*)`` of the filtered issues, served from the cache while nothing changed."""
    version_key, count_key = count_version_key(ctx.workspace_id), _count_key(ctx, query)
    try:
        cached = cache.get_many([version_key, count_key])
    except RedisError:
        return _filtered(ctx, query).count()
    version = cached.get(version_key)
    entry = cached.get(count_key)
    if version is not None and isinstance(entry, tuple) and entry[0] == version:
        return int(entry[1])
    if version is None:
        version = uuid.uuid4().hex
        with contextlib.suppress(RedisError):
            if not cache.add(version_key, version, timeout=None):
                version = cache.get(version_key) or version
    total = _filtered(ctx, query).count()
    with contextlib.suppress(RedisError):
        cache.set(count_key, (version, total), timeout=COUNT_CACHE_TTL)
    return total


# --- grouped by assignee (spec §3.3) -----------------------------------------------------------

GROUP_LIMIT_DEFAULT = 50


@dataclass
class IssueGroup:
    id: str
    assignee_type: str | None
    assignee_id: uuid.UUID | None
    total: int
    rows: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class GroupedPage:
    groups: list[IssueGroup]
    labels: dict[uuid.UUID, list[dict[str, Any]]]
    categories: StatusCategories


def issue_grouped(*, ctx: WorkspaceContext, params: Mapping[str, str]) -> GroupedPage:
    """``GET /api/issues/grouped?group_by=assignee``: the §3.4 filters and sort, then one window of
    ``limit`` (default 50, max 100) issues per assignee, each group with its own total. Groups:
    members, agents, squads, then unassigned."""
    if (params.get("group_by") or "assignee") != "assignee":
        raise ValidationError("unsupported group_by")
    query = issue_list_query(ctx=ctx, params={**params, "open_only": ""})
    limit = int_param(params.get("limit"))
    limit = min(limit, LIST_LIMIT) if limit and limit > 0 else GROUP_LIMIT_DEFAULT
    offset = query.offset
    group_type = params.get("group_assignee_type") or ""
    if group_type == "none":
        query.filters.append(Q(assignee_type__isnull=True, assignee_id__isnull=True))
    elif group_type:
        if group_type not in ACTOR_TYPES:
            raise ValidationError("invalid group_assignee_type")
        if not params.get("group_assignee_id"):
            raise ValidationError("invalid group_assignee_id")
        group_id = parse_uuid(params["group_assignee_id"], "group_assignee_id")
        query.filters.append(Q(assignee_type=group_type, assignee_id=group_id))
    if query.empty:
        return GroupedPage([], {}, StatusCategories(ctx))
    partition = [F("assignee_type"), F("assignee_id")]
    kind_rank = Case(
        When(assignee_type="member", then=Value(0)),
        When(assignee_type="agent", then=Value(1)),
        When(assignee_type="squad", then=Value(2)),
        default=Value(3),
        output_field=IntegerField(),
    )
    rows = list(
        _filtered(ctx, query)
        .annotate(
            group_total=Window(Count("id"), partition_by=partition),
            rn=Window(RowNumber(), partition_by=partition, order_by=query.order_by),
        )
        .filter(rn__gt=offset, rn__lte=offset + limit)
        .order_by(
            kind_rank,
            F("assignee_type").asc(nulls_last=True),
            F("assignee_id").asc(nulls_last=True),
            "rn",
        )
        .values(*ISSUE_ROW_FIELDS, "group_total")
    )
    groups: dict[str, IssueGroup] = {}
    for row in rows:
        kind, ident = row["assignee_type"], row["assignee_id"]
        key = f"assignee:{kind}:{ident}" if kind and ident else "assignee:unassigned"
        group = groups.get(key)
        if group is None:
            group = groups[key] = IssueGroup(key, kind, ident, row["group_total"])
        group.rows.append(row)
    labels = label_json_for_issues(ctx=ctx, issue_ids=[r["id"] for r in rows])
    return GroupedPage(list(groups.values()), labels, StatusCategories(ctx))


# --- children and progress ----------------------------------------------------------------------


def issue_children(*, ctx: WorkspaceContext, issue: Issue) -> IssuePage:
    return _page(
        ctx,
        Issue.objects.filter(workspace_id=ctx.workspace_id, parent_issue=issue).order_by("number"),
    )


def issue_children_of_parents(*, ctx: WorkspaceContext, parent_ids: str | None) -> IssuePage:
    """Children of many parents (``?parent_ids=a,b``); foreign parents simply have none."""
    parts = (parent_ids or "").split(",")
    if len(parts) > CHILDREN_PARENTS_MAX:
        raise ValidationError("too many parent_ids")
    ids = [parse_uuid(p, "parent_ids") for p in parts if p.strip()]
    if not ids:
        return IssuePage([], 0, {}, StatusCategories(ctx))
    return _page(
        ctx,
        Issue.objects.filter(workspace_id=ctx.workspace_id, parent_issue_id__in=ids).order_by(
            "parent_issue_id", "number"
        ),
    )


def child_progress(*, ctx: WorkspaceContext) -> list[dict[str, Any]]:
    """``[{parent_issue_id, total, done, visible_total, visible_done, hidden_total}]``; done =
    children whose category is done or cancelled."""
    closed = closed_status_keys(ctx=ctx)
    with connection.cursor() as cur:
        cur.execute(
            """
            SELECT parent_issue_id, COUNT(*), COUNT(*) FILTER (WHERE status = ANY(%s))
            FROM issue
            WHERE workspace_id = %s AND parent_issue_id IS NOT NULL
            GROUP BY parent_issue_id
            ORDER BY parent_issue_id
            """,
            [closed, ctx.workspace_id],
        )
        rows = cur.fetchall()
    return [
        {
            "parent_issue_id": str(parent),
            "total": total,
            "done": done,
            "visible_total": total,
            "visible_done": done,
            "hidden_total": 0,
        }
        for parent, total, done in rows
    ]
