"""Issue subscribers (spec §3.7): who watches an issue, and why.

Two write paths, as Multica's ``issue_subscriber`` queries:

* **automatic** (:func:`subscriber_auto_add`, reasons creator / assignee / commenter /
  mentioned): never resurrects an opt-out tombstone (``unsubscribed_at`` set); upgrades an
  active ``delegated`` row when the user becomes directly involved; publishes
  ``subscriber:added`` only when a row was actually written.
* **explicit** (``POST …/subscribe``): clears the caller's own tombstone, reason ``manual``.

Unsubscribing keeps the row as a tombstone (``opt_out_scope`` ``issue`` or ``subtree``) so the
automatic rules can tell "never subscribed" from "chose to leave".
"""

from __future__ import annotations

import uuid
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from issues.models import Issue, IssueSubscriber
from issues.selectors import issue_get
from issues.selectors_conversation import workspace_entity_exists
from multica_site.errors import PermissionDenied
from multica_site.events import publish
from multica_site.wire import format_time
from workspaces.context import Actor, WorkspaceContext
from workspaces.models import Member, Workspace

SUBSCRIBER_ADDED = "subscriber:added"
SUBSCRIBER_REMOVED = "subscriber:removed"

SUBSCRIBER_TYPES = frozenset({"member", "agent"})
NOT_A_MEMBER = "target user is not a member of this workspace"

_AUTO_ADD_SQL = """
INSERT INTO issue_subscriber (workspace_id, issue_id, user_type, user_id, reason, created_at)
VALUES (%s, %s, %s, %s, %s, now())
ON CONFLICT (issue_id, user_type, user_id) DO UPDATE
SET reason = EXCLUDED.reason
WHERE issue_subscriber.unsubscribed_at IS NULL
  AND issue_subscriber.reason = 'delegated'
  AND EXCLUDED.reason <> 'delegated'
RETURNING 1
"""

_EXPLICIT_SQL = """
INSERT INTO issue_subscriber (workspace_id, issue_id, user_type, user_id, reason, created_at)
VALUES (%s, %s, %s, %s, 'manual', now())
ON CONFLICT (issue_id, user_type, user_id)
DO UPDATE SET unsubscribed_at = NULL, opt_out_scope = NULL, reason = EXCLUDED.reason
"""

_SUBTREE_SQL = """
WITH RECURSIVE subtree(node_id, depth) AS (
    SELECT root.id, 0 FROM issue root WHERE root.id = %(root)s AND root.workspace_id = %(ws)s
    UNION ALL
    SELECT i.id, s.depth + 1 FROM issue i JOIN subtree s ON i.parent_issue_id = s.node_id
    WHERE i.workspace_id = %(ws)s AND s.depth < 1000
),
retire_descendants AS (
    UPDATE issue_subscriber sub
    SET unsubscribed_at = now(), opt_out_scope = 'subtree'
    WHERE sub.issue_id IN (SELECT node_id FROM subtree WHERE node_id <> %(root)s)
      AND sub.workspace_id = %(ws)s
      AND sub.user_type = %(type)s AND sub.user_id = %(user)s
      AND sub.unsubscribed_at IS NULL
    RETURNING sub.issue_id
),
retire_root AS (
    INSERT INTO issue_subscriber
        (workspace_id, issue_id, user_type, user_id, reason, unsubscribed_at, opt_out_scope,
         created_at)
    VALUES (%(ws)s, %(root)s, %(type)s, %(user)s, 'manual', now(), 'subtree', now())
    ON CONFLICT (issue_id, user_type, user_id)
    DO UPDATE SET unsubscribed_at = now(), opt_out_scope = 'subtree'
    RETURNING issue_id
)
SELECT issue_id FROM retire_descendants
UNION ALL
SELECT issue_id FROM retire_root
"""


def subscriber_wire(row: IssueSubscriber) -> dict[str, Any]:
    return {
        "issue_id": str(row.issue_id),
        "user_type": row.user_type,
        "user_id": str(row.user_id),
        "reason": row.reason,
        "created_at": format_time(row.created_at),
    }


def _lock_subscriber_writes(workspace_id: uuid.UUID, user_id: uuid.UUID) -> None:
    """Serialise opt-out writes per (workspace, user), as Multica's ``LockSubscriberWrites``."""
    with connection.cursor() as cur:
        cur.execute(
            "SELECT pg_advisory_xact_lock(hashtext(%s::text), hashtext(%s::text))",
            [str(workspace_id), str(user_id)],
        )


