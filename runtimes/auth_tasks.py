"""Task tokens on the user API (server §1.1; reliability §1.3): ``mat_`` resolves to the runtime
owner's user with a ``task`` credential pinned to the task's workspace, and the actor of that
context is the agent. A token is valid only while its attempt holds the lease: its task is
active under the same ``lease_epoch`` and it has not expired (tokens are also deleted in the
transaction that ends the attempt or reclaims the task).

Wire with :func:`register` (idempotent), from ``RuntimesConfig.ready()``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from django.utils import timezone

from workspaces import tokens
from workspaces.authentication import Credential, register_token_resolver
from workspaces.context import ACTOR_RESOLVERS, Actor

if TYPE_CHECKING:
    from workspaces.models import User, Workspace

ACTIVE = ("dispatched", "waiting_local_directory", "running")


def resolve_task_token(raw: str) -> tuple[User, Credential] | None:
    from runtimes.models import TaskToken  # noqa: PLC0415 - resolvers load before apps are ready

    token = (
        TaskToken.objects.select_related("user", "task")
        .filter(token_hash=tokens.hash_token(raw), expires_at__gt=timezone.now())
        .first()
    )
    if token is None or not token.user.is_active:
        return None
    task = token.task
    if task.status not in ACTIVE or task.lease_epoch != token.lease_epoch:
        return None
    return token.user, Credential(
        kind="task",
        token_id=str(token.pk),
        workspace_id=token.workspace_id,
        extra={
            "task_id": str(token.task_id),
            "agent_id": str(token.agent_id),
            "lease_epoch": token.lease_epoch,
        },
    )


def task_actor(
    workspace: Workspace, user: User, credential: Any, headers: Mapping[str, str]
) -> Actor | None:
    """A task credential acts as its agent (client-sent actor headers are ignored)."""
    if getattr(credential, "kind", None) != "task":
        return None
    agent_id = (credential.extra or {}).get("agent_id")
    if not agent_id or credential.workspace_id != workspace.id:
        return None
    return Actor(type="agent", id=str(agent_id))


def register() -> None:
    register_token_resolver(tokens.TASK_TOKEN_PREFIX, resolve_task_token)
    if task_actor not in ACTOR_RESOLVERS:
        ACTOR_RESOLVERS.insert(0, task_actor)
