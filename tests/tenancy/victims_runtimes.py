"""Victim objects for the runtimes API and daemon-token routes."""

from __future__ import annotations

from runtimes.models import AgentRuntime, DaemonToken
from workspaces import tokens


def victims(victim) -> dict:
    ws = victim.workspace
    runtime = AgentRuntime.objects.create(
        workspace=ws,
        daemon_id="victim-daemon-runtimes",
        name="codex (victim)",
        provider="codex",
        status=AgentRuntime.Status.ONLINE,
        owner=victim.owner,
    )
    raw = tokens.mint_token(tokens.DAEMON_TOKEN_PREFIX)
    token = DaemonToken.objects.create(
        workspace=ws,
        daemon_id="victim-daemon-runtimes",
        token_hash=tokens.hash_token(raw),
        token_prefix=raw[:12],
        created_by=victim.owner,
    )
    return {"runtime_id": runtime.id, "token_id": token.id}
