"""SEC-03: ``manage.py rotate_field_keys`` - add a key, rotate, drop the old key; resumable."""

from __future__ import annotations

import io

import pytest
from cryptography.fernet import Fernet, InvalidToken
from django.core.management import call_command
from django.db import connection

from agents import fields
from agents.management.commands import rotate_field_keys as command
from agents.models import Agent

pytestmark = pytest.mark.django_db

OLD, NEW = Fernet.generate_key().decode(), Fernet.generate_key().decode()


@pytest.fixture
def keys(settings):
    def use(*ks):
        settings.FIELD_ENCRYPTION_KEYS = list(ks)
        fields._fernet_for.cache_clear()

    use(OLD)
    yield use
    fields._fernet_for.cache_clear()


def raw_tokens():
    with connection.cursor() as cur:
        cur.execute("SELECT id, custom_env FROM agent WHERE custom_env IS NOT NULL ORDER BY id")
        return dict(cur.fetchall())


def make_agents(ws, n):
    return [
        Agent.objects.create(
            workspace=ws.workspace, name=f"r{i}", custom_env={"K": f"v{i}"}, custom_env_keys=["K"]
        )
        for i in range(n)
    ]


def decrypts_with(token, key):
    try:
        Fernet(key.encode()).decrypt(token.encode())
    except InvalidToken:
        return False
    return True


def run(**kw):
    out = io.StringIO()
    call_command("rotate_field_keys", stdout=out, **kw)
    return out.getvalue()


def test_round_trip_with_two_keys(ws, keys):
    agents = make_agents(ws, 5)
    assert all(decrypts_with(t, OLD) for t in raw_tokens().values())
    keys(NEW, OLD)
    output = run(batch_size=2)
    assert "5 re-encrypted" in output
    tokens = raw_tokens()
    assert all(decrypts_with(t, NEW) for t in tokens.values())
    assert not any(decrypts_with(t, OLD) for t in tokens.values())
    keys(NEW)  # drop the old key: everything still reads
    for i, agent in enumerate(agents):
        assert Agent.objects.get(pk=agent.pk).custom_env == {"K": f"v{i}"}
    assert "0 re-encrypted, 5 current" in run()  # a second run is a no-op


def test_resumable_after_a_kill(ws, keys, monkeypatch):
    make_agents(ws, 4)
    keys(NEW, OLD)
    calls = {"n": 0}
    real = command.rotate_token

    def dying(token):
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt  # killed mid-batch
        return real(token)

    monkeypatch.setattr(command, "rotate_token", dying)
    with pytest.raises(KeyboardInterrupt):
        run(batch_size=2)
    tokens = raw_tokens()
    assert sum(decrypts_with(t, NEW) for t in tokens.values()) == 2  # first batch committed
    monkeypatch.setattr(command, "rotate_token", real)
    output = run(batch_size=2)
    assert "2 re-encrypted, 2 current" in output
    assert all(decrypts_with(t, NEW) for t in raw_tokens().values())


def test_progress_is_printed_per_batch(ws, keys):
    make_agents(ws, 3)
    keys(NEW, OLD)
    output = run(batch_size=1)
    assert output.count("rows seen") == 3
    assert "3/3 rows seen" in output
