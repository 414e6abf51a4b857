"""A member of another workspace reaches nothing of this one: every workspace route, every method.

1. Naming the victim workspace (path, ``X-Workspace-ID`` or ``X-Workspace-Slug``) → 404
   ``workspace not found``.
2. Naming their own workspace but the victim's objects in the path → 404 (or 400), never 2xx.

In both cases every table is checksummed before and after: nothing may change.
"""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest
from django.apps import apps
from django.db import connection

from tests.tenancy.routes import all_routes, is_path_scoped, is_workspace_route
from workspaces.models import Invitation, Member

PROJECT_APPS = ("workspaces", "issues", "agents", "runtimes", "skills", "usage")


def checksum() -> dict[str, str]:
    sums = {}
    with connection.cursor() as cur:
        for label in PROJECT_APPS:
            for model in apps.get_app_config(label).get_models():
                table = model._meta.db_table
                cur.execute(
                    f"SELECT md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) FROM \"{table}\" t"  # noqa: E501, S608
                )
                sums[table] = cur.fetchone()[0]
    return sums


def victim_objects(victim) -> dict[str, str]:
    """A victim-owned id for every kind of path parameter a workspace route can take.

    Each domain contributes ``tests/tenancy/victims_<domain>.py`` with ``victims(victim)``
    returning ``{param_name: id}``. A new route with a parameter no module provides fails the
    walk: add the victim object for it.
    """
    member = Member.objects.filter(workspace=victim.workspace, user=victim.member).get()
    invitation = Invitation.objects.create(
        workspace=victim.workspace,
        inviter=victim.owner,
        invitee_email="someone@example.com",
        expires_at="2999-01-01T00:00:00Z",
    )
    ids = {
        "workspace_id": str(victim.workspace.id),
        "member_id": str(member.id),
        "invitation_id": str(invitation.id),
    }
    for module_path in sorted(Path(__file__).parent.glob("victims_*.py")):
        module = importlib.import_module(f"tests.tenancy.{module_path.stem}")
        ids.update({k: str(v) for k, v in module.victims(victim).items()})
    return ids


def workspace_routes():
    return [r for r in all_routes() if is_workspace_route(r)]


def _call(client, method, path, headers):
    kwargs = {"format": "json"} if method in ("post", "put", "patch") else {}
    data = {} if method in ("post", "put", "patch") else None
    return getattr(client, method)(path, data=data, **kwargs, **headers)


@pytest.mark.django_db
def test_workspace_routes_exist():
    assert workspace_routes(), "no workspace-scoped routes found"


@pytest.mark.django_db
def test_other_workspace_member_gets_404_everywhere(ws, other_ws):
    from rest_framework.test import APIClient

    from workspaces.tokens import issue_jwt

    ids = victim_objects(ws)
    client = APIClient()
    auth = {"HTTP_AUTHORIZATION": f"Bearer {issue_jwt(other_ws.owner)}"}
    before = checksum()
    failures = []
    for route in workspace_routes():
        missing = set(route.converters) - set(ids)
        if missing:
            failures.append(f"{route.route}: no victim object for {sorted(missing)}")
            continue
        path = route.path(**ids)
        if is_path_scoped(route):
            variants = [auth]
        else:
            variants = [
                {**auth, "HTTP_X_WORKSPACE_ID": ids["workspace_id"]},
                {**auth, "HTTP_X_WORKSPACE_SLUG": ws.workspace.slug},
            ]
        for headers in variants:
            for method in route.methods:
                resp = _call(client, method, path, headers)
                if resp.status_code != 404 or resp.json().get("error") != "workspace not found":
                    failures.append(f"{method.upper()} {path}: {resp.status_code} {resp.content!r}")
    assert not failures, "\n".join(failures)
    assert checksum() == before


@pytest.mark.django_db
def test_own_workspace_with_victim_object_ids_reaches_nothing(ws, other_ws):
    from rest_framework.test import APIClient

    from workspaces.tokens import issue_jwt

    ids = victim_objects(ws)
    client = APIClient()
    headers = {
        "HTTP_AUTHORIZATION": f"Bearer {issue_jwt(other_ws.owner)}",
        "HTTP_X_WORKSPACE_ID": str(other_ws.workspace.id),
    }
    before = checksum()
    failures = []
    for route in workspace_routes():
        object_params = set(route.converters) - {"workspace_id"}
        if not object_params:
            continue  # nothing of the victim's is named
        values = {k: v for k, v in ids.items() if k in object_params}
        values["workspace_id"] = str(other_ws.workspace.id)
        path = route.path(**values)
        for method in route.methods:
            resp = _call(client, method, path, headers)
            if resp.status_code not in (400, 404):
                failures.append(f"{method.upper()} {path}: {resp.status_code} {resp.content!r}")
            elif str(ws.workspace.id) in resp.content.decode():
                failures.append(f"{method.upper()} {path}: leaks the victim workspace id")
    assert not failures, "\n".join(failures)
    assert checksum() == before
