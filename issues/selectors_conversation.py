"""Reads of the conversation around an issue: comments (spec §3.5), the timeline (§3.6),
subscribers (§3.7), the inbox (§3.8) and notification preferences.

Every query filters by the context's workspace. Comment lists load the comment rows once, then
their reactions and attachments in one query each (``prefetch_related_objects``), so a list
costs the same number of queries for 1 comment or 2,000.

Thread-shaped reads (``thread``, ``recent``, ``roots_only``, cap completion) work on the
issue's *skeleton* — ``(id, parent_id, created_at)`` of every comment — and then fetch the full
rows of the chosen ids. That keeps the tree logic in Python, bounded by the issue's size.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.apps import apps
from django.db import connection
from django.db.models import Prefetch, prefetch_related_objects

from issues.models import (
    ActivityLog,
    Attachment,
    Comment,
    CommentReaction,
    InboxItem,
    Issue,
    IssueSubscriber,
    NotificationPreference,
)
from issues.selectors import issue_get
from multica_site.errors import NotFound, ValidationError
from multica_site.wire import format_time_nano
from workspaces.context import WorkspaceContext
from workspaces.models import Member, User

COMMENT_HARD_CAP = 2000
COMMENT_PROBE_LIMIT = COMMENT_HARD_CAP + 1
THREAD_CONTEXT_BUDGET = 2000
THREAD_MAX_DEPTH = 64
TIMELINE_HARD_CAP = 2000
ARCHIVED_INBOX_LIMIT = 200

# Where agent ids live (``app_label.ModelName``); until that domain exists no agent id is known.
AGENT_MODEL = "agents.Agent"


# --- workspace entities ----------------------------------------------------------------------


def agent_model() -> Any | None:
    try:
        return apps.get_model(AGENT_MODEL)
    except (LookupError, ValueError):
        return None


def workspace_member_ids(*, workspace_id: uuid.UUID, user_ids: Iterable[Any]) -> set[uuid.UUID]:
    ids = {u for u in (_as_uuid(v) for v in user_ids) if u is not None}
    if not ids:
        return set()
    rows = Member.objects.filter(workspace_id=workspace_id, user_id__in=ids)
    return set(rows.values_list("user_id", flat=True))


def workspace_entity_exists(*, workspace_id: uuid.UUID, user_type: str, user_id: Any) -> bool:
    """Multica's ``isWorkspaceEntity``: a member (user id) or an agent of the workspace."""
    uid = _as_uuid(user_id)
    if uid is None:
        return False
    if user_type == "member":
        return Member.objects.filter(workspace_id=workspace_id, user_id=uid).exists()
    if user_type == "agent":
        model = agent_model()
        return (
            model is not None and model.objects.filter(workspace_id=workspace_id, id=uid).exists()
        )
    return False


def _as_uuid(value: Any) -> uuid.UUID | None:
    if isinstance(value, uuid.UUID):
        return value
    try:
        return uuid.UUID(str(value))
    except (TypeError, ValueError, AttributeError):
        return None


# --- comments --------------------------------------------------------------------------------


def comment_get(*, ctx: WorkspaceContext, comment_id: Any, for_update: bool = False) -> Comment:
    """A comment of ``ctx.workspace``; missing and foreign ones are both 404."""
    cid = _as_uuid(comment_id)
    qs = Comment.objects.filter(workspace_id=ctx.workspace_id)
    if for_update:
        qs = qs.select_for_update()
    comment = qs.filter(pk=cid).first() if cid is not None else None
    if comment is None:
        raise NotFound("comment not found", code="comment_not_found")
    return comment


def comments_with_related(comments: list[Comment]) -> list[Comment]:
    """Attach reactions and attachments in one query each."""
    if comments:
        workspace_id = comments[0].workspace_id
        prefetch_related_objects(
            comments,
            Prefetch(
                "reactions",
                queryset=CommentReaction.objects.filter(workspace_id=workspace_id).order_by(
                    "created_at", "id"
                ),
            ),
            Prefetch(
                "attachments",
                queryset=Attachment.objects.filter(workspace_id=workspace_id).order_by(
                    "created_at", "id"
                ),
            ),
        )
    return comments


