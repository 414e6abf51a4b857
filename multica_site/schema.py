"""The OpenAPI schema (``/api/schema/``) and its docs page, served with bundled assets."""

from __future__ import annotations

from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from multica_site.permissions import Public


class SchemaView(SpectacularAPIView):
    scope = "public"
    permission_classes = (Public,)
    authentication_classes = ()


class SchemaDocsView(SpectacularSwaggerView):
    scope = "public"
    permission_classes = (Public,)
    authentication_classes = ()
