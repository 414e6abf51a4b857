"""Roll up the whole of ``task_usage`` history into ``task_usage_hourly``, slice by slice (every
bucket of each slice's hours recomputed from its rows and replaced), then stamp the watermark so
the periodic job resumes where the backfill stopped.

Run once after the usage migrations on a database that already holds usage, before turning on
``USAGE_ROLLUP_READS``; rerunning it is harmless (each bucket is recomputed and replaced), and so
is running it while the periodic job runs (both take advisory lock 4246 per slice)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.dateparse import parse_datetime
from tqdm import tqdm

from usage.services import rollup


def _instant(raw: str | None) -> datetime | None:
    if raw is None:
        return None
    value = parse_datetime(raw)
    if value is None or value.tzinfo is None:
        raise CommandError(f"not an RFC 3339 time with an offset: {raw!r}")
    return value


class Command(BaseCommand):
    help = "Backfill the hourly token-usage rollup from task_usage and stamp its watermark."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--from", dest="start", help="start (default: the first usage row)")
        parser.add_argument("--to", dest="end", help="end, exclusive (default: now − 5 minutes)")
        parser.add_argument(
            "--slice-hours", type=int, default=168, help="hours per slice (168: a week)"
        )
        parser.add_argument("--no-progress", action="store_true", help="no progress bar")

    def handle(self, *args: Any, **options: Any) -> None:
        start, end = _instant(options["start"]), _instant(options["end"])
        if options["slice_hours"] < 1:
            raise CommandError("--slice-hours must be at least 1")
        if start is None or end is None:
            bounds = rollup.backfill_bounds()
            if bounds is None:
                self.stdout.write("task_usage is empty: nothing to backfill")
                return
            start, end = start or bounds[0], end or bounds[1]
        step = timedelta(hours=options["slice_hours"])
        total = max(1, len(list(rollup.backfill_slices(start, end, step))))
        with tqdm(total=total, unit="slice", disable=options["no_progress"]) as bar:
            written, watermark = rollup.backfill(
                start=start, end=end, step=step, progress=lambda done, _n: bar.update(1)
            )
        self.stdout.write(
            f"{written} buckets written; watermark at {watermark.isoformat() if watermark else '-'}"
        )
