"""Settings of the real server the browser tests drive: local settings, static files served by
whitenoise straight from the source tree (no collectstatic step), and the development login
code so that a browser can sign in by e-mail code."""

from multica_site.settings.local import *  # noqa: F403

WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
MULTICA_DEV_VERIFICATION_CODE = "888888"
# Users created by the test process carry the test settings' (fast) password hashes.
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.MD5PasswordHasher",
]
