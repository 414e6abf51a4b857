"""Deployment: production settings, the compose file, the image, the env docs, and the admin."""

from __future__ import annotations

import hashlib
import json
import os
import re
import secrets
import shutil
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet
from django.contrib import admin
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from workspaces.models import (
    Invitation,
    Member,
    PersonalAccessToken,
    Role,
    VerificationCode,
)

REPO = Path(__file__).resolve().parents[2]

# Variables that change what the production settings do; a developer's or CI's environment must
# not leak them into the subprocesses below.
_SETTINGS_VARS = (
    "DJANGO_SETTINGS_MODULE",
    "SECRET_KEY",
    "JWT_SECRET",
    "FIELD_ENCRYPTION_KEYS",
    "ALLOWED_HOSTS",
    "DEBUG",
    "APP_ENV",
    "SECURE_SSL_REDIRECT",
    "SECURE_HSTS_SECONDS",
    "SECURE_HSTS_PRELOAD",
    "LOG_LEVEL",
    "STATIC_ROOT",
    "MEDIA_ROOT",
)


def production_env(**overrides: str | None) -> dict[str, str]:
    """A realistic production environment against the test run's PostgreSQL and Redis."""
    env = {k: v for k, v in os.environ.items() if k not in _SETTINGS_VARS}
    env.update(
        DJANGO_SETTINGS_MODULE="multica_site.settings.production",
        SECRET_KEY=secrets.token_urlsafe(48),  # 64 characters
        JWT_SECRET=secrets.token_urlsafe(32),
        FIELD_ENCRYPTION_KEYS=Fernet.generate_key().decode(),
        ALLOWED_HOSTS="example.com",
        # The test settings have exported these (embedded servers unless given): no subprocess
        # below starts a server of its own.
        DATABASE_URL=os.environ["DATABASE_URL"],
        REDIS_URL=os.environ["REDIS_URL"],
    )
    for key, value in overrides.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return env


def run_python(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )


# --- production settings ----------------------------------------------------------------------


@pytest.mark.slow
def test_check_deploy_passes_with_production_settings():
    env = production_env()
    assert len(env["SECRET_KEY"]) == 64
    result = run_python(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], env)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.slow
@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"SECRET_KEY": None}, "SECRET_KEY must be set"),
        ({"SECRET_KEY": "too-short"}, "SECRET_KEY must be set"),
        ({"SECRET_KEY": "multica-dev-secret-key-change-me-in-production-0123456789"}, "SECRET_KEY"),
        ({"JWT_SECRET": None}, "JWT_SECRET must be set"),
        ({"JWT_SECRET": "multica-dev-secret-change-in-production"}, "JWT_SECRET must be set"),
        ({"FIELD_ENCRYPTION_KEYS": None}, "FIELD_ENCRYPTION_KEYS must list"),
        ({"ALLOWED_HOSTS": None}, "ALLOWED_HOSTS must list"),
        ({"ALLOWED_HOSTS": " , "}, "ALLOWED_HOSTS must list"),
    ],
    ids=[
        "no-secret-key",
        "short-secret-key",
        "dev-secret-key",
        "no-jwt-secret",
        "dev-jwt-secret",
        "no-field-encryption-keys",
        "no-allowed-hosts",
        "blank-allowed-hosts",
    ],
)
def test_production_settings_refuse_to_load_without_secrets(overrides, message):
    result = run_python(
        ["-c", "from django.conf import settings; settings.SECRET_KEY"],
        production_env(**overrides),
    )
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert message in result.stderr


# --- docker compose, image and env docs -------------------------------------------------------


def _compose_with_docker() -> dict[str, Any]:
    """``docker compose config`` in a scratch copy: it needs an .env, and the repo's is not ours."""
    docker = shutil.which("docker")
    if docker is None:
        pytest.skip("neither PyYAML nor docker is available to read docker-compose.yml")
    scratch = REPO / ".multica" / "compose-check"
    scratch.mkdir(parents=True, exist_ok=True)
    shutil.copy(REPO / "docker-compose.yml", scratch / "docker-compose.yml")
    (scratch / ".env").write_text(
        "SECRET_KEY=x\nJWT_SECRET=y\nALLOWED_HOSTS=example.com\nPOSTGRES_PASSWORD=z\n"
    )
    result = subprocess.run(
        [docker, "compose", "config", "--format", "json", "--no-interpolate"],
        cwd=scratch,
        capture_output=True,
        text=True,
        timeout=60,
    )
    if result.returncode != 0 and "unknown command" in result.stderr + result.stdout:
        pytest.skip("neither PyYAML nor the docker compose plugin is available")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def load_compose() -> dict[str, Any]:
    try:
        import yaml
    except ImportError:
        return _compose_with_docker()
    return yaml.safe_load((REPO / "docker-compose.yml").read_text())


