"""Slugs a workspace may not take: they collide with the app's own routes."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path


@cache
def reserved_slugs() -> frozenset[str]:
    return frozenset(json.loads((Path(__file__).parent / "reserved_slugs.json").read_text()))


def is_reserved_slug(slug: str) -> bool:
    return slug.lower() in reserved_slugs()
