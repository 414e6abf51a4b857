"""WebSocket routing: the browser socket and the daemon socket.

Origin is checked by the browser consumer itself (spec §9 allows an empty Origin for
non-browser clients, which Channels' ``OriginValidator`` would refuse).
"""

from __future__ import annotations

from channels.routing import URLRouter
from django.urls import path

from workspaces.consumers import BrowserConsumer, DaemonConsumer

websocket_urlpatterns = [
    path("ws", BrowserConsumer.as_asgi()),
    path("api/daemon/ws", DaemonConsumer.as_asgi()),
]

websocket_application = URLRouter(websocket_urlpatterns)