def comment_with_related(comment: Comment) -> Comment:
    for name in ("reactions", "attachments"):
        getattr(comment, "_prefetched_objects_cache", {}).pop(name, None)
    return comments_with_related([comment])[0]


@dataclass(frozen=True)
class CommentListParams:
    since: datetime | None = None
    thread: uuid.UUID | None = None
    recent: int | None = None
    tail: int | None = None
    before: datetime | None = None
    before_id: uuid.UUID | None = None
    roots_only: bool = False
    summary: bool = False
    fold: bool = False


def _parse_time(value: str, message: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(value.strip().replace("z", "Z"))
    except ValueError as exc:
        raise ValidationError(message) from exc
    if parsed.tzinfo is None or "T" not in value.upper():
        raise ValidationError(message)
    return parsed


def _parse_bool(value: str | None, name: str) -> bool:
    if not value:
        return False
    if value == "true":
        return True
    if value == "false":
        return False
    raise ValidationError(f"invalid {name} parameter; expected boolean")


def comment_list_params_parse(query: Mapping[str, Any]) -> CommentListParams:
    """Validate the ``GET …/comments`` query exactly as Multica does (same sentences)."""

    def get(*names: str) -> str:
        for name in names:
            value = query.get(name)
            if value:
                return str(value)
        return ""

    since = None
    if raw := get("since"):
        since = _parse_time(raw, "invalid since parameter; expected RFC3339 format")
    thread_raw, recent_raw, tail_raw = get("thread"), get("recent"), get("tail")
    before_raw, before_id_raw = get("before"), get("before_id", "before-id")
    roots_only = _parse_bool(get("roots_only", "roots-only"), "roots_only")
    summary = _parse_bool(get("summary"), "summary")
    fold = _parse_bool(get("fold"), "fold")

    if fold and since is not None:
        raise ValidationError(
            "fold and since are mutually exclusive: since returns a partial thread, and a fold "
            "over a partial thread could hide a resolution that was not fetched"
        )
    if fold and tail_raw:
        raise ValidationError(
            "fold and tail are mutually exclusive: tail returns a partial thread, which cannot "
            "be folded safely"
        )
    if fold and roots_only:
        raise ValidationError(
            "fold and roots_only are mutually exclusive: roots_only returns no replies to fold"
        )
    if roots_only and thread_raw:
        raise ValidationError("roots_only and thread are mutually exclusive")
    if roots_only and recent_raw:
        raise ValidationError("roots_only and recent are mutually exclusive")
    if roots_only and tail_raw:
        raise ValidationError("roots_only and tail are mutually exclusive")
    if roots_only and (before_raw or before_id_raw):
        raise ValidationError("roots_only does not support before / before_id")
    if thread_raw and recent_raw:
        raise ValidationError("thread and recent are mutually exclusive")
    if tail_raw and not thread_raw:
        raise ValidationError("tail requires thread (it is a thread-scoped limit)")
    if bool(before_raw) != bool(before_id_raw):
        raise ValidationError("before and before_id must be set together (composite cursor)")
    if before_raw and not recent_raw and not (thread_raw and tail_raw):
        raise ValidationError(
            "before / before_id require recent (thread cursor) or thread + tail (reply cursor)"
        )

    before = before_id = None
    if before_raw:
        before = _parse_time(before_raw, "invalid before parameter; expected RFC3339 format")
        before_id = _as_uuid(before_id_raw)
        if before_id is None:
            raise ValidationError("invalid before_id parameter; expected UUID")

    recent = None
    if recent_raw:
        try:
            recent = int(recent_raw)
        except ValueError:
            recent = 0
        if recent <= 0:
            raise ValidationError("invalid recent parameter; expected positive integer")
        recent = min(recent, COMMENT_HARD_CAP)

    tail = None
    if tail_raw:
        try:
            tail = int(tail_raw)
        except ValueError:
            tail = -1
        if tail < 0:
            raise ValidationError("invalid tail parameter; expected non-negative integer")
        tail = min(tail, COMMENT_HARD_CAP)

    thread = None
    if thread_raw:
        thread = _as_uuid(thread_raw)
        if thread is None:
            raise ValidationError("invalid thread parameter; expected UUID")

    return CommentListParams(
        since=since,
        thread=thread,
        recent=recent,
        tail=tail,
        before=before,
        before_id=before_id,
        roots_only=roots_only,
        summary=summary,
        fold=fold,
    )


@dataclass
class CommentPage:
    comments: list[Comment]
    root_stats: dict[uuid.UUID, tuple[int, datetime]] = field(default_factory=dict)
    fold_stats: dict[uuid.UUID, int] = field(default_factory=dict)
    next_before: str | None = None
    next_before_id: str | None = None
    truncated: bool = False
    summary: bool = False


@dataclass(frozen=True)
class _Node:
    id: uuid.UUID
    parent_id: uuid.UUID | None
    created_at: datetime

    @property
    def key(self) -> tuple[datetime, uuid.UUID]:
        return (self.created_at, self.id)


class _Skeleton:
    """``(id, parent_id, created_at)`` of every comment of one issue, with tree helpers."""

    def __init__(self, issue: Issue) -> None:
        rows = Comment.objects.filter(workspace_id=issue.workspace_id, issue_id=issue.id)
        self.nodes: dict[uuid.UUID, _Node] = {
            cid: _Node(cid, pid, created)
            for cid, pid, created in rows.values_list("id", "parent_id", "created_at")
        }
        self.children: dict[uuid.UUID, list[uuid.UUID]] = {}
        for node in self.nodes.values():
            if node.parent_id is not None and node.parent_id in self.nodes:
                self.children.setdefault(node.parent_id, []).append(node.id)

    def root_of(self, cid: uuid.UUID) -> uuid.UUID | None:
        seen: set[uuid.UUID] = set()
        current: uuid.UUID | None = cid
        while current is not None and current not in seen:
            seen.add(current)
            node = self.nodes.get(current)
            if node is None:
                return None
            if node.parent_id is None:
                return current
            current = node.parent_id
        return None

    def subtree(self, root: uuid.UUID) -> list[uuid.UUID]:
        out, stack, seen = [], [root], set()
        while stack:
            cid = stack.pop()
            if cid in seen:
                continue
            seen.add(cid)
            out.append(cid)
            stack.extend(self.children.get(cid, ()))
        return out

    def roots(self) -> list[uuid.UUID]:
        return [n.id for n in self.nodes.values() if n.parent_id is None]

    def sort(self, ids: Iterable[uuid.UUID]) -> list[uuid.UUID]:
        return sorted(ids, key=lambda i: self.nodes[i].key)


def _fetch(issue: Issue, ids: Sequence[uuid.UUID]) -> list[Comment]:
    """Full rows of ``ids`` (already ordered), same workspace and issue only."""
    if not ids:
        return []
    rows = Comment.objects.filter(workspace_id=issue.workspace_id, issue_id=issue.id, id__in=ids)
    by_id = {c.id: c for c in rows}
    return [by_id[i] for i in ids if i in by_id]


def _ordered(qs: Any) -> Any:
    return qs.order_by("created_at", "id")


def _complete_threads(sk: _Skeleton, window: list[uuid.UUID]) -> list[uuid.UUID]:
    """Multica's ``completeCommentThreads``: restore the ancestors and the missing siblings of
    threads a newest-N window cut, within a shared budget; drop a thread that cannot be proved
    complete as one unit."""
    window = [i for i in window if i in sk.nodes]  # a row deleted between the two reads
    initial = set(window)
    have = set(window)
    through = max((sk.nodes[i].key for i in window), default=None)
    added = 0
    for _ in range(THREAD_MAX_DEPTH):
        missing = {
            sk.nodes[i].parent_id
            for i in have
            if sk.nodes[i].parent_id is not None and sk.nodes[i].parent_id not in have
        }
        missing = {m for m in missing if m in sk.nodes}
        if not missing or added + len(missing) > THREAD_CONTEXT_BUDGET:
            break
        have |= missing
        added += len(missing)

    def connected(cid: uuid.UUID) -> bool:
        seen: set[uuid.UUID] = set()
        current: uuid.UUID | None = cid
        while current is not None and current in have and current not in seen:
            seen.add(current)
            parent = sk.nodes[current].parent_id
            if parent is None:
                return True
            current = parent
        return False

    have = {i for i in have if connected(i)}
    affected = {i for i in have if sk.nodes[i].parent_id is None and i not in initial}
    if affected:
        extra: set[uuid.UUID] = set()
        for root in affected:
            for cid in sk.subtree(root):
                if cid not in have and through is not None and sk.nodes[cid].key <= through:
                    extra.add(cid)
        if added + len(extra) > THREAD_CONTEXT_BUDGET:
            have = {i for i in have if sk.root_of(i) not in affected}
        else:
            have |= extra
    return sk.sort(have)


def _fold(comments: list[Comment]) -> tuple[list[Comment], dict[uuid.UUID, int]]:
    """Multica's ``foldResolvedThreads`` over a complete-thread set."""
    by_id = {c.id: c for c in comments}

    def root_of(c: Comment) -> Comment:
        current = c
        for _ in range(len(comments)):
            if current.parent_id is None or current.parent_id not in by_id:
                return current
            current = by_id[current.parent_id]
        return current

    threads: dict[uuid.UUID, list[Comment]] = {}
    roots: dict[uuid.UUID, Comment] = {}
    for c in comments:
        root = root_of(c)
        roots[root.id] = root
        replies = threads.setdefault(root.id, [])
        if c.id != root.id:
            replies.append(c)
    keep: set[uuid.UUID] = set()
    stats: dict[uuid.UUID, int] = {}
    for rid, replies in threads.items():
        keep.add(rid)
        if roots[rid].resolved_at is not None:
            stats[rid] = len(replies)
            continue
        resolved = [r for r in replies if r.resolved_at is not None]
        if not resolved:
            keep.update(r.id for r in replies)
            continue
        conclusion = max(resolved, key=lambda r: r.resolved_at)
        keep.add(conclusion.id)
        stats[rid] = len(replies) - 1
    return [c for c in comments if c.id in keep], stats


def comment_list(
    *, ctx: WorkspaceContext, issue_ref: Any, params: CommentListParams
) -> CommentPage:
    """``GET /api/issues/{id}/comments`` in every mode (chronological, capped at 2000)."""
    issue = issue_get(ctx=ctx, issue_ref=issue_ref)
    base = Comment.objects.filter(workspace_id=ctx.workspace_id, issue_id=issue.id)
    page = CommentPage(comments=[], summary=params.summary)
    fold_safe = True

    if params.thread is not None:
        sk = _Skeleton(issue)
        root = sk.root_of(params.thread) if params.thread in sk.nodes else None
        if root is None:
            raise NotFound("thread anchor not found in this issue", code="not_found")
        replies = [i for i in sk.sort(sk.subtree(root)) if i != root]
        if params.tail is not None:
            if params.before is not None:
                cursor = (params.before, params.before_id)
                replies = [i for i in replies if sk.nodes[i].key < cursor]
            window = replies[max(0, len(replies) - (params.tail + 1)) :]
            has_more = len(window) > params.tail
            if has_more:
                window = window[1:]
            kept = [
                i for i in window if params.since is None or sk.nodes[i].created_at > params.since
            ]
            ids = [root, *kept]
            if (
                has_more
                and window
                and not (params.since and sk.nodes[window[0]].created_at <= params.since)
            ):
                oldest = sk.nodes[window[0]]
                page.next_before = format_time_nano(oldest.created_at)
                page.next_before_id = str(oldest.id)
        else:
            truncated = len(replies) >= COMMENT_HARD_CAP
            if truncated:
                replies = replies[-(COMMENT_HARD_CAP - 1) :]
            ids = [
                i
                for i in [root, *replies]
                if params.since is None or sk.nodes[i].created_at > params.since
            ]
            page.truncated = truncated
            fold_safe = not truncated
        page.comments = _fetch(issue, ids)
    elif params.recent is not None:
        sk = _Skeleton(issue)
        stats = []
        for root in sk.roots():
            members = sk.subtree(root)
            last = max(sk.nodes[i].created_at for i in members)
            stats.append((last, root, members))
        if params.before is not None:
            cursor = (params.before, params.before_id)
            stats = [s for s in stats if (s[0], s[1]) < cursor]
        stats.sort(key=lambda s: (s[0], s[1]), reverse=True)
        picked = sorted(stats[: params.recent], key=lambda s: (s[0], s[1]))
        ids = []
        for _last, _root, members in picked:
            ids.extend(
                i
                for i in sk.sort(members)
                if params.since is None or sk.nodes[i].created_at > params.since
            )
        if picked and len(picked) >= params.recent:
            head_last, head_root, _ = picked[0]
            if params.since is None or head_last > params.since:
                page.next_before = format_time_nano(head_last)
                page.next_before_id = str(head_root)
        page.comments = _fetch(issue, ids)
    elif params.roots_only:
        sk = _Skeleton(issue)
        roots = sk.sort(sk.roots())
        if params.since is not None:
            roots = [r for r in roots if sk.nodes[r].created_at > params.since]
            page.truncated = len(roots) > COMMENT_HARD_CAP
            roots = roots[:COMMENT_HARD_CAP]
        else:
            page.truncated = len(roots) > COMMENT_HARD_CAP
            roots = roots[-COMMENT_HARD_CAP:]
        for root in roots:
            members = sk.subtree(root)
            page.root_stats[root] = (
                len(members) - 1,
                max(sk.nodes[i].created_at for i in members),
            )
        page.comments = _fetch(issue, roots)
    elif params.since is not None:
        rows = list(_ordered(base.filter(created_at__gt=params.since))[:COMMENT_PROBE_LIMIT])
        page.truncated = len(rows) > COMMENT_HARD_CAP
        page.comments = rows[:COMMENT_HARD_CAP]
    else:
        rows = list(base.order_by("-created_at", "-id")[:COMMENT_PROBE_LIMIT])
        rows.reverse()
        page.truncated = len(rows) > COMMENT_HARD_CAP
        if page.truncated:
            window = [c.id for c in rows[-COMMENT_HARD_CAP:]]
            page.comments = _fetch(issue, _complete_threads(_Skeleton(issue), window))
        else:
            page.comments = rows

    if params.fold and fold_safe:
        page.comments, page.fold_stats = _fold(page.comments)
    comments_with_related(page.comments)
    return page


# --- timeline --------------------------------------------------------------------------------


@dataclass
class Timeline:
    comments: list[Comment]
    activities: list[ActivityLog]
    comments_truncated: bool
    activities_truncated: bool

    @property
    def truncated_kinds(self) -> str:
        kinds = [
            kind
            for kind, flag in (
                ("activity", self.activities_truncated),
                ("comment", self.comments_truncated),
            )
            if flag
        ]
        return ",".join(kinds)


def timeline_get(*, ctx: WorkspaceContext, issue_ref: Any) -> Timeline:
    """Comments and activity of an issue, each capped to its newest 2000 (spec §3.6)."""
    issue = issue_get(ctx=ctx, issue_ref=issue_ref)
    comments = list(
        Comment.objects.filter(workspace_id=ctx.workspace_id, issue_id=issue.id).order_by(
            "-created_at", "-id"
        )[: TIMELINE_HARD_CAP + 1]
    )
    comments.reverse()
    comments_truncated = len(comments) > TIMELINE_HARD_CAP
    if comments_truncated:
        window = [c.id for c in comments[-TIMELINE_HARD_CAP:]]
        comments = _fetch(issue, _complete_threads(_Skeleton(issue), window))
    activities = list(
        ActivityLog.objects.filter(workspace_id=ctx.workspace_id, issue_id=issue.id).order_by(
            "-created_at", "-id"
        )[: TIMELINE_HARD_CAP + 1]
    )
    activities.reverse()
    activities_truncated = len(activities) > TIMELINE_HARD_CAP
    if activities_truncated:
        activities = activities[-TIMELINE_HARD_CAP:]
    return Timeline(
        comments=comments_with_related(comments),
        activities=activities,
        comments_truncated=comments_truncated,
        activities_truncated=activities_truncated,
    )


# --- subscribers -----------------------------------------------------------------------------


def subscriber_list(*, ctx: WorkspaceContext, issue_ref: Any) -> list[IssueSubscriber]:
    issue = issue_get(ctx=ctx, issue_ref=issue_ref)
    return list(
        IssueSubscriber.objects.filter(
            workspace_id=ctx.workspace_id, issue_id=issue.id, unsubscribed_at__isnull=True
        ).order_by("created_at", "id")
    )


def active_subscribers(*, workspace_id: uuid.UUID, issue_id: uuid.UUID) -> list[IssueSubscriber]:
    return list(
        IssueSubscriber.objects.filter(
            workspace_id=workspace_id, issue_id=issue_id, unsubscribed_at__isnull=True
        ).order_by("created_at", "id")
    )


# --- inbox -----------------------------------------------------------------------------------


def _recipient_id(ctx: WorkspaceContext) -> uuid.UUID:
    if ctx.user is None:
        raise NotFound("inbox item not found", code="not_found")
    return ctx.user.pk


def _my_items(ctx: WorkspaceContext) -> Any:
    return InboxItem.objects.filter(
        workspace_id=ctx.workspace_id, recipient_type="member", recipient_id=_recipient_id(ctx)
    )


def inbox_list(*, ctx: WorkspaceContext) -> list[InboxItem]:
    """The caller's non-archived items, newest first, with their issue's status."""
    return list(
        _my_items(ctx).filter(archived=False).select_related("issue").order_by("-created_at", "-id")
    )


def inbox_archived_list(*, ctx: WorkspaceContext) -> list[InboxItem]:
    """Archived items whose issue has no active item (the lists stay disjoint), newest 200."""
    active_issues = _my_items(ctx).filter(archived=False, issue__isnull=False).values("issue_id")
    return list(
        _my_items(ctx)
        .filter(archived=True)
        .exclude(issue_id__in=active_issues)
        .select_related("issue")
        .order_by("-created_at", "-id")[:ARCHIVED_INBOX_LIMIT]
    )


def inbox_item_get(*, ctx: WorkspaceContext, item_id: Any, for_update: bool = False) -> InboxItem:
    """One of the caller's own items; anyone else's (or another workspace's) is 404."""
    iid = _as_uuid(item_id)
    qs = _my_items(ctx)
    if for_update:
        qs = qs.select_for_update(of=("self",))
    item = qs.select_related("issue").filter(pk=iid).first() if iid is not None else None
    if item is None:
        raise NotFound("inbox item not found", code="not_found")
    return item


def inbox_unread_count(*, ctx: WorkspaceContext) -> int:
    return _my_items(ctx).filter(read=False, archived=False).count()


UNREAD_SUMMARY_SQL = """
SELECT newest.workspace_id, count(*) AS count
FROM (
    SELECT DISTINCT ON (i.workspace_id, COALESCE(i.issue_id, i.id)) i.workspace_id, i.read
    FROM inbox_item i
    JOIN member m ON m.workspace_id = i.workspace_id AND m.user_id = i.recipient_id
    WHERE i.recipient_type = 'member' AND i.recipient_id = %s AND i.archived = false
    ORDER BY i.workspace_id, COALESCE(i.issue_id, i.id), i.created_at DESC, i.id DESC
) newest
WHERE newest.read = false
GROUP BY newest.workspace_id
ORDER BY newest.workspace_id
"""


def inbox_unread_summary(*, user: User) -> list[tuple[uuid.UUID, int]]:
    """Per workspace the user belongs to: issue groups whose newest active item is unread."""
    with connection.cursor() as cur:
        cur.execute(UNREAD_SUMMARY_SQL, [user.pk])
        return [(ws_id, count) for ws_id, count in cur.fetchall() if count]


# --- notification preferences ----------------------------------------------------------------


def notification_preferences_get(*, ctx: WorkspaceContext) -> dict[str, str]:
    if ctx.user is None:
        return {}
    row = NotificationPreference.objects.filter(
        workspace_id=ctx.workspace_id, user_id=ctx.user.pk
    ).first()
    prefs = row.preferences if row is not None else {}
    return {str(k): str(v) for k, v in prefs.items()} if isinstance(prefs, dict) else {}


def notification_preferences_for(
    *, workspace_id: uuid.UUID, user_ids: Iterable[uuid.UUID]
) -> dict[uuid.UUID, dict[str, Any]]:
    ids = set(user_ids)
    if not ids:
        return {}
    rows = NotificationPreference.objects.filter(workspace_id=workspace_id, user_id__in=ids)
    return {
        row.user_id: row.preferences if isinstance(row.preferences, dict) else {} for row in rows
    }
