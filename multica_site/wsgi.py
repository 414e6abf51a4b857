"""WSGI entry point (used inside the ASGI application and by plain WSGI servers)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "multica_site.settings.local")

application = get_wsgi_application()
