"""Task claims (daemon spec §1.7, §1.8; reliability §3.1): who may take which queued task, the
lease it gets, and the payload the daemon runs it from.

A claim is one transaction. The candidate agents' rows are locked first, with ``SKIP LOCKED``
(so concurrent claimers pass each other instead of queueing). Then, per agent, a statement
whose snapshot sees every earlier lock holder's leases counts the agent's active runs against
``max_concurrent_tasks`` and takes its oldest highest-priority ``queued`` tasks on the caller's
fresh runtimes with ``FOR UPDATE SKIP LOCKED``. Every (re)claim bumps ``lease_epoch`` and mints
a ``mat_`` task token bound to (task, epoch); the previous epoch's token is deleted.

A ``dispatched`` task whose claim response was lost (never started, dispatched longer than the
redelivery window ago, prepare lease expired) is handed again to the *same* runtime under a new
epoch.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, NamedTuple

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from agents.models import Agent, AgentTask
from agents.services.tasks import agents_mark_working, task_event_publish
from agents.task_wire import task_kind, task_wire
from issues.models import Comment
from multica_site.db import columns_of, models_from_rows, prepared_cursor
from multica_site.errors import NotFound, PermissionDenied, ValidationError
from runtimes.models import AgentRuntime, TaskToken
from skills.models import Skill
from workspaces import tokens
from workspaces.models import Member, Role, User

TASK_DISPATCH = "task:dispatch"
ACTIVE_RUN_STATUSES = ("dispatched", "running", "waiting_local_directory")
LEASED_STATUSES = ("dispatched", "running", "waiting_local_directory")
MAX_CLAIM_BATCH = 32
SKILL_BUNDLES_CAP = "skill-bundles-v1"
RUNTIME_NOT_FOUND = "runtime not found"
TASK_NOT_FOUND = "task not found"


def setting(name: str, default: float) -> float:
    """Every timer is a Django setting (tests shorten them to seconds)."""
    return float(getattr(settings, name, default))


def runtime_freshness() -> timedelta:
    return timedelta(seconds=setting("RUNTIME_CLAIM_FRESHNESS_SECONDS", 150))


def prepare_lease() -> timedelta:
    return timedelta(seconds=setting("TASK_PREPARE_LEASE_SECONDS", 45))


def redelivery_window() -> timedelta:
    return timedelta(seconds=setting("TASK_REDELIVERY_SECONDS", 90))


def task_token_ttl() -> timedelta:
    return timedelta(seconds=setting("TASK_TOKEN_TTL_SECONDS", 24 * 3600))


# --- who may act on a runtime --------------------------------------------------------------


@dataclass(frozen=True)
class Caller:
    """The authenticated daemon-side caller: a user, and the credential it used."""

    user: User
    credential: Any = None

    @property
    def kind(self) -> str:
        return getattr(self.credential, "kind", "") or ""

    @property
    def bound_workspace_id(self) -> uuid.UUID | None:
        return getattr(self.credential, "workspace_id", None)

    @property
    def daemon_id(self) -> str | None:
        extra = getattr(self.credential, "extra", None) or {}
        value = extra.get("daemon_id")
        return str(value) if value else None


_RUNTIME_ATTS, _RUNTIME_COLS = columns_of(AgentRuntime, "r")
_ACCESSIBLE_RUNTIMES_SQL = f"""
SELECT {_RUNTIME_COLS} FROM agent_runtime r
WHERE r.id = ANY(%(ids)s)
  AND EXISTS (SELECT 1 FROM member m WHERE m.workspace_id = r.workspace_id AND m.user_id = %(user)s)
  AND (%(bound)s::uuid IS NULL OR r.workspace_id = %(bound)s::uuid)
  AND (%(daemon)s::text IS NULL OR r.daemon_id = %(daemon)s::text OR r.daemon_id IS NULL)
