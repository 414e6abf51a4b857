"""Celery adapters for the workspaces domain."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="workspaces.prune_verification_codes", ignore_result=True)
def prune_verification_codes() -> int:
    from workspaces.services.auth import verification_codes_prune  # noqa: PLC0415

    return verification_codes_prune()
