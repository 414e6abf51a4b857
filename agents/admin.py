"""Agent admin. ``custom_env`` is never shown nor editable here: only its key names and count.

The form excludes the secret column, so neither the change page, the history (which serialises
only changed form fields) nor a POST can read or write it; env changes go through the audited
``PUT /api/agents/{id}/env``.
"""

from __future__ import annotations

from django.contrib import admin

from agents.models import Agent


@admin.register(Agent)
class AgentAdmin(admin.ModelAdmin):
    list_display = ("name", "workspace", "status", "env_key_count", "archived_at", "created_at")
    list_filter = ("status", "permission_mode", "kind")
    search_fields = ("name", "id")
    ordering = ("-created_at",)
    exclude = ("custom_env", "custom_env_keys")
    readonly_fields = (
        "id", "workspace", "owner", "runtime", "env_key_names", "env_key_count", "kind",
        "system_key", "created_at", "updated_at", "archived_at", "archived_by",
    )  # fmt: skip
    raw_id_fields = ()

    def get_queryset(self, request):
        return super().get_queryset(request).defer("custom_env").select_related("workspace")

    @admin.display(description="env variables")
    def env_key_count(self, obj: Agent) -> int:
        return len(obj.custom_env_keys or [])

    @admin.display(description="env keys (values hidden)")
    def env_key_names(self, obj: Agent) -> str:
        return ", ".join(obj.custom_env_keys or []) or "-"
