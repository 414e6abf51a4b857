"""Celery adapters of the usage domain: call one service, nothing else."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="usage.rollup_hourly", ignore_result=True)
def rollup_hourly() -> None:
    from usage.services.rollup import rollup_tick  # noqa: PLC0415 - task → service

    rollup_tick()
