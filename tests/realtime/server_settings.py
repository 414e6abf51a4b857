"""Settings for the real server process of the realtime suite: local settings plus a test app
that stands in for the runtimes domain on the daemon socket (grants runtime ids with a fixed
prefix and acknowledges heartbeats)."""

from multica_site.settings.local import *  # noqa: F403
from multica_site.settings.local import INSTALLED_APPS

INSTALLED_APPS = [*INSTALLED_APPS, "tests.realtime.daemon_stub"]
