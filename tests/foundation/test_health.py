import pytest


@pytest.mark.django_db
def test_health(api):
    body = api.get("/health").want(200).json()
    assert body == {"status": "ok"}


@pytest.mark.django_db
def test_ready(api):
    api.get("/readyz").want(200)


@pytest.mark.django_db
def test_schema_served(api):
    r = api.get("/api/schema/").want(200)
    assert b"openapi" in r.body


@pytest.mark.django_db
def test_postgres_has_vector(django_db_setup):
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("SELECT extname FROM pg_extension WHERE extname = 'vector'")
        assert cur.fetchone() == ("vector",)
        cur.execute("SHOW server_version")
        assert cur.fetchone()[0].startswith("18")
