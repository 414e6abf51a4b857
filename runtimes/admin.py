"""Runtimes admin: runtimes are browsable; daemon and task tokens are read-only, and their
hashes are never shown in full."""

from __future__ import annotations

from django.contrib import admin

from runtimes.models import AgentRuntime, DaemonToken, TaskToken


def _mask(value: str | None) -> str:
    return f"{value[:8]}…" if value else "-"


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(AgentRuntime)
class AgentRuntimeAdmin(ReadOnlyAdmin):
    list_display = ("name", "provider", "workspace", "daemon_id", "status", "last_seen_at")
    list_filter = ("status", "provider", "visibility")
    search_fields = ("name", "daemon_id", "id")
    ordering = ("-created_at",)

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("workspace", "owner")


@admin.register(DaemonToken)
class DaemonTokenAdmin(ReadOnlyAdmin):
    list_display = ("token_prefix", "daemon_id", "workspace", "revoked", "expires_at")
    list_filter = ("revoked",)
    search_fields = ("daemon_id", "token_prefix", "id")
    exclude = ("token_hash",)
    readonly_fields = ("masked_hash",)

    @admin.display(description="token hash")
    def masked_hash(self, obj: DaemonToken) -> str:
        return _mask(obj.token_hash)


@admin.register(TaskToken)
class TaskTokenAdmin(ReadOnlyAdmin):
    list_display = ("id", "task", "lease_epoch", "agent", "workspace", "expires_at")
    search_fields = ("id",)
    exclude = ("token_hash",)
    readonly_fields = ("masked_hash",)
    raw_id_fields = ("task", "agent", "workspace", "user")

    @admin.display(description="token hash")
    def masked_hash(self, obj: TaskToken) -> str:
        return _mask(obj.token_hash)