def command_text(command: str | list[str]) -> str:
    return command if isinstance(command, str) else " ".join(command)


def test_compose_file_defines_the_stack():
    compose = load_compose()
    services = compose["services"]
    assert {"postgres", "redis", "web", "worker", "beat"} <= set(services)

    assert services["postgres"]["image"].startswith("pgvector/pgvector:pg")
    assert services["redis"]["image"].startswith("redis:7")
    for name in ("postgres", "redis"):
        assert services[name]["healthcheck"]["test"], name
        assert services[name]["volumes"], name

    for name in ("web", "worker", "beat"):
        service = services[name]
        assert service["build"], name
        assert service["env_file"], name
        env = service["environment"]
        assert env["DJANGO_SETTINGS_MODULE"] == "multica_site.settings.production", name
        assert "DATABASE_URL" in env, name
        assert "REDIS_URL" in env, name
        assert "SECURE_SSL_REDIRECT" in env, name
        for dependency in ("postgres", "redis"):
            assert service["depends_on"][dependency]["condition"] == "service_healthy", name

    # Workers start only once the web container (and so the migrations) is up.
    for name in ("worker", "beat"):
        assert services[name]["depends_on"]["web"]["condition"] == "service_healthy"
    assert services["web"]["healthcheck"]["test"]

    web = command_text(services["web"]["command"])
    migrate = web.index("manage.py migrate --noinput")
    server = web.index("uvicorn multica_site.asgi:application")
    assert migrate < server
    # The server starts only if the migrations succeeded.
    assert "&&" in web[migrate:server]
    assert "--host 0.0.0.0 --port 8080 --proxy-headers" in web
    assert any("8080" in str(port) for port in services["web"]["ports"])

    worker = command_text(services["worker"]["command"])
    assert "celery -A multica_site worker" in worker
    assert "--concurrency 2" in worker
    beat = command_text(services["beat"]["command"])
    assert "celery -A multica_site beat" in beat
    assert "-s /data/celerybeat-schedule" in beat


def test_dockerfile_runs_uvicorn_as_non_root():
    dockerfile = (REPO / "Dockerfile").read_text()
    assert re.search(r"^FROM python:3\.11-slim", dockerfile, re.MULTILINE)
    assert "DJANGO_SETTINGS_MODULE=multica_site.settings.production" in dockerfile
    assert "collectstatic --noinput" in dockerfile
    users = re.findall(r"^USER\s+(\S+)", dockerfile, re.MULTILINE)
    assert users
    assert users[-1] not in {"root", "0"}
    cmd = re.search(r"^CMD\s+(\[.*\])\s*$", dockerfile, re.MULTILINE)
    assert cmd is not None
    assert json.loads(cmd.group(1)) == [
        "uvicorn",
        "multica_site.asgi:application",
        "--host",
        "0.0.0.0",  # noqa: S104 - inside the container, behind the published port
        "--port",
        "8080",
        "--proxy-headers",
    ]
    ignored = (REPO / ".dockerignore").read_text().split()
    for path in (".git", ".venv", ".multica", ".env"):
        assert path in ignored


_ENV_READ = re.compile(
    r"""(?:\benv(?:_bool|_int|_list)?|os\.environ\.get|os\.environ\.setdefault|os\.getenv)"""
    r"""\(\s*["']([A-Z][A-Z0-9_]*)["']"""
)


