"""Fixtures for the issue and status tests: contexts, issues built through the services, and a
capture of published events."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from issues.models import Issue, Label, Project
from issues.services.issues import issue_create
from multica_site.events import Event, add_sink, remove_sink, wire_projection
from workspaces.context import Actor, WorkspaceContext
from workspaces.models import Member, User, Workspace

_titles = itertools.count(1)


def context_for(workspace: Workspace, user: User) -> WorkspaceContext:
    member = Member.objects.get(workspace=workspace, user=user)
    return WorkspaceContext(
        workspace=workspace, user=user, member=member, actor=Actor("member", str(user.id))
    )


@pytest.fixture
def ctx(ws) -> WorkspaceContext:
    return context_for(ws.workspace, ws.owner)


@pytest.fixture
def other_ctx(other_ws) -> WorkspaceContext:
    return context_for(other_ws.workspace, other_ws.owner)


@pytest.fixture
def make_issue() -> Callable[..., Issue]:
    def make(ctx: WorkspaceContext, title: str | None = None, **kw: Any) -> Issue:
        kw.setdefault("allow_duplicate", True)
        return issue_create(ctx=ctx, title=title or f"Issue {next(_titles)}", **kw).issue

    return make


@pytest.fixture
def make_label() -> Callable[..., Label]:
    def make(ctx: WorkspaceContext, name: str, **kw: Any) -> Label:
        kw.setdefault("color", "#3b82f6")
        return Label.objects.create(workspace=ctx.workspace, name=name, **kw)

    return make


@pytest.fixture
def make_project() -> Callable[..., Project]:
    def make(ctx: WorkspaceContext, title: str = "Project", **kw: Any) -> Project:
        return Project.objects.create(workspace=ctx.workspace, title=title, **kw)

    return make


class Captured(list):
    """Events delivered to sinks (after commit), as ``Event`` objects. Wrap the acting code in
    ``with events.commit():`` to run its on-commit callbacks (delivery) at the end of the block."""

    commit: Callable[[], Any]

    def of(self, event_type: str) -> list[Event]:
        return [e for e in self if e.type == event_type]

    def types(self) -> list[str]:
        return [e.type for e in self]

    def payloads(self, event_type: str) -> list[dict[str, Any]]:
        return [wire_projection(e.payload) for e in self.of(event_type)]


@pytest.fixture
def events(django_capture_on_commit_callbacks) -> Iterator[Captured]:
    captured = Captured()
    captured.commit = lambda: django_capture_on_commit_callbacks(execute=True)
    add_sink(captured.append)
    try:
        yield captured
    finally:
        remove_sink(captured.append)
