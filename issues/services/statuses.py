"""The status catalog (spec §3.2). Seeded with the 7 built-in statuses for every workspace."""

from __future__ import annotations

from workspaces.models import Workspace

# key = category for the built-ins, in display order, with Multica's colours.
BUILTIN_STATUSES: tuple[tuple[str, str, str], ...] = (
    ("backlog", "Backlog", "#6b7280"),
    ("todo", "Todo", "#6b7280"),
    ("in_progress", "In Progress", "#f59e0b"),
    ("in_review", "In Review", "#22c55e"),
    ("done", "Done", "#3b82f6"),
    ("blocked", "Blocked", "#ef4444"),
    ("cancelled", "Cancelled", "#6b7280"),
)
CATEGORIES: tuple[str, ...] = tuple(key for key, _, _ in BUILTIN_STATUSES)
CLOSED_CATEGORIES = frozenset({"done", "cancelled"})


def statuses_seed(workspace: Workspace) -> None:
    """Create the built-in statuses of ``workspace`` (idempotent)."""
    from issues.models import IssueStatus  # noqa: PLC0415 - apps registry ready at call time

    existing = set(IssueStatus.objects.filter(workspace=workspace).values_list("key", flat=True))
    IssueStatus.objects.bulk_create(
        [
            IssueStatus(
                workspace=workspace, key=key, name=name, category=key, color=color,
                is_system=True, position=float(i),
            )
            for i, (key, name, color) in enumerate(BUILTIN_STATUSES)
            if key not in existing
        ]
    )  # fmt: skip


def register() -> None:
    from workspaces.services.workspaces import WORKSPACE_CREATED_HOOKS  # noqa: PLC0415

    if statuses_seed not in WORKSPACE_CREATED_HOOKS:
        WORKSPACE_CREATED_HOOKS.append(statuses_seed)
