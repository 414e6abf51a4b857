"""Agent triggering (spec §3.9, §5.6, §5.7): when an issue write, a comment or a rerun puts an
agent to work, and what the caller is told when it does not.

Entry points are the issue and comment services' hook lists, wired by :func:`register`:

* assignment / status (``ISSUE_CREATED_HOOKS``, ``ISSUE_UPDATED_HOOKS``): the agent assignee
  runs when the issue is created with it or reassigned to it outside the backlog category, or
  when the issue leaves backlog for anything but backlog/done/cancelled; the assignee itself
  is checked by ``ASSIGNEE_VALIDATORS["agent"]`` (400 archived, 403 ``invocation_not_allowed``);
* comments (``COMMENT_TRIGGER_HOOKS``): explicit ``@agent`` mentions (reported per target in
  ``trigger_outcomes``), else replies under an agent comment, else replies in a member-rooted
  thread the agents already answered, else the agent assignee;
* deletion (``ISSUE_DELETED_HOOKS``, ``COMMENT_DELETING_HOOKS``): the tasks go ``cancelled``.

A new task is ``queued`` for the agent's runtime with the issue's priority rank; ``task:queued``
goes to the workspace and ``daemon:task_available`` to the runtime's sockets, both after commit.
At most one ``queued|dispatched`` task exists per (issue, agent) — the partial unique index is the
arbiter under concurrency; a comment for an agent whose task has not started is folded into it.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db import IntegrityError, transaction

from agents.invocation import actor_originator, ctx_can_invoke
from agents.models import Agent, AgentTask
from agents.services.tasks import (
    PENDING_STATUSES,
    TASK_QUEUED,
    task_event_publish,
    tasks_cancel_for_comments,
    tasks_cancel_for_issue,
    tasks_cancel_where,
)
from issues.models import Comment
from issues.selectors import StatusCategories, issue_get
from issues.services.mentions import mentions_parse
from multica_site.errors import PermissionDenied, ValidationError
from workspaces import realtime

if TYPE_CHECKING:
    from issues.models import Issue
    from issues.services.changes import IssueChanges
    from issues.services.comments import CommentTrigger
    from workspaces.context import WorkspaceContext

logger = logging.getLogger("multica.dispatch")

# --- §5.7 vocabulary --------------------------------------------------------------------------

QUEUED = "queued"
COALESCED = "coalesced"
DEFERRED = "deferred"
BLOCKED = "blocked"

REASON_QUEUED = "queued"
REASON_COALESCED = "coalesced"
REASON_DEFERRED = "deferred"
REASON_INVOCATION_NOT_ALLOWED = "invocation_not_allowed"
REASON_TARGET_UNAVAILABLE = "target_unavailable"
REASON_RUNTIME_OFFLINE = "runtime_offline"
REASON_RUNTIME_UNUSABLE = "runtime_unusable"
REASON_AGENT_RUNTIME_REQUIRED = "agent_runtime_required"
REASON_ATTRIBUTION_BLOCKED = "attribution_blocked"
REASON_ALREADY_ACTIVE = "already_active"
REASON_SELF_TRIGGER_SUPPRESSED = "self_trigger_suppressed"
REASON_QUOTA_EXCEEDED = "quota_exceeded"
REASON_INTERNAL_ERROR = "internal_error"

# The generic, non-enumerating ``error`` of a blocked synchronous trigger (Multica's
# dispatchBlockedFallbackMessage).
BLOCKED_MESSAGES = {
    REASON_INVOCATION_NOT_ALLOWED: "you don't have permission to use this target",
    REASON_TARGET_UNAVAILABLE: "the target is unavailable",
    REASON_RUNTIME_OFFLINE: "the target's runtime is offline",
    REASON_RUNTIME_UNUSABLE: "the target's agent CLI cannot run on its machine",
    REASON_AGENT_RUNTIME_REQUIRED: "the target needs a runtime",
    REASON_ATTRIBUTION_BLOCKED: "the run couldn't be attributed to a responsible member",
    REASON_ALREADY_ACTIVE: "a run is already active for this target",
}
ASSIGN_NOT_ALLOWED = "you do not have permission to assign work to this agent"

PRIORITY_RANK = {"urgent": 4, "high": 3, "medium": 2, "low": 1, "none": 0}
NOT_EXECUTABLE = "not_executable"
UNIQUE_PENDING_INDEX = "task_one_pending_per_issue_agent"
TRIGGER_SUMMARY_RUNES = 200
ENQUEUE_ATTEMPTS = 3
NO_TRIGGER_STATUSES = frozenset({"backlog", "done", "cancelled"})
ACTIVE_RUN_STATUSES = ("dispatched", "running", "waiting_local_directory")


class DispatchBlocked(PermissionDenied):
    """A synchronous trigger refused before anything was written: ``{"error", "reason_code"}``."""

    def __init__(self, reason_code: str, *, status: int = 403, message: str | None = None):
        super().__init__(
            message or BLOCKED_MESSAGES.get(reason_code, "the run was blocked"),
            code=reason_code,
            status=status,
            extra={"reason_code": reason_code},
        )
        self.reason_code = reason_code


@dataclass(frozen=True)
class Trigger:
    """Who asked for a run: the human accountable for it and the comment that caused it."""

    originator_user_id: uuid.UUID | None
    initiator_user_id: uuid.UUID | None
    comment: Comment | None = None
    handoff_note: str | None = None

    @classmethod
    def from_ctx(cls, ctx: WorkspaceContext, **kw: Any) -> Trigger:
        originator = actor_originator(ctx)
        return cls(originator_user_id=originator, initiator_user_id=originator, **kw)


# --- readiness --------------------------------------------------------------------------------


def agent_block_reason(agent: Agent) -> str | None:
    """Why nothing would ever claim this agent's work (Multica's ``AgentReadiness`` BLOCKED
    verdict), or ``None``. A merely offline runtime is not a block: the task waits queued."""
    if agent.archived_at is not None:
        return REASON_TARGET_UNAVAILABLE
    if agent.runtime_id is None:
        return REASON_AGENT_RUNTIME_REQUIRED
    runtime = agent.runtime
    if runtime is None:
        return REASON_AGENT_RUNTIME_REQUIRED
    if runtime.status != "online":
        reason = (
            (runtime.metadata or {}).get("offline_reason")
            if isinstance(runtime.metadata, dict)
            else None
        )
        if isinstance(reason, dict) and reason.get("code") == NOT_EXECUTABLE:
            return REASON_RUNTIME_UNUSABLE
    return None


def _agent_in_workspace(ctx: WorkspaceContext, agent_id: Any) -> Agent | None:
    try:
        pk = uuid.UUID(str(agent_id))
    except ValueError:
        return None
    return (
        Agent.objects.select_related("runtime").filter(pk=pk, workspace_id=ctx.workspace_id).first()
    )


def _actor_is_agent(ctx: WorkspaceContext, agent: Agent) -> bool:
    return ctx.actor.type == "agent" and str(ctx.actor.id) == str(agent.pk)


# --- enqueue ----------------------------------------------------------------------------------


def _summary(comment: Comment | None) -> str | None:
    if comment is None:
        return None
    text = comment.content.strip()
    return text if len(text) <= TRIGGER_SUMMARY_RUNES else text[:TRIGGER_SUMMARY_RUNES] + "…"


def _announce(task: AgentTask) -> None:
    """``task:queued`` to the workspace; ``daemon:task_available`` to the runtime's sockets."""
    task_event_publish(TASK_QUEUED, task)
    if task.runtime_id is not None:
        runtime_id, task_id = str(task.runtime_id), str(task.id)
        transaction.on_commit(
            lambda: realtime.send_to_runtime(
                runtime_id, "daemon:task_available", {"runtime_id": runtime_id, "task_id": task_id}
            ),
            robust=True,
        )


