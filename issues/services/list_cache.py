"""Invalidation of the cached ``GET /api/issues`` totals (see ``issues.selectors.issue_count``).

Every issue write in :mod:`issues.services.issues` and every catalog write calls
:func:`issue_counts_changed`. Other areas call it when a write of theirs changes which issues a
list filter matches (a deleted project or label, an agent changing owner for ``involves_user_id``);
a write that does not is at worst visible after ``COUNT_CACHE_TTL`` seconds.
"""

from __future__ import annotations

import contextlib
import uuid
from typing import Any

from django.core.cache import cache
from django.db import transaction
from redis.exceptions import RedisError

from issues.selectors import count_version_key


def issue_counts_changed(workspace_id: Any) -> None:
    """Give the workspace a new count version (its cached totals are dropped): now, so that reads
    later in the same transaction see the write, and again after commit, so that a total a
    concurrent request computed before the commit is not kept."""
    key = count_version_key(workspace_id)

    def bump() -> None:
        with contextlib.suppress(RedisError):
            cache.set(key, uuid.uuid4().hex, timeout=None)

    bump()
    transaction.on_commit(bump, robust=True)
