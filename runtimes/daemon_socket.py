"""Registrations of the runtimes domain: the ``mdt_`` resolver, the daemon socket's runtime
authorizer and its ``daemon:heartbeat`` frame handler."""

from __future__ import annotations

from typing import Any

from runtimes.auth import (
    DaemonCaller,
    daemon_scope,
    refuse_daemon_credential_outside_daemon_routes,
    resolve_daemon_token,
)
from workspaces.authentication import Credential


def authorize_runtimes(user: Any, credential: Credential, runtime_ids: list[str]) -> bool:
    from runtimes.services.registration import daemon_socket_authorized  # noqa: PLC0415

    with daemon_scope():
        return daemon_socket_authorized(DaemonCaller.of(user, credential), runtime_ids)


def authenticate_socket(raw: str) -> tuple[Any, Credential]:
    """The daemon socket admits what the daemon routes admit: daemon tokens, PATs and JWTs,
    never a task token."""
    from rest_framework.exceptions import AuthenticationFailed  # noqa: PLC0415

    from workspaces.authentication import authenticate_token  # noqa: PLC0415
    from workspaces.tokens import TASK_TOKEN_PREFIX  # noqa: PLC0415

    if raw.startswith(TASK_TOKEN_PREFIX):
        raise AuthenticationFailed("invalid token")
    with daemon_scope():
        return authenticate_token(raw)


def heartbeat_frame(consumer: Any, payload: dict[str, Any]) -> dict[str, Any]:
    from runtimes.services.registration import HEARTBEAT_ACK, daemon_heartbeat_ack  # noqa: PLC0415

    caller = DaemonCaller.of(consumer.user, consumer.credential)
    with daemon_scope():
        ack = daemon_heartbeat_ack(caller=caller, payload=payload)
    return {"type": HEARTBEAT_ACK, "payload": ack}


def register() -> None:
    from workspaces.authentication import register_token_resolver  # noqa: PLC0415
    from workspaces.consumers import (  # noqa: PLC0415
        DAEMON_AUTHENTICATORS,
        DAEMON_FRAME_HANDLERS,
        DAEMON_RUNTIME_AUTHORIZERS,
    )
    from workspaces.context import ACTOR_RESOLVERS  # noqa: PLC0415
    from workspaces.tokens import DAEMON_TOKEN_PREFIX  # noqa: PLC0415

    register_token_resolver(DAEMON_TOKEN_PREFIX, resolve_daemon_token)
    if authorize_runtimes not in DAEMON_RUNTIME_AUTHORIZERS:
        DAEMON_RUNTIME_AUTHORIZERS.append(authorize_runtimes)
    DAEMON_FRAME_HANDLERS["daemon:heartbeat"] = heartbeat_frame
    if authenticate_socket not in DAEMON_AUTHENTICATORS:
        DAEMON_AUTHENTICATORS.append(authenticate_socket)
    if refuse_daemon_credential_outside_daemon_routes not in ACTOR_RESOLVERS:
        ACTOR_RESOLVERS.insert(0, refuse_daemon_credential_outside_daemon_routes)
