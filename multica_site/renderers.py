"""Compact JSON with a trailing newline, as Multica's server writes it."""

from __future__ import annotations

from typing import Any

from rest_framework.renderers import JSONRenderer


class CompactJSONRenderer(JSONRenderer):
    compact = True
    ensure_ascii = False

    def render(
        self,
        data: Any,
        accepted_media_type: str | None = None,
        renderer_context: dict[str, Any] | None = None,
    ) -> bytes:
        if data is None:
            return b""
        return super().render(data, accepted_media_type, renderer_context) + b"\n"