def test_env_example_documents_every_variable_the_settings_read():
    sources = [
        *(REPO / "multica_site" / "settings").glob("*.py"),
        REPO / "multica_site/embedded.py",
    ]
    read = set()
    for source in sources:
        read |= set(_ENV_READ.findall(source.read_text()))
    assert {"SECRET_KEY", "DATABASE_URL", "MULTICA_DATA_DIR", "S3_BUCKET"} <= read

    documented = set(
        re.findall(r"^#?\s*([A-Z][A-Z0-9_]*)=", (REPO / ".env.example").read_text(), re.M)
    )
    assert sorted(read - documented) == []


# --- admin ------------------------------------------------------------------------------------


@pytest.fixture
def admin_objects(make_user, make_workspace):
    """One row of every workspaces model, made the way the application makes them."""
    from workspaces.services.auth import token_create

    user = make_user("Someone@Example.com", name="Someone")
    workspace = make_workspace(owner=user, slug="admin-ws", name="Admin WS")
    invitee = make_user("invitee@example.com")
    Member.objects.create(workspace=workspace, user=invitee, role=Role.MEMBER)
    invitation = Invitation.objects.create(
        workspace=workspace,
        inviter=user,
        invitee_email="new@example.com",
        expires_at=timezone.now() + timedelta(days=7),
    )
    pat, raw = token_create(user=user, name="ci token")
    code = VerificationCode.objects.create(
        email="someone@example.com",
        code_hmac=hashlib.sha256(b"123456").hexdigest(),
        expires_at=timezone.now() + timedelta(minutes=10),
    )
    return {
        "user": user,
        "workspace": workspace,
        "invitation": invitation,
        "pat": pat,
        "raw_token": raw,
        "code": code,
    }


def _admin_url(model: type, view: str, *args: Any) -> str:
    meta = model._meta
    return reverse(f"admin:{meta.app_label}_{meta.model_name}_{view}", args=args)


@pytest.mark.django_db
def test_admin_opens_every_registered_model(admin_client, admin_objects):
    for model, model_admin in admin.site._registry.items():
        response = admin_client.get(_admin_url(model, "changelist"))
        assert response.status_code == 200, model
        instance = model._default_manager.order_by("pk").first()
        if instance is not None:
            response = admin_client.get(_admin_url(model, "change", instance.pk))
            assert response.status_code == 200, model
        request = response.wsgi_request
        response = admin_client.get(_admin_url(model, "add"))
        expected = 200 if model_admin.has_add_permission(request) else 403
        assert response.status_code == expected, model


def test_admin_registers_the_account_and_workspace_models():
    from workspaces.models import User, Workspace

    for model in (User, VerificationCode, PersonalAccessToken, Workspace, Member, Invitation):
        assert admin.site.is_registered(model), model


@pytest.mark.django_db
def test_admin_never_shows_stored_secrets(admin_client, admin_objects):
    pat: PersonalAccessToken = admin_objects["pat"]
    code: VerificationCode = admin_objects["code"]
    pages = {
        "pat change": (_admin_url(PersonalAccessToken, "change", pat.pk), pat.token_hash),
        "pat list": (_admin_url(PersonalAccessToken, "changelist"), pat.token_hash),
        "code change": (_admin_url(VerificationCode, "change", code.pk), code.code_hmac),
        "code list": (_admin_url(VerificationCode, "changelist"), code.code_hmac),
        "user change": (_admin_url(type(pat.user), "change", pat.user_id), pat.token_hash),
    }
    for name, (url, secret) in pages.items():
        body = admin_client.get(url).content.decode()
        assert secret not in body, name
        if "user" not in name:
            assert secret[:8] + "…" in body, name
    assert (
        admin_objects["raw_token"] not in admin_client.get(pages["pat change"][0]).content.decode()
    )

    # Neither secret is a form field: posting one changes nothing.
    response = admin_client.post(
        _admin_url(PersonalAccessToken, "change", pat.pk),
        {"name": "renamed", "expires_at_0": "", "expires_at_1": "", "token_hash": "0" * 64},
    )
    assert response.status_code == 302
    pat.refresh_from_db()
    assert pat.name == "renamed"
    assert pat.token_hash != "0" * 64
    response = admin_client.post(
        _admin_url(VerificationCode, "change", code.pk),
        {"attempts": "3", "code_hmac": "0" * 64},
    )
    assert response.status_code == 302
    code.refresh_from_db()
    assert code.attempts == 3
    assert code.code_hmac != "0" * 64