def task_create(
    *,
    ctx: WorkspaceContext,
    issue: Issue,
    agent: Agent,
    trigger: Trigger,
    coalesced_comment_ids: list[uuid.UUID] | None = None,
    rerun_of_task_id: uuid.UUID | None = None,
    force_fresh_session: bool = False,
) -> AgentTask | None:
    """Insert a ``queued`` task, or ``None`` when (issue, agent) already has a pending one
    (the partial unique index refused it; the caller's transaction is unharmed)."""
    try:
        with transaction.atomic():
            task = AgentTask.objects.create(
                workspace_id=ctx.workspace_id,
                agent=agent,
                issue=issue,
                runtime_id=agent.runtime_id,
                status=AgentTask.Status.QUEUED,
                priority=PRIORITY_RANK.get(issue.priority, 0),
                trigger_comment_id=trigger.comment.pk if trigger.comment else None,
                trigger_summary=_summary(trigger.comment),
                coalesced_comment_ids=list(coalesced_comment_ids or []),
                handoff_note=trigger.handoff_note or None,
                originator_user_id=trigger.originator_user_id,
                initiator_user_id=trigger.initiator_user_id,
                rerun_of_task_id=rerun_of_task_id,
                force_fresh_session=force_fresh_session,
            )
    except IntegrityError as exc:
        if UNIQUE_PENDING_INDEX in str(exc):
            return None
        raise
    _announce(task)
    return task


