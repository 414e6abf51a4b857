"""Issue search (spec §3.3 ``GET /api/issues/search``): Multica's ranked LIKE search over titles,
descriptions and comments, with the snippets the result shape carries."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from issues.models import Issue
from issues.selectors import (
    StatusCategories,
    closed_status_keys,
    int_param,
    query_number,
    search_terms,
)
from multica_site.errors import ValidationError
from workspaces.context import WorkspaceContext

SEARCH_LIMIT_DEFAULT, SEARCH_LIMIT_MAX = 20, 50


def escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


@dataclass
class SearchHit:
    issue: Issue
    match_source: str
    comment_content: str


@dataclass
class SearchPage:
    hits: list[SearchHit]
    total: int
    categories: StatusCategories


def _search_sql(
    *, phrase: str, terms: list[str], number: int | None, include_closed: bool
) -> tuple[str, dict[str, Any]]:
    """Multica's ranked search: phrase in title/description/comments, every word somewhere
    (multi-word), or the issue number; exact hits first, cancelled issues last."""
    p: dict[str, Any] = {
        "phrase": escape_like(phrase.lower()),
        "contains": "%" + escape_like(phrase.lower()) + "%",
        "starts": escape_like(phrase.lower()) + "%",
    }
    multi = len(terms) > 1
    term_keys = []
    for i, term in enumerate(terms if multi else []):
        p[f"t{i}"] = "%" + escape_like(term.lower()) + "%"
        term_keys.append(f"t{i}")

    def comment_like(param: str) -> str:
        return (
            "EXISTS (SELECT 1 FROM comment c WHERE c.issue_id = i.id "  # noqa: S608
            f"AND c.workspace_id = %(ws)s AND LOWER(c.content) LIKE %({param})s)"
        )

    def anywhere(param: str) -> str:
        return (
            f"(LOWER(i.title) LIKE %({param})s OR LOWER(COALESCE(i.description, '')) "
            f"LIKE %({param})s OR {comment_like(param)})"
        )

    where = [anywhere("contains")]
    if multi:
        where.append("(" + " AND ".join(anywhere(k) for k in term_keys) + ")")
    if number is not None:
        p["number"] = number
        where.append("i.number = %(number)s")
    where_sql = "(" + " OR ".join(where) + ")"
    if not include_closed:
        where_sql += " AND NOT (i.status = ANY(%(closed)s))"

    title_all = " AND ".join(f"LOWER(i.title) LIKE %({k})s" for k in term_keys)
    desc_all = " AND ".join(f"LOWER(COALESCE(i.description, '')) LIKE %({k})s" for k in term_keys)
    comment_all = " AND ".join(f"LOWER(c.content) LIKE %({k})s" for k in term_keys)
    ranks = []
    if number is not None:
        ranks.append("WHEN i.number = %(number)s THEN 0")
    ranks += [
        "WHEN LOWER(i.title) = %(phrase)s THEN 1",
        "WHEN LOWER(i.title) LIKE %(starts)s THEN 2",
        "WHEN LOWER(i.title) LIKE %(contains)s THEN 3",
    ]
    if multi:
        ranks.append(f"WHEN ({title_all}) THEN 4")
    ranks.append("WHEN LOWER(COALESCE(i.description, '')) LIKE %(contains)s THEN 5")
    if multi:
        ranks.append(f"WHEN ({desc_all}) THEN 6")
    ranks.append(f"WHEN {comment_like('contains')} THEN 7")
    if multi:
        ranks.append(
            "WHEN EXISTS (SELECT 1 FROM comment c WHERE c.issue_id = i.id AND "  # noqa: S608
            f"c.workspace_id = %(ws)s AND ({comment_all})) THEN 8"
        )
    rank_sql = "CASE " + " ".join(ranks) + " ELSE 9 END"
    status_rank = (
        "CASE i.status WHEN 'in_progress' THEN 0 WHEN 'in_review' THEN 1 WHEN 'todo' THEN 2 "
        "WHEN 'blocked' THEN 3 WHEN 'backlog' THEN 4 WHEN 'done' THEN 5 WHEN 'cancelled' THEN 6 "
        "ELSE 7 END"
    )
    direct = ["LOWER(i.title) = %(phrase)s"]
    if number is not None:
        direct.append("i.number = %(number)s")
    cancelled_rank = (
        f"CASE WHEN i.status = 'cancelled' AND NOT ({' OR '.join(direct)}) THEN 1 ELSE 0 END"
    )
    if multi:
        match_source = (
            "CASE WHEN LOWER(i.title) LIKE %(contains)s THEN 'title' "
            f"WHEN ({title_all}) THEN 'title' "
            "WHEN LOWER(COALESCE(i.description, '')) LIKE %(contains)s THEN 'description' "
            f"WHEN ({desc_all}) THEN 'description' ELSE 'comment' END"
        )
        comment_cond = f"(LOWER(c.content) LIKE %(contains)s OR ({comment_all}))"
    else:
        match_source = (
            "CASE WHEN LOWER(i.title) LIKE %(contains)s THEN 'title' "
            "WHEN LOWER(COALESCE(i.description, '')) LIKE %(contains)s THEN 'description' "
            "ELSE 'comment' END"
        )
        comment_cond = "LOWER(c.content) LIKE %(contains)s"
    comment_sql = (
        "COALESCE((SELECT c.content FROM comment c WHERE c.issue_id = i.id AND "  # noqa: S608
        f"c.workspace_id = %(ws)s AND {comment_cond} "
        "ORDER BY c.created_at DESC LIMIT 1), '')"
    )
    # Only fixed SQL fragments are interpolated; every value is a parameter.
    sql = f"""
        SELECT i.*, COUNT(*) OVER() AS search_total, {match_source} AS search_match_source,
               {comment_sql} AS search_comment
        FROM issue i
        WHERE i.workspace_id = %(ws)s AND {where_sql}
        ORDER BY {cancelled_rank}, {rank_sql}, {status_rank}, i.updated_at DESC, i.id DESC
        LIMIT %(limit)s OFFSET %(offset)s
    """  # noqa: S608
    return sql, p


def issue_search(*, ctx: WorkspaceContext, params: Mapping[str, str]) -> SearchPage:
    q = params.get("q") or ""
    if not q:
        raise ValidationError("q parameter is required")
    limit = int_param(params.get("limit"))
    limit = min(limit, SEARCH_LIMIT_MAX) if limit and limit > 0 else SEARCH_LIMIT_DEFAULT
    offset = int_param(params.get("offset"))
    offset = offset if offset and offset > 0 else 0
    include_closed = params.get("include_closed") == "true"
    sql, p = _search_sql(
        phrase=q, terms=search_terms(q), number=query_number(q), include_closed=include_closed
    )
    p.update(ws=ctx.workspace_id, limit=limit, offset=offset)
    if not include_closed:
        p["closed"] = closed_status_keys(ctx=ctx)
    rows = list(Issue.objects.raw(sql, p))
    hits = [SearchHit(r, r.search_match_source, r.search_comment or "") for r in rows]
    total = rows[0].search_total if rows else 0
    return SearchPage(hits, total, StatusCategories(ctx))


def snippet(content: str, query: str) -> str:
    """~120 characters around the first match of the phrase (or the earliest term)."""
    lower = content.lower()
    needle = query.lower()
    idx = lower.find(needle) if needle else -1
    match_len = len(needle)
    if idx < 0:
        terms = needle.split()
        if len(terms) > 1:
            found = [(lower.find(t), len(t)) for t in terms if lower.find(t) >= 0]
            if found:
                idx, match_len = min(found)
    if idx < 0:
        return content[:120] + "..." if len(content) > 120 else content
    start = max(idx - 40, 0)
    end = min(idx + match_len + 80, len(content))
    out = content[start:end]
    if start > 0:
        out = "..." + out
    if end < len(content):
        out += "..."
    return out


def description_matches(description: str | None, phrase: str, terms: list[str]) -> bool:
    if not description:
        return False
    lower = description.lower()
    if phrase.lower() in lower:
        return True
    return len(terms) > 1 and all(t.lower() in lower for t in terms)
