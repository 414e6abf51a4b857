"""Django's cache shares one Redis connection pool per process: requests served from a
thread pool (each in its own context, as a2wsgi runs them) must not open a connection each."""

from __future__ import annotations

import contextvars
import threading

from django.core.cache import caches


def _pool_in_fresh_context() -> object:
    def read() -> object:
        cache = caches["default"]
        cache.get("multica:pool-probe")
        return cache._cache._get_connection_pool(write=False)

    return contextvars.Context().run(read)


def test_every_context_and_thread_gets_the_same_pool():
    pools: list[object] = []
    threads = [
        threading.Thread(target=lambda: pools.append(_pool_in_fresh_context())) for _ in range(4)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    pools += [_pool_in_fresh_context() for _ in range(4)]
    assert len({id(p) for p in pools}) == 1


def _connections(pool) -> int:
    return len(pool._available_connections) + len(pool._in_use_connections)


def test_connections_are_reused_across_requests():
    pool = _pool_in_fresh_context()
    before = _connections(pool)
    for _ in range(20):
        _pool_in_fresh_context()
    assert _connections(pool) == before