@pytest.mark.django_db
def test_admin_refuses_lookups_on_secret_columns(admin_client, admin_objects):
    pat_list = _admin_url(PersonalAccessToken, "changelist")
    code_list = _admin_url(VerificationCode, "changelist")
    prefix = admin_objects["pat"].token_hash[:2]
    assert admin_client.get(pat_list, {"token_hash__startswith": prefix}).status_code == 400
    assert admin_client.get(pat_list, {"token_hash": "x"}).status_code == 400
    assert admin_client.get(code_list, {"code_hmac__startswith": "a"}).status_code == 400


@pytest.mark.django_db
def test_admin_finds_a_token_by_its_raw_value(admin_client, admin_objects, make_user):
    from workspaces.services.auth import token_create

    token_create(user=make_user(), name="other token")
    pat_list = _admin_url(PersonalAccessToken, "changelist")
    response = admin_client.get(pat_list, {"q": admin_objects["raw_token"]})
    assert response.context["cl"].result_count == 1
    assert response.context["cl"].result_list[0] == admin_objects["pat"]
    response = admin_client.get(pat_list, {"q": admin_objects["pat"].token_hash})
    assert response.context["cl"].result_count == 1
    # The searched value is echoed in the search box: only what the operator typed.
    response = admin_client.get(pat_list, {"q": "mul_" + "0" * 40})
    assert response.context["cl"].result_count == 0


@pytest.mark.django_db
def test_admin_adds_a_user_by_email(admin_client):
    from workspaces.models import User

    url = _admin_url(User, "add")
    form = {
        "email": "New.Person@Example.com",
        "name": "New Person",
        "usable_password": "true",
        "password1": "a-long-enough-Passw0rd",
        "password2": "a-long-enough-Passw0rd",
    }
    response = admin_client.post(url, form)
    assert response.status_code == 302, response.content.decode()[:2000]
    user = User.objects.get(email="new.person@example.com")
    assert user.check_password("a-long-enough-Passw0rd")

    # Same address, different case: refused.
    response = admin_client.post(url, {**form, "email": "NEW.PERSON@example.com"})
    assert response.status_code == 200
    assert User.objects.filter(email__iexact="new.person@example.com").count() == 1

    # No password: users normally sign in with an emailed code.
    response = admin_client.post(
        url, {"email": "codeonly@example.com", "name": "Code", "usable_password": "false"}
    )
    assert response.status_code == 302
    assert not User.objects.get(email="codeonly@example.com").has_usable_password()


@pytest.mark.django_db
def test_admin_rejects_reserved_workspace_slug(admin_client, admin_objects):
    from workspaces.models import Workspace
    from workspaces.reserved import reserved_slugs

    workspace = admin_objects["workspace"]
    reserved = sorted(reserved_slugs())[0]
    response = admin_client.post(
        _admin_url(Workspace, "change", workspace.pk),
        {
            "name": workspace.name,
            "slug": reserved,
            "issue_prefix": workspace.issue_prefix,
            "settings": "{}",
            "repos": "[]",
            "members-TOTAL_FORMS": "0",
            "members-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 200
    workspace.refresh_from_db()
    assert workspace.slug == "admin-ws"


@pytest.mark.django_db
@pytest.mark.parametrize("model", [PersonalAccessToken, Member, Invitation])
def test_admin_changelists_do_not_query_per_row(admin_client, make_user, make_workspace, model):
    from workspaces.services.auth import token_create

    def add_rows(n: int) -> None:
        for _ in range(n):
            user = make_user()
            workspace = make_workspace(owner=user)
            token_create(user=user, name="t")
            Invitation.objects.create(
                workspace=workspace,
                inviter=user,
                invitee_email=f"guest-{user.pk}@example.com",
                invitee_user=make_user(),
                expires_at=timezone.now() + timedelta(days=1),
            )

    url = _admin_url(model, "changelist")
    add_rows(2)
    with CaptureQueriesContext(connection) as few:
        assert admin_client.get(url).status_code == 200
    add_rows(4)
    with CaptureQueriesContext(connection) as many:
        assert admin_client.get(url).status_code == 200
    assert len(many) == len(few), [q["sql"] for q in many.captured_queries]
