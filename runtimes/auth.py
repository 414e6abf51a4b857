"""Who calls the daemon API, and what they may touch.

* ``mdt_`` daemon tokens are accepted **only** on ``/api/daemon/*`` (HTTP) and the daemon socket:
  the resolver registered for the prefix answers only inside :func:`daemon_scope`, which
  :class:`DaemonAuthentication` (the authentication of every daemon view) opens. Everywhere else
  the prefix is refused like an unknown token (401 ``invalid token``).
* ``mat_`` task tokens are refused on daemon routes (and ``mcn_`` cloud tokens: not self-hosted).
* ``mul_`` PATs and JWTs act as their user: membership of the workspace decides.

A daemon token is bound to one workspace and one daemon id: it registers, heartbeats and
touches runtimes of that pair only.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication
from rest_framework.request import Request

from multica_site.errors import NotFound
from multica_site.views import DaemonAPIView
from runtimes.models import AgentRuntime, DaemonToken
from workspaces import tokens
from workspaces.authentication import Credential, authenticate_token, bearer_token
from workspaces.context import Actor
from workspaces.models import Member, User, Workspace

DAEMON_CREDENTIAL = "daemon"
LAST_USED_WRITE_SECONDS = 60

_daemon_scope: ContextVar[bool] = ContextVar("multica_daemon_scope", default=False)


@contextlib.contextmanager
def daemon_scope() -> Iterator[None]:
    """Inside this block the ``mdt_`` resolver answers (daemon routes and the daemon socket)."""
    token = _daemon_scope.set(True)
    try:
        yield
    finally:
        _daemon_scope.reset(token)


def in_daemon_scope() -> bool:
    return _daemon_scope.get()


def resolve_daemon_token(raw: str) -> tuple[User, Credential] | None:
    """The ``mdt_`` resolver: ``None`` (→ 401) outside the daemon scope, or when unknown,
    revoked, expired or its creator is inactive."""
    if not in_daemon_scope():
        return None
    now = timezone.now()
    token = (
        DaemonToken.objects.select_related("created_by")
        .filter(token_hash=tokens.hash_token(raw), revoked=False)
        .first()
    )
    if token is None or (token.expires_at is not None and token.expires_at <= now):
        return None
    if not token.created_by.is_active:
        return None
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > (
        LAST_USED_WRITE_SECONDS
    ):
        DaemonToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.created_by, Credential(
        kind=DAEMON_CREDENTIAL,
        token_id=str(token.pk),
        workspace_id=token.workspace_id,
        extra={"daemon_id": token.daemon_id},
    )


def refuse_daemon_credential_outside_daemon_routes(
    workspace: Workspace, user: User, credential: Credential | None, headers: Any
) -> Actor | None:
    """An actor-resolver hook: a daemon credential never resolves a workspace context outside
    the daemon scope (belt and braces for the browser socket)."""
    if credential is not None and credential.kind == DAEMON_CREDENTIAL and not in_daemon_scope():
        raise NotFound("workspace not found", code="workspace_not_found")
    return None


class DaemonAuthentication(BaseAuthentication):
    """``Authorization: Bearer`` on ``/api/daemon/*``: ``mdt_``, ``mul_`` or a JWT; never
    ``mat_`` (task tokens work on the user API only) and never the browser cookie."""

    def authenticate(self, request: Request) -> tuple[User, Credential] | None:
        raw = bearer_token(request)
        if raw is None:
            return None
        if raw.startswith((tokens.TASK_TOKEN_PREFIX, tokens.CLOUD_TOKEN_PREFIX)):
            raise exceptions.AuthenticationFailed("invalid token")
        with daemon_scope():
            return authenticate_token(raw)

    def authenticate_header(self, request: Request) -> str:
        return "Bearer"


class DaemonView(DaemonAPIView):
    """Base of every ``/api/daemon/*`` view: :class:`DaemonAuthentication` only."""

    authentication_classes = (DaemonAuthentication,)


@dataclass(frozen=True)
class DaemonCaller:
    """The authenticated side of a daemon call."""

    user: User
    credential: Credential | None

    @classmethod
    def of(cls, user: Any, credential: Any) -> DaemonCaller:
        return cls(user=user, credential=credential if isinstance(credential, Credential) else None)

    @property
    def is_daemon_token(self) -> bool:
        return self.credential is not None and self.credential.kind == DAEMON_CREDENTIAL

    @property
    def bound_workspace_id(self) -> uuid.UUID | None:
        return self.credential.workspace_id if self.is_daemon_token else None

    @property
    def bound_daemon_id(self) -> str | None:
        return self.credential.extra.get("daemon_id") if self.is_daemon_token else None

    def may_use_workspace(self, workspace_id: Any) -> bool:
        if self.is_daemon_token:
            return str(self.bound_workspace_id) == str(workspace_id)
        return Member.objects.filter(workspace_id=workspace_id, user=self.user).exists()

    def may_use_runtime(self, runtime: AgentRuntime) -> bool:
        if self.is_daemon_token:
            return (
                runtime.workspace_id == self.bound_workspace_id
                and runtime.daemon_id == self.bound_daemon_id
            )
        return self.may_use_workspace(runtime.workspace_id)


class DaemonAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "runtimes.auth.DaemonAuthentication"
    name = "daemonBearerAuth"

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "A daemon token (mdt_…, bound to one workspace and daemon id), a "
            "personal access token (mul_…) or a session JWT. Task tokens (mat_…) are refused.",
        }
