"""Usage admin: the rollup's state with its lag (seconds behind), read-only, and the raw rows."""

from __future__ import annotations

from django.contrib import admin
from django.utils import timezone

from usage.models import TaskUsage, TaskUsageRollupState


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(TaskUsageRollupState)
class RollupStateAdmin(ReadOnlyAdmin):
    list_display = (
        "watermark_at", "lag_seconds", "last_run_started_at", "last_run_finished_at",
        "last_run_rows", "last_error",
    )  # fmt: skip
    readonly_fields = (*list_display,)

    @admin.display(description="lag (seconds behind)")
    def lag_seconds(self, obj: TaskUsageRollupState) -> int:
        return max(0, round((timezone.now() - obj.watermark_at).total_seconds()))


@admin.register(TaskUsage)
class TaskUsageAdmin(ReadOnlyAdmin):
    list_display = ("task_id", "provider", "model", "input_tokens", "output_tokens", "created_at")
    list_filter = ("provider",)
    search_fields = ("task__id", "model")
    ordering = ("-created_at",)
    show_full_result_count = False