def _pending_task(issue: Issue, agent: Agent, *, lock: bool = False) -> AgentTask | None:
    qs = AgentTask.objects.filter(
        workspace_id=issue.workspace_id, issue=issue, agent=agent, status__in=PENDING_STATUSES
    )
    if lock:
        qs = qs.select_for_update()
    return qs.order_by("-created_at").first()


def _coalesce(task: AgentTask, comment: Comment, trigger: Trigger) -> None:
    """Fold ``comment`` into a not-yet-started task: the previous trigger joins the coalesced
    set, the newest comment becomes the trigger, and the run is re-attributed to its author."""
    previous = [*task.coalesced_comment_ids, task.trigger_comment_id]
    task.coalesced_comment_ids = [
        c for c in dict.fromkeys(previous) if c is not None and c != comment.pk
    ]
    task.trigger_comment_id = comment.pk
    task.trigger_summary = _summary(comment)
    task.originator_user_id = trigger.originator_user_id
    task.initiator_user_id = trigger.initiator_user_id
    task.save(
        update_fields=[
            "coalesced_comment_ids",
            "trigger_comment_id",
            "trigger_summary",
            "originator_user_id",
            "initiator_user_id",
            "updated_at",
        ]
    )


def enqueue_for_comment(
    *, ctx: WorkspaceContext, issue: Issue, agent: Agent, trigger: Trigger
) -> tuple[str, str]:
    """Queue a run answering ``trigger.comment``, or fold the comment into the agent's queued
    task (``coalesced``), or leave it to the dispatched run (``deferred``)."""
    comment = trigger.comment
    assert comment is not None  # noqa: S101 - comment triggers always carry their comment
    for _ in range(ENQUEUE_ATTEMPTS):
        pending = _pending_task(issue, agent, lock=True)
        if pending is not None and pending.status == AgentTask.Status.QUEUED:
            _coalesce(pending, comment, trigger)
            return COALESCED, REASON_COALESCED
        if pending is not None:
            return DEFERRED, REASON_DEFERRED
        if task_create(ctx=ctx, issue=issue, agent=agent, trigger=trigger) is not None:
            return QUEUED, REASON_QUEUED
        # Lost the insert race to a concurrent trigger: fold into the winner next round.
    return BLOCKED, REASON_INTERNAL_ERROR


# --- assignment and status (§3.9) ---------------------------------------------------------------


def validate_agent_assignee(ctx: WorkspaceContext, agent_id: uuid.UUID) -> None:
    """``ASSIGNEE_VALIDATORS["agent"]``: a user agent of this workspace, not archived, that the
    actor may invoke — else 400, 400, and 403 ``{"error", "code", "reason_code":
    "invocation_not_allowed"}`` (Multica's ``validateAssigneePair``; same sentences and codes
    as ``agents.registry``, plus the ``reason_code`` of a blocked dispatch)."""
    agent = (
        Agent.objects.filter(workspace_id=ctx.workspace_id, kind="user", pk=agent_id)
        .defer("custom_env")
        .first()
    )
    if agent is None:
        raise ValidationError(
            "assignee_id does not refer to an agent of this workspace", code="agent_not_found"
        )
    if agent.archived_at is not None:
        raise ValidationError("cannot assign to archived agent", code="agent_archived")
    if not ctx_can_invoke(ctx, agent):
        raise DispatchBlocked(REASON_INVOCATION_NOT_ALLOWED, message=ASSIGN_NOT_ALLOWED)


