"""The runtimes admin renders, is read-only and never shows a token hash in full."""

from __future__ import annotations

import pytest
from django.test import Client

from runtimes.models import DaemonToken
from tests.runtimes.helpers import make_runtime, mint_daemon_token

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(make_user):
    user = make_user("root@example.com", is_staff=True, is_superuser=True)
    client = Client()
    client.force_login(user)
    return client


def test_admin_pages_render_read_only_and_masked(staff, ws):
    rt = make_runtime(ws.workspace, ws.owner)
    mint_daemon_token(ws.workspace, ws.owner)
    token = DaemonToken.objects.get()
    for url in (
        "/admin/runtimes/agentruntime/",
        f"/admin/runtimes/agentruntime/{rt.id}/change/",
        "/admin/runtimes/daemontoken/",
        f"/admin/runtimes/daemontoken/{token.id}/change/",
        "/admin/runtimes/tasktoken/",
    ):
        resp = staff.get(url)
        assert resp.status_code == 200, url
        assert token.token_hash not in resp.content.decode()
    assert staff.get("/admin/runtimes/daemontoken/add/").status_code == 403
    resp = staff.post(f"/admin/runtimes/daemontoken/{token.id}/change/", {"revoked": "on"})
    assert resp.status_code == 403
    token.refresh_from_db()
    assert token.revoked is False
