"""Settings of the real server process the daemon suite talks to: local settings with the
protocol timers shortened for tests."""

from multica_site.settings.local import *  # noqa: F403

TASK_PREPARE_LEASE_SECONDS = 10
TASK_REDELIVERY_SECONDS = 20
