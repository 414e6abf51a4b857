"""A real server process (uvicorn, the project's ASGI app) on the test database, and a Redis
server this suite may stop and start."""

from __future__ import annotations

import pytest

from tests.live_server import LiveServer, live_database_url, running_redis


@pytest.fixture(scope="module")
def rt_redis():
    with running_redis() as server:
        yield server


@pytest.fixture(scope="module")
def server_db_url(django_db_setup, django_db_blocker) -> str:
    """This run's test database, as a URL another process can use."""
    return live_database_url()


@pytest.fixture(scope="module")
def asgi_server(server_db_url, rt_redis):
    """The real server on this run's test database and the suite's own Redis.

    The test process publishes through the same Redis (see ``layer_on_rt_redis``).
    """
    server = LiveServer(server_db_url, rt_redis)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def second_server(server_db_url, rt_redis):
    """Another server process on the same database and Redis (scale-out)."""
    server = LiveServer(server_db_url, rt_redis)
    yield server
    server.stop()


@pytest.fixture
def layer_on_rt_redis(rt_redis, settings):
    """Point this process's channel layer at the suite's Redis (where the server listens)."""
    from channels.layers import channel_layers

    from workspaces import realtime

    realtime.publisher.flush()
    config = dict(settings.CHANNEL_LAYERS["default"]["CONFIG"])
    config["hosts"] = [{**config["hosts"][0], "address": rt_redis.url}]
    settings.REDIS_URL = rt_redis.url
    settings.CHANNEL_LAYERS = {
        "default": {"BACKEND": settings.CHANNEL_LAYERS["default"]["BACKEND"], "CONFIG": config}
    }
    channel_layers.backends.clear()
    old = realtime.publisher
    realtime.publisher = realtime.Publisher()
    yield
    realtime.publisher.close()
    realtime.publisher = old
    channel_layers.backends.clear()
