"""Shared fixtures: users, workspaces, and one API helper that shows what went wrong."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from rest_framework.test import APIClient

from workspaces.models import Member, Role, User, Workspace
from workspaces.tokens import issue_jwt


@dataclass
class ApiResponse:
    method: str
    path: str
    status: int
    body: bytes
    headers: Any

    def want(self, status: int) -> ApiResponse:
        if self.status != status:
            pytest.fail(
                f"{self.method} {self.path}: want {status}, got {self.status}\n"
                f"{self.body.decode(errors='replace')[:2000]}"
            )
        return self

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None


class Api:
    """``api.as_user(u).post(path, json=…, ws=workspace).want(201).json()``"""

    def __init__(self, client: APIClient | None = None) -> None:
        self.client = client or APIClient()
        self._headers: dict[str, str] = {}

    def as_user(self, user: User | None) -> Api:
        api = Api(APIClient())
        if user is not None:
            api._headers["HTTP_AUTHORIZATION"] = f"Bearer {issue_jwt(user)}"
        return api

    def with_token(self, token: str) -> Api:
        api = Api(APIClient())
        api._headers["HTTP_AUTHORIZATION"] = f"Bearer {token}"
        return api

    def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        ws: Workspace | None = None,
        headers: dict[str, str] | None = None,
        **params: Any,
    ) -> ApiResponse:
        extra = dict(self._headers)
        if ws is not None:
            extra["HTTP_X_WORKSPACE_ID"] = str(ws.id)
        for key, value in (headers or {}).items():
            extra["HTTP_" + key.upper().replace("-", "_")] = value
        call = getattr(self.client, method.lower())
        if method.upper() in ("GET", "DELETE") and json is None:
            response = call(path, data=params or None, **extra)
        else:
            response = call(path, data=json, format="json", **extra)
        return ApiResponse(method.upper(), path, response.status_code, response.content, response)

    def get(self, path: str, **kw: Any) -> ApiResponse:
        return self.request("GET", path, **kw)

    def post(self, path: str, **kw: Any) -> ApiResponse:
        return self.request("POST", path, **kw)

    def put(self, path: str, **kw: Any) -> ApiResponse:
        return self.request("PUT", path, **kw)

    def patch(self, path: str, **kw: Any) -> ApiResponse:
        return self.request("PATCH", path, **kw)

    def delete(self, path: str, **kw: Any) -> ApiResponse:
        return self.request("DELETE", path, **kw)


@pytest.fixture
def api() -> Api:
    return Api()


@pytest.fixture
def make_user(db) -> Callable[..., User]:
    counter = {"n": 0}

    def make(email: str | None = None, **extra: Any) -> User:
        counter["n"] += 1
        return User.objects.create_user(email or f"user{counter['n']}@example.com", **extra)

    return make


@pytest.fixture
def make_workspace(db, make_user) -> Callable[..., Workspace]:
    counter = {"n": 0}

    def make(owner: User | None = None, slug: str | None = None, **extra: Any) -> Workspace:
        from workspaces.services.workspaces import workspace_create

        counter["n"] += 1
        owner = owner or make_user()
        slug = slug or f"ws{counter['n']}"
        return workspace_create(
            user=owner, name=extra.pop("name", slug.title()), slug=slug, **extra
        )

    return make


@dataclass
class WorkspaceSetup:
    workspace: Workspace
    owner: User
    admin: User
    member: User


@pytest.fixture
def ws(make_user, make_workspace) -> WorkspaceSetup:
    owner = make_user("owner@example.com", name="Owner")
    workspace = make_workspace(owner=owner, slug="acme", name="Acme")
    admin = make_user("admin@example.com", name="Admin")
    member = make_user("member@example.com", name="Member")
    Member.objects.create(workspace=workspace, user=admin, role=Role.ADMIN)
    Member.objects.create(workspace=workspace, user=member, role=Role.MEMBER)
    return WorkspaceSetup(workspace=workspace, owner=owner, admin=admin, member=member)


@pytest.fixture
def other_ws(make_user, make_workspace) -> WorkspaceSetup:
    owner = make_user("intruder@example.com", name="Intruder")
    workspace = make_workspace(owner=owner, slug="globex", name="Globex")
    return WorkspaceSetup(workspace=workspace, owner=owner, admin=owner, member=owner)


@pytest.fixture
def captured_events():
    """Events delivered to sinks. Events go out on commit: in a (non-transactional) test wrap
    the write in ``django_capture_on_commit_callbacks(execute=True)``. ``.of(type)``, ``.types()``.
    """
    from multica_site import events as bus

    class Captured(list):
        def of(self, event_type: str) -> list:
            return [e for e in self if e.type == event_type]

        def types(self) -> list[str]:
            return [e.type for e in self]

    captured = Captured()
    bus.add_sink(captured.append)
    try:
        yield captured
    finally:
        bus.remove_sink(captured.append)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item):
    """After each test body, let this process's realtime publisher finish numbering and sending
    what the test committed: its thread writes on its own connection, and must not race the
    database flush that ends a transactional test (a TRUNCATE against an in-flight upsert
    deadlocks)."""
    try:
        return (yield)
    finally:
        from workspaces import realtime

        realtime.publisher.flush(10)
