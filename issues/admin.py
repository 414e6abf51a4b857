"""Django admin of the issues domain (staff tooling, not a product surface).

Issues, statuses, issue reactions and the activity log are shown read-only: their writes go
through services that bump revisions, keep the counter and positions, record activity and
publish the events clients depend on, none of which a bare admin form would do. Deleting an
issue here runs the issue service's delete (hooks, ``issue:deleted``) as the system actor.

The catalog (labels, projects, attachments) and conversation (comments, subscribers, inbox)
admins live in their areas' modules, imported below so that Django's autodiscovery finds them.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import Q, QuerySet
from django.http import HttpRequest

from issues import admin_catalog, admin_conversation  # noqa: F401 - registers those admins
from issues.models import ActivityLog, Issue, IssueReaction, IssueStatus
from issues.selectors import query_number
from issues.services.issues import issue_delete
from issues.wire import issue_prefix
from workspaces.context import system_context


class ReadOnlyAdmin(admin.ModelAdmin):
    """View only: no add, no change, no delete."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(IssueStatus)
class IssueStatusAdmin(ReadOnlyAdmin):
    list_display = ("key", "name", "category", "workspace", "is_system", "position", "archived_at")
    list_filter = ("category", "is_system")
    search_fields = ("key", "name", "workspace__slug")
    list_select_related = ("workspace",)
    ordering = ("workspace", "category", "position", "key")


@admin.register(Issue)
class IssueAdmin(ReadOnlyAdmin):
    list_display = (
        "identifier", "title", "workspace", "status", "priority", "assignee_type", "revision",
        "updated_at",
    )  # fmt: skip
    list_filter = ("status", "priority")
    search_fields = ("title",)
    list_select_related = ("workspace", "project", "parent_issue")
    ordering = ("-created_at",)
    show_full_result_count = False  # COUNT(*) over every issue on each page is not worth it

    @admin.display(description="identifier", ordering="number")
    def identifier(self, obj: Issue) -> str:
        return f"{issue_prefix(obj.workspace)}-{obj.number}"

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Issue], search_term: str
    ) -> tuple[QuerySet[Issue], bool]:
        """Title words, or an issue number (``42`` or ``ABC-42``)."""
        results, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        number = query_number(search_term) if search_term else None
        if number is not None:
            results = results | queryset.filter(Q(number=number))
        return results, may_have_duplicates

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return bool(request.user and request.user.is_superuser)

    def get_deleted_objects(self, objs: Any, request: HttpRequest) -> tuple[Any, Any, Any, Any]:
        # The rows that go with an issue (activity, comments, reactions…) are read-only in their
        # own admins; deleting them here is the issue service's business, not a staff edit.
        deleted, counts, _perms_needed, protected = super().get_deleted_objects(objs, request)
        return deleted, counts, set(), protected

    def delete_model(self, request: HttpRequest, obj: Issue) -> None:
        issue_delete(ctx=system_context(obj.workspace), issue_ref=obj.pk)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Issue]) -> None:
        for issue in queryset.select_related("workspace"):
            self.delete_model(request, issue)


@admin.register(IssueReaction)
class IssueReactionAdmin(ReadOnlyAdmin):
    list_display = ("emoji", "issue", "actor_type", "actor_id", "workspace", "created_at")
    search_fields = ("emoji", "issue__title")
    list_select_related = ("issue", "workspace")
    ordering = ("-created_at",)


@admin.register(ActivityLog)
class ActivityLogAdmin(ReadOnlyAdmin):
    list_display = ("action", "issue", "actor_type", "actor_id", "workspace", "created_at")
    list_filter = ("action",)
    search_fields = ("action", "issue__title")
    list_select_related = ("issue", "workspace")
    ordering = ("-created_at",)
