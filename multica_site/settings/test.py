"""Test settings: real PostgreSQL and Redis (embedded unless DATABASE_URL / REDIS_URL are given).

The embedded servers for tests live apart from the development data, and each pytest process
gets its own test database name so that parallel runs never collide.
"""

import atexit
import os
import shutil
import tempfile
from pathlib import Path

_repo = Path(__file__).resolve().parent.parent.parent
os.environ.setdefault("MULTICA_DATA_DIR", str(_repo / ".multica" / "test"))
if not os.environ.get("REDIS_URL"):
    # A private Redis per test run: nothing left over between runs, no sharing between runs.
    from multica_site import embedded

    _redis_dir = Path(tempfile.mkdtemp(prefix="multica-redis-"))
    os.environ["REDIS_URL"] = embedded.start_redis(_redis_dir)
    # Stopped when this process exits, whoever is still connected; then its files removed.
    atexit.register(shutil.rmtree, _redis_dir, ignore_errors=True)
    atexit.register(embedded.stop_redis, _redis_dir)

from multica_site.settings.base import *  # noqa: E402, F403
from multica_site.settings.base import DATABASES  # noqa: E402

DEBUG = False
APP_ENV = "test"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
DATABASES["default"]["TEST"] = {"NAME": f"test_multica_{os.getpid()}"}
DATABASES["default"]["CONN_MAX_AGE"] = 0
# The realtime publisher thread numbers events on its own connection: never left open idle.
REALTIME_PUBLISHER_IDLE_CLOSE_SECONDS = 0
STORAGES["staticfiles"] = {  # noqa: F405
    "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
}
MEDIA_ROOT = Path(tempfile.mkdtemp(prefix="multica-media-"))
atexit.register(shutil.rmtree, MEDIA_ROOT, ignore_errors=True)
CELERY_TASK_ALWAYS_EAGER = False
LOGGING["root"]["level"] = "WARNING"  # noqa: F405
STATIC_ROOT = Path(tempfile.mkdtemp(prefix="multica-static-"))
atexit.register(shutil.rmtree, STATIC_ROOT, ignore_errors=True)
