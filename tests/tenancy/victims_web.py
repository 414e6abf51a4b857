"""Victim objects for the web app's pages (``/w/{workspace_slug}/…``): the slug names the
victim workspace; the object ids come from the other domains' victims."""

from __future__ import annotations


def victims(victim) -> dict:
    return {"workspace_slug": victim.workspace.slug}
