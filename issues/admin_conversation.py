"""Django admin for comments, reactions, subscribers, inbox items and notification preferences
(staff tooling for looking, not a product surface).

Everything here is read-only. Each write of this area goes through a service that also bumps
revisions, keeps thread and subscription invariants and publishes the events clients depend on
(``comment:*``, ``subscriber:*``, ``inbox:*``); a bare admin edit would do none of that. Imported
by :mod:`issues.admin`.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from issues.models import (
    Comment,
    CommentMention,
    CommentReaction,
    InboxItem,
    IssueSubscriber,
    NotificationPreference,
)

PREVIEW_CHARS = 80


class ReadOnlyAdmin(admin.ModelAdmin):
    """View permission only: no add, change or delete."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class CommentMentionInline(ReadOnlyInline):
    model = CommentMention
    fields = ("target_type", "target_id", "label")
    readonly_fields = fields


class CommentReactionInline(ReadOnlyInline):
    model = CommentReaction
    fields = ("emoji", "actor_type", "actor_id", "created_at")
    readonly_fields = fields


@admin.register(Comment)
class CommentAdmin(ReadOnlyAdmin):
    list_display = (
        "preview",
        "issue",
        "author_type",
        "author_id",
        "type",
        "revision",
        "created_at",
    )
    list_filter = ("type", "author_type")
    search_fields = ("content", "issue__title", "workspace__slug", "=author_id", "=id")
    list_select_related = ("issue", "workspace")
    ordering = ("-created_at", "-id")
    fields = (
        "id", "workspace", "issue", "parent", "author_type", "author_id", "type", "content",
        "revision", "resolved_at", "resolved_by_type", "resolved_by_id", "source_task_id",
        "created_at", "updated_at",
    )  # fmt: skip
    readonly_fields = fields
    inlines = (CommentMentionInline, CommentReactionInline)

    @admin.display(description="content")
    def preview(self, obj: Comment) -> str:
        text = obj.content.replace("\n", " ")
        return text if len(text) <= PREVIEW_CHARS else text[:PREVIEW_CHARS] + "…"


@admin.register(CommentReaction)
class CommentReactionAdmin(ReadOnlyAdmin):
    list_display = ("emoji", "comment", "actor_type", "actor_id", "created_at")
    search_fields = ("=comment__id", "=actor_id", "emoji")
    list_select_related = ("comment",)
    ordering = ("-created_at",)
    readonly_fields = (
        "id",
        "workspace",
        "comment",
        "actor_type",
        "actor_id",
        "emoji",
        "created_at",
    )


@admin.register(IssueSubscriber)
class IssueSubscriberAdmin(ReadOnlyAdmin):
    list_display = ("issue", "user_type", "user_id", "reason", "active", "opt_out_scope")
    list_filter = ("reason", "user_type", "opt_out_scope")
    search_fields = ("issue__title", "=user_id", "workspace__slug")
    list_select_related = ("issue",)
    ordering = ("-created_at",)
    readonly_fields = (
        "workspace", "issue", "user_type", "user_id", "reason", "unsubscribed_at",
        "opt_out_scope", "created_at",
    )  # fmt: skip

    @admin.display(boolean=True, description="active")
    def active(self, obj: IssueSubscriber) -> bool:
        return obj.unsubscribed_at is None


@admin.register(InboxItem)
class InboxItemAdmin(ReadOnlyAdmin):
    list_display = ("type", "title", "recipient_id", "severity", "read", "archived", "created_at")
    list_filter = ("type", "severity", "read", "archived")
    search_fields = ("title", "=recipient_id", "=issue__id", "workspace__slug")
    ordering = ("-created_at", "-id")
    readonly_fields = (
        "id", "workspace", "recipient_type", "recipient_id", "type", "severity", "issue",
        "title", "body", "read", "archived", "actor_type", "actor_id", "details", "created_at",
    )  # fmt: skip


@admin.register(NotificationPreference)
class NotificationPreferenceAdmin(ReadOnlyAdmin):
    list_display = ("user", "workspace", "preferences", "updated_at")
    search_fields = ("user__email", "workspace__slug")
    list_select_related = ("user", "workspace")
    readonly_fields = ("workspace", "user", "preferences", "updated_at")