"""  # noqa: S608 - the column list comes from the model, not from input


def runtimes_accessible(caller: Caller, runtime_ids: Iterable[Any]) -> list[AgentRuntime]:
    """The runtimes of ``runtime_ids`` the caller may act for: a daemon token only in its own
    workspace (and for its own daemon id), any other credential where the user is a member.
    Unknown and foreign runtimes are silently left out (the caller learns nothing)."""
    if caller.kind == "task":
        return []
    ids: list[uuid.UUID] = []
    for raw in runtime_ids:
        try:
            ids.append(uuid.UUID(str(raw)))
        except ValueError:
            continue
    if not ids:
        return []
    bound = caller.bound_workspace_id
    params = {
        "ids": ids,
        "user": caller.user.pk,
        "bound": bound,
        "daemon": caller.daemon_id if bound is not None else None,
    }
    with prepared_cursor() as cursor:
        cursor.execute(_ACCESSIBLE_RUNTIMES_SQL, params)
        return models_from_rows(AgentRuntime, _RUNTIME_ATTS, cursor.fetchall())


def runtime_for_caller(caller: Caller, runtime_id: Any) -> AgentRuntime:
    found = runtimes_accessible(caller, [runtime_id])
    if not found:
        raise NotFound(RUNTIME_NOT_FOUND, code="runtime_not_found")
    return found[0]


def task_for_caller(caller: Caller, task_id: Any, *, runtime_id: Any = None) -> AgentTask:
    """The task, if it is leased to (or queued for) a runtime the caller may act for; else the
    same 404 ``task not found`` for missing and foreign tasks."""
    try:
        pk = uuid.UUID(str(task_id))
    except ValueError as exc:
        raise NotFound(TASK_NOT_FOUND, code="task_not_found") from exc
    task = AgentTask.objects.filter(pk=pk).only("id", "runtime_id", "workspace_id").first()
    if task is None or task.runtime_id is None:
        raise NotFound(TASK_NOT_FOUND, code="task_not_found")
    if runtime_id is not None and str(task.runtime_id) != str(runtime_id):
        raise NotFound(TASK_NOT_FOUND, code="task_not_found")
    runtime = runtimes_accessible(caller, [task.runtime_id])
    if not runtime or runtime[0].workspace_id != task.workspace_id:
        raise NotFound(TASK_NOT_FOUND, code="task_not_found")
    return AgentTask.objects.get(pk=pk)


# --- tokens ---------------------------------------------------------------------------------


def _token_user_id(task: AgentTask, runtime: AgentRuntime | None, agent: Agent) -> Any:
    if runtime is not None and runtime.owner_id is not None:
        return runtime.owner_id
    if agent.owner_id is not None:
        return agent.owner_id
    return (
        Member.objects.filter(workspace_id=task.workspace_id, role=Role.OWNER)
        .values_list("user_id", flat=True)
        .first()
    )


_MINT_TOKENS_SQL = """
INSERT INTO task_token
  (id, token_hash, task_id, lease_epoch, agent_id, workspace_id, user_id, expires_at, created_at)
SELECT * FROM unnest(%s::uuid[], %s::text[], %s::uuid[], %s::int[], %s::uuid[], %s::uuid[],
                     %s::uuid[], %s::timestamptz[], %s::timestamptz[])
