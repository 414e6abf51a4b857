"""Celery adapters of the runtimes domain: load, call one service, nothing else."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="runtimes.sweep", ignore_result=True)
def sweep_runtimes() -> None:
    from runtimes.services.sweeper import runtimes_sweep  # noqa: PLC0415 - task → service

    runtimes_sweep()
