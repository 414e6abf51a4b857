# Multica (Python) server image: the web process by default; the same image runs the Celery
# worker and beat (see docker-compose.yml). Build: `docker build -t multica-py .`
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DJANGO_SETTINGS_MODULE=multica_site.settings.production \
    MULTICA_DATA_DIR=/data

RUN groupadd --system --gid 10001 multica \
    && useradd --system --uid 10001 --gid multica --home-dir /app --no-create-home \
       --shell /usr/sbin/nologin multica

WORKDIR /app

# Dependencies first, from pyproject.toml alone, so that this layer is rebuilt only when they
# change.
COPY pyproject.toml ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" > /tmp/requirements.txt \
    && pip install -r /tmp/requirements.txt \
    && rm /tmp/requirements.txt

# The project itself, installed in place (editable) so that the settings find templates/ and
# static/ next to the packages, and manage.py works from /app.
COPY . .
RUN pip install --no-deps -e .

# Static files are collected at build time. The settings insist on real secrets and external
# servers, so the build passes throw-away values: nothing is connected to and nothing is kept.
RUN SECRET_KEY=collectstatic-only-build-time-placeholder-never-used-at-runtime-0000 \
    JWT_SECRET=collectstatic-only-build-time-placeholder \
    FIELD_ENCRYPTION_KEYS=Y29sbGVjdHN0YXRpYy1vbmx5LXBsYWNlaG9sZGVyISE= \
    ALLOWED_HOSTS=localhost \
    DATABASE_URL=postgres://build:build@127.0.0.1:1/build \
    REDIS_URL=redis://127.0.0.1:1/0 \
    MULTICA_DATA_DIR=/tmp/build-data \
    python manage.py collectstatic --noinput \
    && rm -rf /tmp/build-data \
    && mkdir -p /data \
    && chown multica:multica /data

USER multica
VOLUME ["/data"]
EXPOSE 8080

CMD ["uvicorn", "multica_site.asgi:application", "--host", "0.0.0.0", "--port", "8080", "--proxy-headers"]
