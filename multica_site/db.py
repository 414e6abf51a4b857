"""Database helpers for the few hot paths that go below the ORM.

:func:`prepared_cursor` gives a cursor on the current connection that binds parameters on the
server, so psycopg prepares a statement once the connection has run it ``prepare_threshold``
times (5): the claim's statements then skip parsing and planning, which is most of their cost.
It still goes through Django's cursor wrapper (error translation, execute wrappers, the query
log tests count with). Statements run this way name their result columns explicitly (never
``RETURNING *``): a prepared statement whose result type changes under a running server (a
column added by a migration) fails instead of re-planning.

Prepared statements need a session per connection: put a transaction-pooling PgBouncer in
front of PostgreSQL only with ``max_prepared_statements`` set.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, TypeVar

from django.db import connection
from django.db.backends.postgresql.base import ServerBindingCursor
from django.db.backends.utils import CursorWrapper
from django.db.models import Model

M = TypeVar("M", bound=Model)


def prepared_cursor() -> CursorWrapper:
    """A server-binding cursor on the default connection (see the module docstring)."""
    connection.validate_thread_sharing()
    connection.ensure_connection()
    with connection.wrap_database_errors:
        raw = ServerBindingCursor(connection.connection)
    if connection.queries_logged:
        return connection.make_debug_cursor(raw)
    return connection.make_cursor(raw)


def columns_of(model: type[Model], alias: str = "") -> tuple[list[str], str]:
    """The concrete fields' attribute names and a ``alias.col, …`` select list, in order."""
    fields = model._meta.concrete_fields
    prefix = f"{alias}." if alias else ""
    return [f.attname for f in fields], ", ".join(f'{prefix}"{f.column}"' for f in fields)


def models_from_rows(
    model: type[M], attnames: Sequence[str], rows: Iterable[Sequence[Any]]
) -> list[M]:
    """Model instances from rows of ``columns_of(model)`` — with each field's database
    converter applied, as a queryset would (JSON decoding, encrypted fields)."""
    by_attname = {f.attname: f for f in model._meta.concrete_fields}
    converters = [
        (i, by_attname[name])
        for i, name in enumerate(attnames)
        if hasattr(by_attname[name], "from_db_value")
    ]
    out = []
    for row in rows:
        values = list(row)
        for i, field in converters:
            values[i] = field.from_db_value(values[i], None, connection)
        out.append(model.from_db(connection.alias, list(attnames), values))
    return out
