"""Wire shapes of the runtimes domain (Multica's ``AgentRuntimeResponse``) and health buckets."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.utils import timezone

from multica_site.wire import format_time, str_or_none
from runtimes.models import AgentRuntime

# Multica's pkg/agent launchHeaders: the user-visible launch skeleton per provider.
LAUNCH_HEADERS = {
    "antigravity": "agy -p (print mode)",
    "claude": "claude (stream-json)",
    "codebuddy": "codebuddy (stream-json)",
    "codex": "codex app-server",
    "copilot": "copilot (json)",
    "cursor": "cursor-agent (stream-json)",
    "gemini": "gemini (stream-json)",
    "grok": "grok agent stdio",
    "hermes": "hermes acp",
    "kimi": "kimi acp",
    "kiro": "kiro-cli acp",
    "openclaw": "openclaw agent (json)",
    "opencode": "opencode run (json)",
    "pi": "pi (json mode)",
    "qwen": "qwen -p (stream-json)",
}

# Health buckets (derived here and nowhere else).
HEALTH_ONLINE = "online"
HEALTH_RECENTLY_LOST = "recently_lost"
HEALTH_OFFLINE = "offline"
HEALTH_ABOUT_TO_GC = "about_to_gc"
# An "online" row whose last heartbeat is older than this is not trusted (Multica's
# RuntimeClaimFreshnessSeconds; the sweeper flips it to offline).
ONLINE_FRESHNESS = timedelta(seconds=150)
RECENTLY_LOST_WINDOW = timedelta(minutes=5)
ABOUT_TO_GC_AFTER = timedelta(days=6)  # the GC deletes idle offline runtimes after 7 days


def runtime_health(runtime: AgentRuntime, *, now: datetime | None = None) -> str:
    """``online`` / ``recently_lost`` (< 5 min) / ``offline`` / ``about_to_gc`` (> 6 days)."""
    now = now or timezone.now()
    seen = runtime.last_seen_at
    if runtime.status == AgentRuntime.Status.ONLINE and seen and now - seen <= ONLINE_FRESHNESS:
        return HEALTH_ONLINE
    reference = seen or runtime.updated_at or runtime.created_at
    age = now - reference
    if age < RECENTLY_LOST_WINDOW:
        return HEALTH_RECENTLY_LOST
    if age > ABOUT_TO_GC_AFTER:
        return HEALTH_ABOUT_TO_GC
    return HEALTH_OFFLINE


def runtime_wire(runtime: AgentRuntime) -> dict[str, Any]:
    metadata = runtime.metadata if isinstance(runtime.metadata, dict) else {}
    return {
        "id": str(runtime.id),
        "workspace_id": str(runtime.workspace_id),
        "daemon_id": runtime.daemon_id,
        "name": runtime.name,
        "custom_name": runtime.custom_name,
        "runtime_mode": runtime.runtime_mode,
        "provider": runtime.provider,
        "launch_header": LAUNCH_HEADERS.get(runtime.provider, ""),
        "status": runtime.status,
        "device_info": runtime.device_info,
        "metadata": metadata,
        "owner_id": str_or_none(runtime.owner_id),
        "visibility": runtime.visibility,
        "profile_id": str_or_none(runtime.profile_id),
        "last_seen_at": format_time(runtime.last_seen_at),
        "created_at": format_time(runtime.created_at),
        "updated_at": format_time(runtime.updated_at),
    }


def runtime_list_wire(runtime: AgentRuntime, *, now: datetime | None = None) -> dict[str, Any]:
    """The runtimes API element: the wire shape plus the derived ``health`` bucket."""
    return {**runtime_wire(runtime), "health": runtime_health(runtime, now=now)}
