"""Django admin for skills (staff tooling, not a product surface).

Skills and their files are read-only here: writes go through the API so the path rules, the
name uniqueness check and the ``skill:*`` events apply. Staff may delete a skill (its files and
agent bindings cascade; no event is published: clients see it on their next fetch). Runtime
local-skill requests are short-lived daemon handshakes, listed for debugging only.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from skills.models import LocalSkillRequest, Skill, SkillFile


class _ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class SkillFileInline(admin.TabularInline):
    model = SkillFile
    fields = ("path", "updated_at")
    readonly_fields = ("path", "updated_at")
    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Skill)
class SkillAdmin(_ReadOnly):
    list_display = ("name", "workspace", "created_by", "updated_at")
    list_select_related = ("workspace", "created_by")
    search_fields = ("name", "workspace__slug")
    list_filter = ("workspace",)
    readonly_fields = (
        "id",
        "workspace",
        "name",
        "description",
        "content",
        "config",
        "created_by",
        "created_at",
        "updated_at",
    )
    inlines = (SkillFileInline,)


@admin.register(LocalSkillRequest)
class LocalSkillRequestAdmin(_ReadOnly):
    list_display = ("id", "kind", "status", "runtime", "requested_by", "created_at")
    list_select_related = ("runtime", "requested_by")
    list_filter = ("kind", "status")
    readonly_fields = (
        "id",
        "workspace",
        "runtime",
        "kind",
        "status",
        "params",
        "result",
        "error",
        "requested_by",
        "created_at",
        "updated_at",
    )