def _enqueue_assignee(
    ctx: WorkspaceContext,
    issue: Issue,
    *,
    handoff_note: str | None,
    gate: bool,
    new_issue: bool = False,
) -> AgentTask | None:
    if issue.assignee_type != "agent" or issue.assignee_id is None:
        return None
    agent = _agent_in_workspace(ctx, issue.assignee_id)
    if agent is None or agent_block_reason(agent) is not None:
        return None
    if _actor_is_agent(ctx, agent):
        return None  # an agent moving its own issue must not re-trigger itself
    if gate and not ctx_can_invoke(ctx, agent):
        return None
    # An issue created in this transaction has no task yet (and the pending-task unique index
    # guards the race either way).
    if not new_issue and _pending_task(issue, agent) is not None:
        return None
    return task_create(
        ctx=ctx, issue=issue, agent=agent, trigger=Trigger.from_ctx(ctx, handoff_note=handoff_note)
    )


def on_issue_created(*, ctx: WorkspaceContext, issue: Issue, **_: Any) -> None:
    if StatusCategories(ctx)(issue.status) == "backlog":
        return
    _enqueue_assignee(ctx, issue, handoff_note=None, gate=False, new_issue=True)


def on_issue_updated(
    *,
    ctx: WorkspaceContext,
    issue: Issue,
    changes: IssueChanges,
    suppress_run: bool = False,
    handoff_note: str = "",
    **_: Any,
) -> None:
    if suppress_run or issue.assignee_type != "agent":
        return
    categories = StatusCategories(ctx)
    current = categories(issue.status)
    if changes.assignee_changed:
        if current != "backlog":
            _enqueue_assignee(ctx, issue, handoff_note=handoff_note, gate=False)
        return
    if changes.changed("status"):
        previous = categories(changes.prev["status"])
        if previous == "backlog" and current not in NO_TRIGGER_STATUSES:
            _enqueue_assignee(ctx, issue, handoff_note=handoff_note, gate=True)


def on_issue_deleted(*, ctx: WorkspaceContext, issue: Issue, **_: Any) -> None:
    tasks_cancel_for_issue(ctx=ctx, issue_id=issue.pk)


# --- comments (§3.9) ----------------------------------------------------------------------------


def _is_note(content: str) -> bool:
    first = content.lstrip(" \t\r\n").split(maxsplit=1)
    return bool(first) and first[0].lower() == "/note"


def _outcome(target_type: str, target_id: str, status: str, reason: str) -> dict[str, str]:
    return {
        "target_type": target_type,
        "target_id": target_id,
        "status": status,
        "reason_code": reason,
    }


def _has_active_run(issue: Issue, agent: Agent) -> bool:
    return AgentTask.objects.filter(
        workspace_id=issue.workspace_id, issue=issue, agent=agent, status__in=ACTIVE_RUN_STATUSES
    ).exists()


def _mention_triggers(
    trigger: CommentTrigger, mentions: list, run: Trigger
) -> list[dict[str, str]]:
    """Explicit ``@agent``/``@squad`` mentions: one outcome per named target. The invoke gate
    runs before any state of the target is read, so a refusal never reveals more than
    ``invocation_not_allowed``."""
    ctx, issue = trigger.ctx, trigger.issue
    suppressed = {str(a) for a in trigger.suppress_agent_ids}
    outcomes: list[dict[str, str]] = []
    results: dict[str, tuple[str, str]] = {}
    seen: set[tuple[str, str]] = set()
    for mention in mentions:
        if mention.type not in ("agent", "squad"):
            continue
        target_id = str(mention.id)
        if (mention.type, target_id) in seen:
            continue
        seen.add((mention.type, target_id))
        if mention.type == "squad":  # squads are not built: no squad resolves
            outcomes.append(_outcome("squad", target_id, BLOCKED, REASON_TARGET_UNAVAILABLE))
            continue
        agent = _agent_in_workspace(ctx, mention.id)
        if agent is None or not ctx_can_invoke(ctx, agent):
            outcomes.append(_outcome("agent", target_id, BLOCKED, REASON_INVOCATION_NOT_ALLOWED))
            continue
        reason = agent_block_reason(agent)
        if reason is not None:
            outcomes.append(_outcome("agent", target_id, BLOCKED, reason))
            continue
        if _actor_is_agent(ctx, agent) and _has_active_run(issue, agent):
            # The agent's own comment while it runs on this issue: its run already covers it.
            outcomes.append(_outcome("agent", target_id, BLOCKED, REASON_SELF_TRIGGER_SUPPRESSED))
            continue
        if target_id in suppressed:
            continue  # the author unticked it: no run, no outcome
        if target_id not in results:
            results[target_id] = enqueue_for_comment(ctx=ctx, issue=issue, agent=agent, trigger=run)
        status, reason = results[target_id]
        outcomes.append(_outcome("agent", target_id, status, reason))
    return outcomes


