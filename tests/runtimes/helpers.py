"""Shared builders for the runtimes tests (registration side)."""

from __future__ import annotations

from typing import Any

from runtimes.models import AgentRuntime, DaemonToken
from workspaces import tokens

CAPS = "skill-bundles-v1,agent-skill-v1"


def register_body(workspace, daemon_id: str = "daemon-1", **extra: Any) -> dict[str, Any]:
    body = {
        "workspace_id": str(workspace.id),
        "daemon_id": daemon_id,
        "legacy_daemon_ids": [],
        "device_name": "my-mac",
        "cli_version": "0.4.2",
        "launched_by": "",
        "runtimes": [
            {"name": "Claude (my-mac)", "type": "claude", "version": "2.1.0", "status": "online"},
            {"name": "", "type": "Codex", "version": "0.120.0", "status": "online"},
        ],
    }
    body.update(extra)
    return body


def mint_daemon_token(workspace, user, daemon_id: str = "daemon-1", **extra: Any) -> str:
    raw = tokens.mint_token(tokens.DAEMON_TOKEN_PREFIX)
    DaemonToken.objects.create(
        workspace=workspace,
        daemon_id=daemon_id,
        token_hash=tokens.hash_token(raw),
        token_prefix=raw[:12],
        created_by=user,
        **extra,
    )
    return raw


def make_runtime(workspace, owner, daemon_id: str = "daemon-1", **extra: Any) -> AgentRuntime:
    fields = {
        "name": "claude (box)",
        "provider": "claude",
        "status": AgentRuntime.Status.ONLINE,
        **extra,
    }
    return AgentRuntime.objects.create(
        workspace=workspace, daemon_id=daemon_id, owner=owner, **fields
    )
