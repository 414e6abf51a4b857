"""The prepared-statement path the hot reads use (``multica_site/db.py``)."""

from __future__ import annotations

import pytest
from django.db import connection

from agents.models import Agent
from multica_site.db import columns_of, models_from_rows, prepared_cursor

pytestmark = pytest.mark.django_db


def test_a_statement_run_five_times_is_prepared_on_the_server(ws):
    sql = "SELECT id FROM workspace WHERE slug = %s"
    for _ in range(6):
        with prepared_cursor() as cursor:
            cursor.execute(sql, ["acme"])
            assert cursor.fetchone()[0] == ws.workspace.id
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        prepared = [row[0] for row in cursor.fetchall()]
    assert any("FROM workspace WHERE slug = $1" in s for s in prepared), prepared


def test_queries_on_the_prepared_path_are_counted(ws, django_assert_num_queries):
    with django_assert_num_queries(1), prepared_cursor() as cursor:
        cursor.execute("SELECT 1")


def test_models_from_rows_applies_field_converters(ws):
    agent = Agent.objects.create(
        workspace=ws.workspace,
        name="conv",
        owner=ws.owner,
        custom_env={"TOKEN": "s3cret-value"},
        runtime_config={"gateway": {"url": "x"}},
    )
    attnames, columns = columns_of(Agent, "a")
    with prepared_cursor() as cursor:
        cursor.execute(f"SELECT {columns} FROM agent a WHERE a.id = %s", [agent.pk])  # noqa: S608
        (loaded,) = models_from_rows(Agent, attnames, cursor.fetchall())
    assert loaded.pk == agent.pk
    assert loaded.custom_env == {"TOKEN": "s3cret-value"}  # decrypted
    assert loaded.runtime_config == {"gateway": {"url": "x"}}  # JSON decoded
    assert loaded._state.adding is False
