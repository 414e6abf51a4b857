"""What an issue write changed: passed from the issue service to activity, subscribers and
inbox, and projected into the ``issue:updated`` payload (spec §3.10)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class IssueChanges:
    """``prev`` holds the previous value of every field that changed (keys are field names,
    e.g. ``status``, ``assignee_type``, ``assignee_id``, ``priority``, ``title``,
    ``description``, ``start_date``, ``due_date``, ``project_id``, ``parent_issue_id``)."""

    prev: dict[str, Any] = field(default_factory=dict)

    def changed(self, name: str) -> bool:
        return name in self.prev

    @property
    def assignee_changed(self) -> bool:
        return self.changed("assignee_type") or self.changed("assignee_id")

    @property
    def any(self) -> bool:
        return bool(self.prev)
