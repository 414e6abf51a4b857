"""The one ASGI application: HTTP and WebSockets on one port.

HTTP goes to Django's WSGI handler in a bounded thread pool (``a2wsgi``): on this kind of machine
Django's own ASGI handler costs ~1.5 ms of CPU per request in thread hand-offs and opens a
database connection per request thread (see ``shared/perf-notes.md``). WebSockets go to the
Channels consumers. Served by uvicorn in production and ``make run``; daphne for ``runserver``.
"""

from __future__ import annotations

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "multica_site.settings.local")

import django

django.setup()

from a2wsgi import WSGIMiddleware  # noqa: E402
from channels.routing import ProtocolTypeRouter  # noqa: E402
from django.conf import settings  # noqa: E402
from django.core.wsgi import get_wsgi_application  # noqa: E402

from multica_site.routing import websocket_application  # noqa: E402

http_application = WSGIMiddleware(get_wsgi_application(), workers=settings.MULTICA_HTTP_THREADS)

application = ProtocolTypeRouter(
    {
        "http": http_application,
        "websocket": websocket_application,
    }
)
