"""Django admin for users, credentials, workspaces, members and invitations.

Secrets never leave the database through the admin: the stored PAT hash and the login-code HMAC
are shown only masked, are never form fields, cannot be used as URL lookups (which would make the
changelist an oracle for them), and neither kind of credential can be created here — tokens are
minted by the API (the raw value is shown once to its owner), codes by the login flow.

Workspaces are not created here either: ``workspace_create`` also makes the owner membership and
runs the creation hooks, which a bare admin insert would skip.
"""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm
from django.contrib.auth.forms import UserChangeForm as DjangoUserChangeForm
from django.db.models import Count, QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from workspaces import tokens
from workspaces.models import (
    Invitation,
    Member,
    PersonalAccessToken,
    User,
    VerificationCode,
    Workspace,
)
from workspaces.reserved import is_reserved_slug
from workspaces.services.workspaces import PREFIX_RE, SLUG_RE

MASK_VISIBLE_CHARS = 8
_HEX64 = re.compile(r"^[0-9a-f]{64}$")


def mask_secret(value: str | None) -> str:
    """The first few characters of a stored secret and an ellipsis; never the whole value."""
    if not value:
        return "—"
    return value[:MASK_VISIBLE_CHARS] + "…"


class SecretLookupGuard:
    """Refuse changelist URL lookups on secret columns (``?token_hash__startswith=…``)."""

    secret_fields: tuple[str, ...] = ()

    def lookup_allowed(self, lookup: str, value: str, request: HttpRequest | None = None) -> bool:
        if any(lookup == f or lookup.startswith(f + "__") for f in self.secret_fields):
            return False
        return super().lookup_allowed(lookup, value, request)  # type: ignore[misc]


# --- users ------------------------------------------------------------------------------------


class UserCreationForm(AdminUserCreationForm):
    """Email + name + password (or no usable password: users normally sign in with a code)."""

    class Meta:
        model = User
        fields = ("email", "name")

    def clean_email(self) -> str:
        email = User.objects.normalize_email(self.cleaned_data["email"]).strip().lower()
        if User.objects.filter(email__iexact=email).exists():
            raise forms.ValidationError(_("A user with that email already exists."))
        return email


class UserChangeForm(DjangoUserChangeForm):
    class Meta:
        model = User
        fields = "__all__"

    def clean_email(self) -> str:
        email = User.objects.normalize_email(self.cleaned_data["email"]).strip().lower()
        clash = User.objects.filter(email__iexact=email).exclude(pk=self.instance.pk)
        if clash.exists():
            raise forms.ValidationError(_("A user with that email already exists."))
        return email


class MembershipInline(admin.TabularInline):
    """A user's workspaces, on the user's page."""

    model = Member
    fk_name = "user"
    extra = 0
    fields = ("workspace", "role", "created_at")
    readonly_fields = ("created_at",)
    autocomplete_fields = ("workspace",)
    verbose_name = _("membership")
    verbose_name_plural = _("memberships")

    def get_queryset(self, request: HttpRequest) -> QuerySet[Member]:
        return super().get_queryset(request).select_related("workspace")