"""


def task_tokens_mint(
    leases: list[tuple[AgentTask, AgentRuntime | None, Agent]],
) -> list[str]:
    """Fresh ``mat_`` tokens for newly leased tasks, in one INSERT (and one DELETE of the
    previous attempts' tokens for reclaimed tasks)."""
    if not leases:
        return []
    reclaimed = [task.pk for task, _, _ in leases if task.lease_epoch > 1]
    if reclaimed:  # a reclaim: the previous attempt's token dies here
        TaskToken.objects.filter(task_id__in=reclaimed).delete()
    now = timezone.now()
    expires_at = now + task_token_ttl()
    raws: list[str] = []
    columns: list[list[Any]] = [[] for _ in range(9)]
    for task, runtime, agent in leases:
        raw = tokens.mint_token(tokens.TASK_TOKEN_PREFIX)
        raws.append(raw)
        row = (
            uuid.uuid4(),
            tokens.hash_token(raw),
            task.pk,
            task.lease_epoch,
            task.agent_id,
            task.workspace_id,
            _token_user_id(task, runtime, agent),
            expires_at,
            now,
        )
        for column, value in zip(columns, row, strict=True):
            column.append(value)
    with prepared_cursor() as cursor:
        cursor.execute(_MINT_TOKENS_SQL, columns)
    return raws


def task_tokens_revoke(task_id: Any) -> None:
    TaskToken.objects.filter(task_id=task_id).delete()


# --- the claim ------------------------------------------------------------------------------


@dataclass
class Claimed:
    task: AgentTask
    token: str
    runtime: AgentRuntime


def _fresh(runtimes: list[AgentRuntime]) -> list[AgentRuntime]:
    cutoff = timezone.now() - runtime_freshness()
    return [
        r
        for r in runtimes
        if r.status == AgentRuntime.Status.ONLINE and r.last_seen_at and r.last_seen_at >= cutoff
    ]


_DEFERRED_DUE_SQL = """
SELECT id FROM agent_task_queue
WHERE runtime_id = ANY(%s) AND status = 'deferred' AND fire_at <= %s
LIMIT %s
"""


def _promote_deferred(runtime_ids: list[uuid.UUID]) -> None:
    """Due ``deferred`` tasks become ``queued`` (one at a time: the pending-per-(issue, agent)
    index may refuse one, which then stays deferred)."""
    now = timezone.now()
    with prepared_cursor() as cursor:
        cursor.execute(_DEFERRED_DUE_SQL, [runtime_ids, now, MAX_CLAIM_BATCH])
        due = [row[0] for row in cursor.fetchall()]
    for pk in due:
        try:
            with transaction.atomic():
                AgentTask.objects.filter(pk=pk, status=AgentTask.Status.DEFERRED).update(
                    status=AgentTask.Status.QUEUED, updated_at=now
                )
        except IntegrityError:
            continue


_TASK_ATTNAMES, _TASK_COLUMNS = columns_of(AgentTask, "q")

# Lost claim responses: dispatched, never started, dispatched longer than the redelivery window
# ago and out of its prepare lease — leased again, to the same runtime, under a new epoch.
_REDELIVER_SQL = f"""
WITH lost AS (
  SELECT t.id FROM agent_task_queue t
  WHERE t.runtime_id = ANY(%(runtimes)s) AND t.status = 'dispatched'
    AND t.started_at IS NULL AND t.dispatched_at < %(before)s
    AND (t.prepare_lease_expires_at IS NULL OR t.prepare_lease_expires_at < %(now)s)
  ORDER BY t.dispatched_at
  LIMIT %(limit)s
  FOR UPDATE SKIP LOCKED
)
UPDATE agent_task_queue q
SET dispatched_at = %(now)s, prepare_lease_expires_at = %(expires)s,
    lease_epoch = q.lease_epoch + 1, updated_at = %(now)s
FROM lost WHERE q.id = lost.id
RETURNING {_TASK_COLUMNS}
"""  # noqa: S608 - the column list comes from the model, not from input


def _leased(sql: str, params: dict[str, Any]) -> list[AgentTask]:
    """Run a lease statement; its rows as tasks, oldest highest-priority first."""
    with prepared_cursor() as cursor:
        cursor.execute(sql, params)
        tasks = models_from_rows(AgentTask, _TASK_ATTNAMES, cursor.fetchall())
    tasks.sort(key=lambda t: (-t.priority, t.created_at, t.pk))
    return tasks


def _redeliver(runtime_ids: list[uuid.UUID], limit: int, now: Any) -> list[AgentTask]:
    """Lost claim responses: the same runtime gets the task again under a new epoch."""
    params = {
        "runtimes": runtime_ids,
        "before": now - redelivery_window(),
        "now": now,
        "expires": now + prepare_lease(),
        "limit": limit,
    }
    return _leased(_REDELIVER_SQL, params)


# The candidate agents: those with queued tasks on the caller's runtimes, best first, each
# locked here (SKIP LOCKED: an agent another claimer holds is passed over, not waited for).
_CANDIDATES_SQL = """
SELECT a.id, a.max_concurrent_tasks
FROM agent a
JOIN (
  SELECT t.agent_id, max(t.priority) AS top, min(t.created_at) AS oldest
  FROM agent_task_queue t
  WHERE t.status = 'queued' AND t.runtime_id = ANY(%s)
  GROUP BY t.agent_id
  ORDER BY max(t.priority) DESC, min(t.created_at)
  LIMIT %s
) c ON c.agent_id = a.id
WHERE a.archived_at IS NULL
ORDER BY c.top DESC, c.oldest
FOR UPDATE OF a SKIP LOCKED
"""

# Per locked candidate agent, one statement. It runs after the lock was taken, so its
# READ COMMITTED snapshot sees every earlier lock holder's leases: it counts the agent's active
# runs, locks its oldest highest-priority queued tasks on the caller's runtimes that do not
# collide with an active run of the same (agent, issue), keeps at most one quick-create task
# (no issue), and leases them under a new epoch — returning the leased rows. (Counting in the
# statement that takes the lock would use a snapshot older than the lock and let two claimers
# exceed ``max_concurrent_tasks``.)
_CLAIM_AGENT_SQL = f"""
WITH room AS (
  SELECT LEAST(%(limit)s, %(max_concurrent)s - (
      SELECT count(*) FROM agent_task_queue s
      WHERE s.agent_id = %(agent)s
        AND s.status IN ('dispatched', 'running', 'waiting_local_directory'))) AS n
), pick AS (
  SELECT t.id, t.issue_id, t.priority, t.created_at FROM agent_task_queue t
  WHERE t.status = 'queued' AND t.agent_id = %(agent)s AND t.runtime_id = ANY(%(runtimes)s)
    AND NOT EXISTS (
      SELECT 1 FROM agent_task_queue s
      WHERE s.agent_id = t.agent_id
        AND s.status IN ('dispatched', 'running', 'waiting_local_directory')
        AND s.issue_id IS NOT DISTINCT FROM t.issue_id)
  ORDER BY t.priority DESC, t.created_at, t.id
  LIMIT GREATEST(COALESCE((SELECT n FROM room), 0), 0)
  FOR UPDATE SKIP LOCKED
), keep AS (
  SELECT id FROM (
    SELECT id, issue_id, row_number() OVER (
      PARTITION BY issue_id IS NULL ORDER BY priority DESC, created_at, id) AS rn
    FROM pick) ranked
  WHERE issue_id IS NOT NULL OR rn = 1
)
UPDATE agent_task_queue q
SET status = 'dispatched', dispatched_at = %(now)s, prepare_lease_expires_at = %(expires)s,
    lease_epoch = q.lease_epoch + 1, updated_at = %(now)s
FROM keep WHERE q.id = keep.id
RETURNING {_TASK_COLUMNS}
"""  # noqa: S608 - the column list comes from the model, not from input


_AGENT_ATTS, _AGENT_COLS = columns_of(Agent, "a")
_AGENTS_SQL = f"SELECT {_AGENT_COLS} FROM agent a WHERE a.id = ANY(%s)"  # noqa: S608


def _agents(ids: set[Any]) -> dict[Any, Agent]:
    """The leased tasks' agents (their ``custom_env`` decrypted), by id."""
    if not ids:
        return {}
    with prepared_cursor() as cursor:
        cursor.execute(_AGENTS_SQL, [list(ids)])
        return {a.pk: a for a in models_from_rows(Agent, _AGENT_ATTS, cursor.fetchall())}


def _claim_for_agent(
    agent_id: uuid.UUID,
    max_concurrent: int,
    runtime_ids: list[uuid.UUID],
    limit: int,
    now: Any,
) -> list[AgentTask]:
    """Lease up to ``limit`` of a locked agent's queued tasks (see ``_CLAIM_AGENT_SQL``)."""
    params = {
        "agent": agent_id,
        "max_concurrent": max_concurrent,
        "limit": limit,
        "runtimes": runtime_ids,
        "now": now,
        "expires": now + prepare_lease(),
    }
    return _leased(_CLAIM_AGENT_SQL, params)


def task_claim(
    *, caller: Caller, runtime_ids: Iterable[Any], max_tasks: int, daemon_id: str | None = None
) -> list[Claimed]:
    """``POST /api/daemon/tasks/claim``: up to ``max_tasks`` (≤32) leases on the caller's fresh
    runtimes. Inaccessible runtimes, and runtimes of another daemon, are skipped silently."""
    if caller.kind == "daemon" and daemon_id and caller.daemon_id and daemon_id != caller.daemon_id:
        raise PermissionDenied("daemon_id does not match the daemon token", code="forbidden")
    limit = max(0, min(int(max_tasks), MAX_CLAIM_BATCH))
    if limit == 0:
        return []
    runtimes = runtimes_accessible(caller, runtime_ids)
    if daemon_id:
        runtimes = [r for r in runtimes if not r.daemon_id or r.daemon_id == daemon_id]
    fresh = {r.pk: r for r in _fresh(runtimes)}
    if not fresh:
        return []
    ids = list(fresh)
    _promote_deferred(ids)
    with transaction.atomic():
        now = timezone.now()
        leased = _redeliver(ids, limit, now)
        if len(leased) < limit:
            with prepared_cursor() as cursor:
                cursor.execute(_CANDIDATES_SQL, [ids, max(limit * 4, 16)])
                candidates = cursor.fetchall()
            for agent_id, max_concurrent in candidates:  # one capacity count per agent
                remaining = limit - len(leased)
                if remaining <= 0:
                    break
                leased.extend(_claim_for_agent(agent_id, max_concurrent, ids, remaining, now))
        agents = _agents({t.agent_id for t in leased})
        for task in leased:
            task.agent = agents[task.agent_id]
        raws = task_tokens_mint([(t, fresh[t.runtime_id], t.agent) for t in leased])
        claimed = [
            Claimed(t, raw, fresh[t.runtime_id]) for t, raw in zip(leased, raws, strict=True)
        ]
        for item in claimed:
            task_event_publish(
                TASK_DISPATCH,
                item.task,
                runtime_id=str(item.task.runtime_id),
                **(item.task.context if isinstance(item.task.context, dict) else {}),
            )
        agents_mark_working(c.task.agent_id for c in claimed)
    return claimed


def task_claim_legacy(*, caller: Caller, runtime_id: Any) -> Claimed | None:
    """``POST /api/daemon/runtimes/{rid}/tasks/claim``: one task of one runtime."""
    runtime_for_caller(caller, runtime_id)
    claimed = task_claim(caller=caller, runtime_ids=[runtime_id], max_tasks=1)
    return claimed[0] if claimed else None


# --- the payload ----------------------------------------------------------------------------


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _skill_data(skill: Skill, *, inline: bool) -> dict[str, Any]:
    files = sorted(skill.files.all(), key=lambda f: f.path)
    digest = hashlib.sha256(skill.content.encode())
    size = len(skill.content.encode())
    file_rows = []
    for f in files:
        body = f.content.encode()
        digest.update(f.path.encode() + b"\0" + body)
        size += len(body)
        row: dict[str, Any] = {"path": f.path, "sha256": _sha(f.content), "size_bytes": len(body)}
        if inline:
            row = {"path": f.path, "content": f.content, **row}
        file_rows.append(row)
    out: dict[str, Any] = {
        "id": str(skill.pk),
        "source": "workspace",
        "name": skill.name,
        "description": skill.description,
        "hash": digest.hexdigest(),
        "size_bytes": size,
    }
    if inline:
        out["content"] = skill.content
    else:
        out["file_count"] = len(file_rows)
    out["files"] = file_rows
    return out


_AGENT_SKILLS_SQL = """
SELECT ask.agent_id, s.id FROM agent_skill ask
JOIN agent a ON a.id = ask.agent_id
JOIN skill s ON s.id = ask.skill_id AND s.workspace_id = a.workspace_id
WHERE ask.agent_id = ANY(%s) AND ask.enabled
"""


def skills_of_agents(agent_ids: Iterable[Any]) -> dict[Any, list[Skill]]:
    """The enabled skills (with their files, by name) of each agent: one query when none of
    the agents has a skill, three when some do."""
    ids = list(dict.fromkeys(agent_ids))
    out: dict[Any, list[Skill]] = {agent_id: [] for agent_id in ids}
    if not ids:
        return out
    with prepared_cursor() as cursor:
        cursor.execute(_AGENT_SKILLS_SQL, [ids])
        links = cursor.fetchall()
    if links:
        skills = Skill.objects.filter(pk__in={skill_id for _, skill_id in links})
        by_id = {s.pk: s for s in skills.prefetch_related("files").order_by("name")}
        for agent_id, skill_id in links:
            out[agent_id].append(by_id[skill_id])
        for skills_list in out.values():
            skills_list.sort(key=lambda skill: skill.name)
    return out


def agent_skills(agent: Agent) -> list[Skill]:
    return skills_of_agents([agent.pk])[agent.pk]


def skill_bundles(task: AgentTask, refs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``skill-bundles/resolve``: full SkillData for refs of skills the task's agent uses."""
    wanted = set()
    for ref in refs:
        if isinstance(ref, dict) and ref.get("id"):
            wanted.add(str(ref["id"]))
    out = []
    for skill in agent_skills(task.agent):
        if str(skill.pk) in wanted:
            out.append(_skill_data(skill, inline=True))
    return out


def _author_name(author_type: str, author_id: Any) -> str:
    if author_id is None:
        return ""
    if author_type == "agent":
        return Agent.objects.filter(pk=author_id).values_list("name", flat=True).first() or ""
    user = User.objects.filter(pk=author_id).first()
    return (getattr(user, "name", "") or getattr(user, "email", "")) if user else ""


def _comment_row(comment: Comment) -> dict[str, Any]:
    return {
        "id": str(comment.pk),
        "thread_id": str(comment.parent_id or comment.pk),
        "author_type": comment.author_type,
        "author_name": _author_name(comment.author_type, comment.author_id),
        "content": comment.content,
        "created_at": comment.created_at.isoformat().replace("+00:00", "Z"),
    }


class PriorSession(NamedTuple):
    pk: uuid.UUID
    runtime_id: uuid.UUID | None
    session_id: str
    work_dir: str | None


_PRIOR_SESSIONS_SQL = """
SELECT DISTINCT ON (agent_id, issue_id) agent_id, issue_id, id, runtime_id, session_id, work_dir
FROM agent_task_queue
WHERE agent_id = ANY(%s) AND issue_id = ANY(%s) AND session_id > '' AND NOT (id = ANY(%s))
ORDER BY agent_id, issue_id, created_at DESC
"""


def _prior_sessions(tasks: list[AgentTask]) -> dict[tuple[Any, Any], PriorSession]:
    """The newest task with a session per (agent, issue) of ``tasks``, in one query."""
    pairs = {(t.agent_id, t.issue_id) for t in tasks if t.issue_id is not None}
    if not pairs:
        return {}
    params = [
        list({a for a, _ in pairs}),
        list({i for _, i in pairs}),
        [t.pk for t in tasks],
    ]
    with prepared_cursor() as cursor:
        cursor.execute(_PRIOR_SESSIONS_SQL, params)
        rows = cursor.fetchall()
    return {(agent, issue): PriorSession(*rest) for agent, issue, *rest in rows}


def _prior_session(task: AgentTask, cache: dict[Any, Any]) -> dict[str, Any]:
    if task.force_fresh_session or task.issue_id is None:
        return {}
    if "prior" not in cache:
        cache["prior"] = _prior_sessions([task])
    prior = cache["prior"].get((task.agent_id, task.issue_id))
    if prior is None or prior.pk == task.pk or prior.runtime_id != task.runtime_id:
        return {}
    return {"prior_session_id": prior.session_id, "prior_work_dir": prior.work_dir or ""}


_WORKSPACE_BRIEF_SQL = """
SELECT w.context, s.key, s.name, s.category, s.description
FROM workspace w
LEFT JOIN issue_status s ON s.workspace_id = w.id AND s.archived_at IS NULL
WHERE w.id = %s
ORDER BY s.category, s.position, s.key
"""


def _workspace_brief(workspace_id: Any) -> tuple[str, list[dict[str, Any]]]:
    """The workspace's context text and its active status catalog, in one query."""
    with prepared_cursor() as cursor:
        cursor.execute(_WORKSPACE_BRIEF_SQL, [workspace_id])
        rows = cursor.fetchall()
    context = (rows[0][0] if rows else "") or ""
    statuses = [
        {"key": key, "name": name, "category": category, "description": description}
        for _, key, name, category, description in rows
        if key is not None
    ]
    return context, statuses


def claim_payload(item: Claimed, cache: dict[Any, Any] | None = None) -> dict[str, Any]:
    """The Task object of daemon spec §1.8 (the lease holder's view: ``custom_env`` in clear).
    ``cache`` shares per-workspace and per-agent reads across one claim's payloads."""
    cache = {} if cache is None else cache
    task, runtime = item.task, item.runtime
    agent = task.agent
    out = task_wire(task)
    out.update(
        {
            "runtime_id": str(task.runtime_id),
            "kind": task_kind(task),
            "auth_token": item.token,
            "lease_epoch": task.lease_epoch,
            "thread_name": "",
        }
    )
    ws_key = ("ws", task.workspace_id)
    if ws_key not in cache:
        cache[ws_key] = _workspace_brief(task.workspace_id)
    out["workspace_context"], statuses = cache[ws_key]
    out["issue_statuses"] = [dict(s) for s in statuses]
    out["issue_statuses_omitted"] = 0
    out["active_sibling_runs"] = []
    skills_key = ("skills", agent.pk)
    if skills_key not in cache:
        cache.update({("skills", a): v for a, v in skills_of_agents([agent.pk]).items()})
    skills = cache[skills_key]
    capabilities = runtime.client_capabilities or []
    env = agent.custom_env if isinstance(agent.custom_env, dict) else {}
    agent_block: dict[str, Any] = {
        "id": str(agent.pk),
        "name": agent.name,
        "instructions": agent.instructions,
    }
    if SKILL_BUNDLES_CAP in capabilities:
        agent_block["skill_refs"] = [_skill_data(s, inline=False) for s in skills]
    else:
        agent_block["skills"] = [_skill_data(s, inline=True) for s in skills]
    agent_block.update(
        {
            "custom_env": {str(k): str(v) for k, v in env.items()},
            "custom_args": list(agent.custom_args or []),
            "mcp_config": agent.mcp_config,
            "model": agent.model or "",
            "thinking_level": agent.thinking_level or "",
            "service_tier": agent.service_tier or "",
            "disabled_runtime_skills": list(agent.disabled_runtime_skills or []),
            "runtime_config": agent.runtime_config or {},
        }
    )
    out["agent"] = agent_block
    out["repos"] = []
    out.update(_prior_session(task, cache))
    if task.trigger_comment_id is not None:
        trigger = Comment.objects.filter(
            pk=task.trigger_comment_id, workspace_id=task.workspace_id
        ).first()
        if trigger is not None:
            row = _comment_row(trigger)
            out.update(
                {
                    "trigger_thread_id": row["thread_id"],
                    "trigger_comment_content": trigger.content,
                    "trigger_author_type": trigger.author_type,
                    "trigger_author_name": row["author_name"],
                }
            )
    if task.coalesced_comment_ids:
        comments = Comment.objects.filter(
            pk__in=task.coalesced_comment_ids, workspace_id=task.workspace_id
        ).order_by("created_at")
        out["coalesced_comments"] = [_comment_row(c) for c in comments]
    if task.handoff_note:
        out["handoff_note"] = task.handoff_note
    return out


def claim_payloads(items: list[Claimed]) -> list[dict[str, Any]]:
    """Payloads of one claim: prior sessions and skills read once for all its tasks."""
    cache: dict[Any, Any] = {"prior": _prior_sessions([i.task for i in items])}
    skills = skills_of_agents(i.task.agent_id for i in items)
    cache.update({("skills", agent_id): found for agent_id, found in skills.items()})
    return [claim_payload(i, cache) for i in items]


def prepare_lease_extend(*, caller: Caller, task_id: Any, runtime_id: Any = None) -> AgentTask:
    """``…/prepare-lease``: the preparing daemon keeps its dispatched task for another lease."""
    task = task_for_caller(caller, task_id, runtime_id=runtime_id)
    now = timezone.now()
    with transaction.atomic():
        updated = AgentTask.objects.filter(
            pk=task.pk, status__in=("dispatched", "waiting_local_directory")
        ).update(prepare_lease_expires_at=now + prepare_lease(), updated_at=now)
    if not updated:
        raise ValidationError("task is not being prepared", code="task_not_preparing")
    return AgentTask.objects.get(pk=task.pk)
