"""Development settings: the default for ``manage.py`` and ``make run``."""

from multica_site.settings.base import *  # noqa: F403
from multica_site.settings.base import env_bool

DEBUG = env_bool("DEBUG", True)