class AccessTokenInline(admin.TabularInline):
    """A user's personal access tokens: visible and revocable, never creatable here."""

    model = PersonalAccessToken
    extra = 0
    fields = ("name", "token_prefix", "created_at", "last_used_at", "expires_at", "revoked")
    readonly_fields = ("name", "token_prefix", "created_at", "last_used_at", "expires_at")
    exclude = ("token_hash",)
    show_change_link = True

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    form = UserChangeForm
    add_form = UserCreationForm
    fieldsets = (
        (None, {"fields": ("id", "email", "password")}),
        (
            _("Profile"),
            {
                "fields": (
                    "name",
                    "avatar_url",
                    "language",
                    "timezone",
                    "profile_description",
                )
            },
        ),
        (
            _("Onboarding"),
            {
                "classes": ("collapse",),
                "fields": ("onboarded_at", "onboarding_questionnaire", "starter_content_state"),
            },
        ),
        (
            _("Permissions"),
            {
                "fields": (
                    "is_active",
                    "is_staff",
                    "is_superuser",
                    "groups",
                    "user_permissions",
                )
            },
        ),
        (_("Important dates"), {"fields": ("last_login", "created_at", "updated_at")}),
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": ("email", "name", "usable_password", "password1", "password2"),
            },
        ),
    )
    readonly_fields = ("id", "last_login", "created_at", "updated_at")
    list_display = ("email", "name", "is_active", "is_staff", "is_superuser", "created_at")
    list_filter = ("is_active", "is_staff", "is_superuser", "language", "groups")
    search_fields = ("email", "name")
    ordering = ("email",)
    date_hierarchy = "created_at"
    inlines = (MembershipInline, AccessTokenInline)

    def get_inlines(self, request: HttpRequest, obj: User | None) -> tuple[type, ...]:
        return self.inlines if obj is not None else ()


# --- credentials ------------------------------------------------------------------------------


@admin.register(VerificationCode)
class VerificationCodeAdmin(SecretLookupGuard, admin.ModelAdmin):
    secret_fields = ("code_hmac",)
    list_display = ("email", "masked_code_hmac", "created_at", "expires_at", "used", "attempts")
    list_filter = ("used", "created_at", "expires_at")
    search_fields = ("email",)
    ordering = ("-created_at",)
    date_hierarchy = "created_at"
    fields = ("id", "email", "masked_code_hmac", "created_at", "expires_at", "used", "attempts")
    readonly_fields = ("id", "email", "masked_code_hmac", "created_at", "expires_at")
    exclude = ("code_hmac",)

    @admin.display(description=_("code HMAC"))
    def masked_code_hmac(self, obj: VerificationCode) -> str:
        return mask_secret(obj.code_hmac)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(PersonalAccessToken)
class PersonalAccessTokenAdmin(SecretLookupGuard, admin.ModelAdmin):
    secret_fields = ("token_hash",)
    list_display = (
        "name",
        "user",
        "token_prefix",
        "masked_token_hash",
        "created_at",
        "last_used_at",
        "expires_at",
        "revoked",
    )
    list_select_related = ("user",)
    list_filter = ("revoked", "created_at", "expires_at", "last_used_at")
    search_fields = ("name", "token_prefix", "user__email", "user__name")
    search_help_text = _(
        "Name, prefix or owner email. A whole token (mul_…) or its SHA-256 finds that token."
    )
    ordering = ("-created_at",)
    date_hierarchy = "created_at"
    fields = (
        "id",
        "user",
        "name",
        "token_prefix",
        "masked_token_hash",
        "created_at",
        "last_used_at",
        "expires_at",
        "revoked",
    )
    readonly_fields = (
        "id",
        "user",
        "token_prefix",
        "masked_token_hash",
        "created_at",
        "last_used_at",
    )
    exclude = ("token_hash",)
    actions = ("revoke_tokens",)

    @admin.display(description=_("token hash"))
    def masked_token_hash(self, obj: PersonalAccessToken) -> str:
        return mask_secret(obj.token_hash)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[PersonalAccessToken], search_term: str
    ) -> tuple[QuerySet[PersonalAccessToken], bool]:
        term = search_term.strip()
        if term.startswith(tokens.PAT_PREFIX):
            return queryset.filter(token_hash=tokens.hash_token(term)), False
        if _HEX64.match(term):
            return queryset.filter(token_hash=term), False
        return super().get_search_results(request, queryset, search_term)

    @admin.action(description=_("Revoke selected tokens"))
    def revoke_tokens(self, request: HttpRequest, queryset: QuerySet[PersonalAccessToken]) -> None:
        count = queryset.filter(revoked=False).update(revoked=True)
        self.message_user(request, f"Revoked {count} token(s).", messages.SUCCESS)