def subscriber_auto_add(
    *, ctx: WorkspaceContext, issue: Issue, user_type: str, user_id: Any, reason: str
) -> bool:
    """Rule-driven subscribe. Returns True when a row was written (and announced)."""
    if user_type not in SUBSCRIBER_TYPES or user_id is None:
        return False
    try:
        uid = uuid.UUID(str(user_id))
    except ValueError:
        return False
    with connection.cursor() as cur:
        cur.execute(_AUTO_ADD_SQL, [ctx.workspace_id, issue.id, user_type, uid, reason])
        written = cur.fetchone() is not None
    if written:
        publish(
            SUBSCRIBER_ADDED,
            {
                "issue_id": str(issue.id),
                "user_type": user_type,
                "user_id": str(uid),
                "reason": reason,
            },
            workspace_id=ctx.workspace_id,
            actor=ctx.actor,
        )
    return written


def _target(ctx: WorkspaceContext, user_type: str | None, user_id: Any) -> tuple[str, uuid.UUID]:
    """The subscription target: the caller by default, else a member/agent of the workspace."""
    target_type = user_type or ctx.actor.type
    target_id = user_id if user_id not in (None, "") else ctx.actor.id
    if not workspace_entity_exists(
        workspace_id=ctx.workspace_id, user_type=target_type, user_id=target_id
    ):
        raise PermissionDenied(NOT_A_MEMBER, code="not_a_member")
    return target_type, uuid.UUID(str(target_id))


def issue_subscribe(
    *,
    ctx: WorkspaceContext,
    issue_ref: Any,
    user_type: str | None = None,
    user_id: Any = None,
) -> None:
    """``POST /api/issues/{id}/subscribe``: explicit, so it clears an earlier opt-out."""
    with transaction.atomic():
        issue = issue_get(ctx=ctx, issue_ref=issue_ref)
        target_type, target_id = _target(ctx, user_type, user_id)
        with connection.cursor() as cur:
            cur.execute(_EXPLICIT_SQL, [ctx.workspace_id, issue.id, target_type, target_id])
        publish(
            SUBSCRIBER_ADDED,
            {
                "issue_id": str(issue.id),
                "user_type": target_type,
                "user_id": str(target_id),
                "reason": "manual",
            },
            workspace_id=ctx.workspace_id,
            actor=ctx.actor,
        )


def issue_unsubscribe(
    *,
    ctx: WorkspaceContext,
    issue_ref: Any,
    user_type: str | None = None,
    user_id: Any = None,
    subtree: bool = False,
) -> list[uuid.UUID]:
    """``POST …/unsubscribe`` (this issue) or ``…/unsubscribe/subtree`` (this issue and every
    descendant, now and later). Returns the issues left; one ``subscriber:removed`` each."""
    with transaction.atomic():
        issue = issue_get(ctx=ctx, issue_ref=issue_ref)
        target_type, target_id = _target(ctx, user_type, user_id)
        if subtree:
            _lock_subscriber_writes(ctx.workspace_id, target_id)
            if (
                target_type == "member"
                and not Member.objects.select_for_update()
                .filter(workspace_id=ctx.workspace_id, user_id=target_id)
                .exists()
            ):
                raise PermissionDenied(NOT_A_MEMBER, code="not_a_member")
            with connection.cursor() as cur:
                cur.execute(
                    _SUBTREE_SQL,
                    {
                        "root": issue.id,
                        "ws": ctx.workspace_id,
                        "type": target_type,
                        "user": target_id,
                    },
                )
                removed = [row[0] for row in cur.fetchall()]
        else:
            IssueSubscriber.objects.filter(
                workspace_id=ctx.workspace_id,
                issue_id=issue.id,
                user_type=target_type,
                user_id=target_id,
                unsubscribed_at__isnull=True,
            ).update(unsubscribed_at=timezone.now(), opt_out_scope="issue")
            removed = [issue.id]
        for issue_id in removed:
            publish(
                SUBSCRIBER_REMOVED,
                {"issue_id": str(issue_id), "user_type": target_type, "user_id": str(target_id)},
                workspace_id=ctx.workspace_id,
                actor=ctx.actor,
            )
    return removed


def subscriptions_delete_for_member(workspace: Workspace, member: Member, actor: Actor) -> None:
    """A departing member stops watching the workspace's issues (hard delete, not a tombstone:
    leaving is not an opt-out). Registered in ``MEMBER_REMOVED_HOOKS``."""
    _lock_subscriber_writes(workspace.id, member.user_id)
    IssueSubscriber.objects.filter(
        workspace_id=workspace.id, user_type="member", user_id=member.user_id
    ).delete()


def register() -> None:
    """Wire the member-removal cleanup (call once from ``IssuesConfig.ready``)."""
    from workspaces.services.workspaces import MEMBER_REMOVED_HOOKS  # noqa: PLC0415

    if subscriptions_delete_for_member not in MEMBER_REMOVED_HOOKS:
        MEMBER_REMOVED_HOOKS.append(subscriptions_delete_for_member)
