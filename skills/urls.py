"""Routes of the skills domain."""

from __future__ import annotations

from django.urls import include, path

urlpatterns = [path("", include("skills.api.skill_urls"))]
