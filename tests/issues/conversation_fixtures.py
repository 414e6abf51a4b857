"""Fixtures shared by the comment, mention, timeline, subscriber and inbox tests.

Import with ``from tests.issues.conversation_fixtures import *  # noqa: F403``.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from issues.models import Issue
from multica_site.events import Event, add_sink, remove_sink
from workspaces.context import Actor, WorkspaceContext
from workspaces.models import Member, User

__all__ = ["commit", "ctx_for", "events", "make_issue", "mention", "of_type"]


@pytest.fixture
def events():
    captured: list[Event] = []
    sink = captured.append
    add_sink(sink)
    yield captured
    remove_sink(sink)


@pytest.fixture
def commit(django_capture_on_commit_callbacks):
    """``with commit(): …`` runs the on-commit callbacks (event delivery) of the block."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


def of_type(events: list[Event], event_type: str) -> list[Event]:
    return [e for e in events if e.type == event_type]


def ctx_for(workspace: Any, user: User, *, actor: Actor | None = None) -> WorkspaceContext:
    member = Member.objects.get(workspace=workspace, user=user)
    return WorkspaceContext(
        workspace=workspace,
        user=user,
        member=member,
        actor=actor or Actor(type="member", id=str(user.pk)),
    )


def mention(kind: str, target: Any, label: str = "someone") -> str:
    return f"[@{label}](mention://{kind}/{target})"


@pytest.fixture
def make_issue(ws):
    """``make_issue(title=…, by=user, **fields)``: through the issue service (subscribers and
    inbox included) when it is available, else a bare row."""

    def make(title: str = "An issue", *, by: User | None = None, **fields: Any) -> Issue:
        user = by or ws.owner
        try:
            from issues.services.issues import issue_create
        except ImportError:  # the issue core is not there yet
            number = (Issue.objects.filter(workspace=ws.workspace).count() or 0) + 1
            return Issue.objects.create(
                workspace=ws.workspace, number=number, title=title, creator_type="member",
                creator_id=user.id, status=fields.pop("status", "todo"), **fields,
            )  # fmt: skip
        fields = {k: (str(v) if isinstance(v, uuid.UUID) else v) for k, v in fields.items()}
        fields.setdefault("allow_duplicate", True)
        return issue_create(ctx=ctx_for(ws.workspace, user), title=title, **fields).issue

    return make
