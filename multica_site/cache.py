"""One Redis connection pool per process for Django's cache.

Django's ``RedisCache`` keeps its pool on the cache object, and cache objects live in
context-local storage: served through the WSGI thread pool, each request sees a fresh cache
object, hence a fresh pool and a new Redis connection (and redis-py's per-connection setup) per
request. :class:`SharedConnectionPool` hands every cache object of the process the same pool
for the same URL and options; redis-py pools are thread-safe and reset themselves after a fork.
"""

from __future__ import annotations

import threading
from typing import Any

import redis

_pools: dict[tuple[str, str], redis.ConnectionPool] = {}
_lock = threading.Lock()


class SharedConnectionPool(redis.ConnectionPool):
    @classmethod
    def from_url(cls, url: str, **kwargs: Any) -> redis.ConnectionPool:  # type: ignore[override]
        key = (url, repr(sorted(kwargs.items(), key=lambda item: item[0])))
        with _lock:
            pool = _pools.get(key)
            if pool is None:
                pool = _pools[key] = redis.ConnectionPool.from_url(url, **kwargs)
            return pool
