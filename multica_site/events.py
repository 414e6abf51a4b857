"""The one publish function. Only services call it; delivery happens after commit.

``publish`` registers an on-commit callback that hands the event to every registered sink.
The real-time layer registers the WebSocket fan-out as a sink; tests register a capturing sink.
Events carry Multica's names (``resource:verb``) and the envelope
``{"type", "payload", "actor_id", "actor_type"}``; internal keys are stripped before fan-out.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction

logger = logging.getLogger("multica.events")

# Keys that never leave the server (Multica's internalOnlyPayloadKeys, plus secrets).
INTERNAL_ONLY_KEYS = frozenset(
    {"prev_title", "prev_description", "custom_env", "token_hash", "code_hmac"}
)


@dataclass(frozen=True)
class Event:
    type: str
    payload: dict[str, Any]
    workspace_id: str | None = None
    actor_type: str = "system"
    actor_id: str = ""
    # Route to these users' personal rooms instead of (or besides) the workspace room.
    user_ids: tuple[str, ...] = field(default_factory=tuple)

    def envelope(self) -> dict[str, Any]:
        return {
            "type": self.type,
            "payload": wire_projection(self.payload),
            "actor_id": self.actor_id,
            "actor_type": self.actor_type,
        }


Sink = Callable[[Event], None]
_sinks: list[Sink] = []


def add_sink(sink: Sink) -> None:
    if sink not in _sinks:
        _sinks.append(sink)


def remove_sink(sink: Sink) -> None:
    if sink in _sinks:
        _sinks.remove(sink)


def wire_projection(value: Any) -> Any:
    """Drop internal-only keys at every depth."""
    if isinstance(value, dict):
        return {k: wire_projection(v) for k, v in value.items() if k not in INTERNAL_ONLY_KEYS}
    if isinstance(value, list):
        return [wire_projection(v) for v in value]
    return value


def _deliver(event: Event) -> None:
    for sink in list(_sinks):
        try:
            sink(event)
        except Exception:  # a broken sink must not break the others or the caller
            logger.exception("event sink failed for %s", event.type)


def publish(
    event_type: str,
    payload: dict[str, Any],
    *,
    workspace_id: Any = None,
    actor: Any = None,
    user_ids: Iterable[Any] = (),
) -> None:
    """Publish ``event_type`` after the current transaction commits (at once outside one)."""
    event = Event(
        type=event_type,
        payload=payload,
        workspace_id=str(workspace_id) if workspace_id else None,
        actor_type=getattr(actor, "type", "system") if actor is not None else "system",
        actor_id=str(getattr(actor, "id", "")) if actor is not None else "",
        user_ids=tuple(str(u) for u in user_ids),
    )
    transaction.on_commit(lambda: _deliver(event), robust=True)