# --- workspaces -------------------------------------------------------------------------------


class WorkspaceForm(forms.ModelForm):
    """The same slug and prefix rules as the API (``workspaces.services.workspaces``)."""

    class Meta:
        model = Workspace
        fields = (
            "name",
            "slug",
            "issue_prefix",
            "description",
            "context",
            "avatar_url",
            "settings",
            "repos",
        )

    def clean_slug(self) -> str:
        slug = (self.cleaned_data["slug"] or "").strip().lower()
        if not SLUG_RE.match(slug):
            raise forms.ValidationError(
                _("Only lowercase letters, numbers, and single hyphens between them.")
            )
        if is_reserved_slug(slug):
            raise forms.ValidationError(_("This slug is reserved."))
        return slug

    def clean_issue_prefix(self) -> str:
        prefix = (self.cleaned_data["issue_prefix"] or "").strip().upper()
        if not PREFIX_RE.match(prefix):
            raise forms.ValidationError(_("1-10 uppercase letters or digits."))
        return prefix


class MemberInline(admin.TabularInline):
    model = Member
    fk_name = "workspace"
    extra = 0
    fields = ("user", "role", "created_at")
    readonly_fields = ("created_at",)
    autocomplete_fields = ("user",)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Member]:
        return super().get_queryset(request).select_related("user")


@admin.register(Workspace)
class WorkspaceAdmin(admin.ModelAdmin):
    form = WorkspaceForm
    list_display = ("slug", "name", "issue_prefix", "member_count", "issue_counter", "created_at")
    list_filter = ("created_at",)
    search_fields = ("slug", "name", "description")
    ordering = ("slug",)
    date_hierarchy = "created_at"
    fieldsets = (
        (None, {"fields": ("id", "name", "slug", "issue_prefix", "issue_counter")}),
        (_("Details"), {"fields": ("description", "context", "avatar_url")}),
        (_("Configuration"), {"classes": ("collapse",), "fields": ("settings", "repos")}),
        (_("Dates"), {"fields": ("created_at", "updated_at")}),
    )
    # The counter is bumped under a row lock by the issue service; editing it here could hand
    # out a number twice.
    readonly_fields = ("id", "issue_counter", "created_at", "updated_at")
    inlines = (MemberInline,)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Workspace]:
        return super().get_queryset(request).annotate(_member_count=Count("members"))

    @admin.display(description=_("members"), ordering="_member_count")
    def member_count(self, obj: Workspace) -> int:
        return getattr(obj, "_member_count", 0)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(Member)
class MemberAdmin(admin.ModelAdmin):
    list_display = ("user", "workspace", "role", "created_at")
    list_select_related = ("user", "workspace")
    list_filter = ("role", "created_at")
    search_fields = ("user__email", "user__name", "workspace__slug", "workspace__name")
    ordering = ("-created_at",)
    autocomplete_fields = ("user", "workspace")
    readonly_fields = ("id", "created_at")
    fields = ("id", "workspace", "user", "role", "created_at")


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    list_display = (
        "invitee_email",
        "workspace",
        "role",
        "status",
        "inviter",
        "invitee_user",
        "created_at",
        "expires_at",
    )
    list_select_related = ("workspace", "inviter", "invitee_user")
    list_filter = ("status", "role", "created_at", "expires_at")
    search_fields = ("invitee_email", "workspace__slug", "workspace__name", "inviter__email")
    ordering = ("-created_at",)
    date_hierarchy = "created_at"
    autocomplete_fields = ("workspace", "inviter", "invitee_user")
    readonly_fields = ("id", "created_at", "updated_at")
    fields = (
        "id",
        "workspace",
        "invitee_email",
        "invitee_user",
        "inviter",
        "role",
        "status",
        "expires_at",
        "created_at",
        "updated_at",
    )
