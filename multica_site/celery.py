"""The Celery application and the one beat schedule of the project.

Every periodic job is listed here, nowhere else. Each entry sets ``expires`` no longer than its
interval so that a backlog never stacks duplicate runs; the jobs themselves are idempotent and
take their own database lock, so a duplicate run is harmless anyway.
"""

from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "multica_site.settings.local")

app = Celery("multica")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

HOUR = 3600.0
SWEEP_INTERVAL = 30.0
USAGE_ROLLUP_INTERVAL = 300.0

app.conf.beat_schedule = {
    "workspaces.prune_verification_codes": {
        "task": "workspaces.prune_verification_codes",
        "schedule": HOUR,
        "options": {"expires": HOUR},
    },
    "runtimes.sweep": {
        "task": "runtimes.sweep",
        "schedule": SWEEP_INTERVAL,
        "options": {"expires": SWEEP_INTERVAL},
    },
    "usage.rollup_hourly": {
        "task": "usage.rollup_hourly",
        "schedule": USAGE_ROLLUP_INTERVAL,
        "options": {"expires": USAGE_ROLLUP_INTERVAL},
    },
}
