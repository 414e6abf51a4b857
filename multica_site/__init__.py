"""Multica (Python): the Django project package."""

from multica_site.celery import app as celery_app

__all__ = ("celery_app",)