def _routable(ctx: WorkspaceContext, agent_id: Any) -> Agent | None:
    """An implicit route's target: silently skipped when it cannot run or be invoked."""
    agent = _agent_in_workspace(ctx, agent_id)
    if agent is None or agent_block_reason(agent) is not None:
        return None
    if not ctx_can_invoke(ctx, agent):
        return None
    return agent


def _thread_root(comment: Comment) -> Comment:
    current, seen = comment, {comment.pk}
    while current.parent_id is not None:
        parent = Comment.objects.filter(
            pk=current.parent_id, workspace_id=comment.workspace_id, issue_id=comment.issue_id
        ).first()
        if parent is None or parent.pk in seen:
            break
        seen.add(parent.pk)
        current = parent
    return current


def _root_owners(trigger: CommentTrigger, root: Comment) -> tuple[list[Agent], bool]:
    """A member-rooted thread's agents: the first agent the root mentions, else the agents
    earlier runs of the root triggered. ``handled`` is False when the thread has no owner."""
    ctx = trigger.ctx
    for mention in mentions_parse(root.content):
        if mention.type == "agent":
            agent = _routable(ctx, mention.id)
            return ([agent] if agent else []), True
        if mention.type == "squad":
            return [], True
    agent_ids = list(
        dict.fromkeys(
            AgentTask.objects.filter(
                workspace_id=ctx.workspace_id, issue=trigger.issue, trigger_comment_id=root.pk
            )
            .order_by("created_at")
            .values_list("agent_id", flat=True)
        )
    )
    if not agent_ids:
        return [], False
    agents = [a for a in (_routable(ctx, i) for i in agent_ids) if a is not None]
    return agents, True


def _implicit_targets(trigger: CommentTrigger) -> list[Agent]:
    ctx, issue, parent = trigger.ctx, trigger.issue, trigger.parent
    if parent is not None and parent.author_type == "agent":
        agent = _routable(ctx, parent.author_id)
        return [agent] if agent else []
    if parent is not None:
        root = _thread_root(parent)
        if root.author_type == "member":
            agents, handled = _root_owners(trigger, root)
            if handled:
                return agents
        if parent.author_type == "member":
            return []  # a member-to-member reply does not wake the assignee
    if issue.assignee_type == "agent" and issue.assignee_id is not None:
        agent = _routable(ctx, issue.assignee_id)
        return [agent] if agent else []
    return []


def on_comment(trigger: CommentTrigger) -> list[dict[str, str]]:
    """``COMMENT_TRIGGER_HOOKS``: the runs a new (or edited) comment starts; the returned list
    is the comment's ``trigger_outcomes`` (explicit mentions only)."""
    comment, ctx = trigger.comment, trigger.ctx
    if _is_note(comment.content):
        return []
    run = Trigger.from_ctx(ctx, comment=comment)
    mentions = mentions_parse(comment.content)
    if any(m.type in ("agent", "squad") for m in mentions):
        return _mention_triggers(trigger, mentions, run)
    if any(m.type in ("all", "member") for m in mentions):
        return []
    if ctx.actor.type != "member":
        return []  # agent-authored comments never route implicitly (no loops)
    suppressed = {str(a) for a in trigger.suppress_agent_ids}
    for agent in _implicit_targets(trigger):
        if str(agent.pk) in suppressed:
            continue
        enqueue_for_comment(ctx=ctx, issue=trigger.issue, agent=agent, trigger=run)
    return []


def _subtree_ids(comment: Comment) -> list[uuid.UUID]:
    ids, frontier = [comment.pk], [comment.pk]
    while frontier:
        frontier = [
            i
            for i in Comment.objects.filter(
                workspace_id=comment.workspace_id,
                issue_id=comment.issue_id,
                parent_id__in=frontier,
            ).values_list("id", flat=True)
            if i not in ids
        ]
        ids.extend(frontier)
    return ids


def on_comment_deleting(ctx: WorkspaceContext, comment: Comment) -> None:
    """``COMMENT_DELETING_HOOKS``: a deleted comment (and its replies) stops the runs it
    triggered or was folded into."""
    tasks_cancel_for_comments(ctx=ctx, comment_ids=_subtree_ids(comment))


