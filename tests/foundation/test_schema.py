"""The OpenAPI schema covers every route without warnings or errors."""

from __future__ import annotations

import pytest
import yaml
from django.core.management import call_command


@pytest.mark.django_db
def test_schema_generates_cleanly(tmp_path):
    out = tmp_path / "schema.yaml"
    call_command("spectacular", "--fail-on-warn", "--validate", "--file", str(out))
    schema = yaml.safe_load(out.read_text())
    paths = schema["paths"]
    for path in ("/api/issues", "/api/workspaces", "/api/me", "/api/agents", "/api/skills"):
        assert path in paths, path
    schemes = schema["components"]["securitySchemes"]
    assert {"bearerAuth", "multicaCookieAuth"} <= set(schemes)