# --- rerun (§7.3) -----------------------------------------------------------------------------


def issue_rerun(*, ctx: WorkspaceContext, issue_ref: Any, task_id: Any = None) -> AgentTask:
    """``POST /api/issues/{id}/rerun``: a fresh-session run of the agent that ran ``task_id``
    (inheriting its trigger comment), else of the agent assignee.

    The invoke gate runs on the resolved agent before anything changes (403
    ``invocation_not_allowed``). The agent's not-yet-started tasks on the issue are cancelled —
    the new run takes their slot; a running task is left alone and the new one queues behind it.
    """
    issue = issue_get(ctx=ctx, issue_ref=issue_ref)
    source: AgentTask | None = None
    if task_id not in (None, ""):
        try:
            source_id = uuid.UUID(str(task_id))
        except ValueError as exc:
            raise ValidationError("invalid task_id") from exc
        source = AgentTask.objects.filter(pk=source_id, workspace_id=ctx.workspace_id).first()
        if source is None or source.issue_id != issue.pk:
            raise ValidationError("source task does not belong to this issue")
        agent = _agent_in_workspace(ctx, source.agent_id)
    elif issue.assignee_type == "agent" and issue.assignee_id is not None:
        agent = _agent_in_workspace(ctx, issue.assignee_id)
    else:
        raise ValidationError("issue is not assigned to an agent or squad")
    if agent is None:
        raise ValidationError("agent not found")
    if not ctx_can_invoke(ctx, agent):
        raise DispatchBlocked(REASON_INVOCATION_NOT_ALLOWED)
    reason = agent_block_reason(agent)
    if reason is not None:
        raise ValidationError(BLOCKED_MESSAGES[reason], code=reason, extra={"reason_code": reason})

    comment = None
    coalesced: list[uuid.UUID] = []
    if source is not None:
        comment = (
            Comment.objects.filter(
                pk=source.trigger_comment_id, workspace_id=ctx.workspace_id
            ).first()
            if source.trigger_comment_id
            else None
        )
        coalesced = [c for c in source.coalesced_comment_ids if c != source.trigger_comment_id]
    run = Trigger.from_ctx(ctx, comment=comment)
    with transaction.atomic():
        for _ in range(ENQUEUE_ATTEMPTS):
            tasks_cancel_where(
                ctx=ctx,
                qs=AgentTask.objects.filter(issue=issue, agent=agent, status__in=PENDING_STATUSES),
            )
            task = task_create(
                ctx=ctx,
                issue=issue,
                agent=agent,
                trigger=run,
                coalesced_comment_ids=coalesced,
                rerun_of_task_id=source.pk if source is not None else None,
                force_fresh_session=True,
            )
            if task is not None:
                return task
    raise ValidationError("could not enqueue the rerun; try again")


# --- realtime scope ---------------------------------------------------------------------------


def authorize_task_scope(ctx: WorkspaceContext, task_id: str) -> bool:
    """``SCOPE_AUTHORIZERS["task"]``: the task is in the socket's workspace."""
    try:
        pk = uuid.UUID(str(task_id))
    except ValueError:
        return False
    return AgentTask.objects.filter(pk=pk, workspace_id=ctx.workspace_id).exists()


# --- wiring -----------------------------------------------------------------------------------


def register() -> None:
    """Wire dispatch into the issue and comment services and the realtime scopes. Idempotent;
    called from ``AgentsConfig.ready()``."""
    from issues.services import comments, issues  # noqa: PLC0415 - app-ready wiring
    from workspaces.consumers import SCOPE_AUTHORIZERS  # noqa: PLC0415 - app-ready wiring

    for hooks, hook in (
        (issues.ISSUE_CREATED_HOOKS, on_issue_created),
        (issues.ISSUE_UPDATED_HOOKS, on_issue_updated),
        (issues.ISSUE_DELETED_HOOKS, on_issue_deleted),
        (comments.COMMENT_TRIGGER_HOOKS, on_comment),
        (comments.COMMENT_DELETING_HOOKS, on_comment_deleting),
    ):
        if hook not in hooks:
            hooks.append(hook)  # type: ignore[arg-type] - each list has its own signature
    issues.ASSIGNEE_VALIDATORS["agent"] = validate_agent_assignee
    SCOPE_AUTHORIZERS["task"] = authorize_task_scope
