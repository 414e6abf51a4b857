"""Django admin for labels, projects and attachments (staff tooling, not a product surface).

* Labels and projects are edited with the API's own rules (label name/colour, project enums and
  same-workspace lead); a row never moves to another workspace. Admin edits publish no events:
  connected clients see them on their next fetch.
* Attachments are read-only: uploads go through ``POST /api/upload-file`` (server-generated
  storage key, sniffed content type, size cap). Deleting one here also deletes its stored file,
  once the deletion has committed.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest

from issues.models import Attachment, Label, Project
from issues.selectors_catalog import label_parse_resource_type, label_usage_count
from issues.selectors_catalog import project_with_issue_stats as with_issue_stats
from issues.services.labels import label_normalize_color, label_validate_name
from issues.services.projects import LEAD_TYPES, LEAD_VALIDATORS
from multica_site.errors import DomainError
from workspaces.context import Actor, WorkspaceContext

# --- labels -----------------------------------------------------------------------------------


class LabelAdminForm(forms.ModelForm):
    class Meta:
        model = Label
        fields = ("workspace", "resource_type", "name", "description", "color")

    def clean_name(self) -> str:
        return _domain(label_validate_name, self.cleaned_data.get("name"))

    def clean_color(self) -> str:
        return _domain(label_normalize_color, self.cleaned_data.get("color"))

    def clean_resource_type(self) -> str:
        return _domain(label_parse_resource_type, self.cleaned_data.get("resource_type"))

    def validate_unique(self) -> None:
        super().validate_unique()
        # The case-insensitive constraint is on an expression; say it in the API's words.
        data, instance = self.cleaned_data, self.instance
        workspace_id = data["workspace"].pk if data.get("workspace") else instance.workspace_id
        resource_type = data.get("resource_type") or instance.resource_type
        name = data.get("name")
        if workspace_id and name and "name" not in self.errors:
            clash = Label.objects.filter(
                workspace_id=workspace_id, resource_type=resource_type, name__iexact=name
            ).exclude(pk=instance.pk)
            if clash.exists():
                self.add_error("name", "a label with that name already exists")


@admin.register(Label)
class LabelAdmin(admin.ModelAdmin):
    form = LabelAdminForm
    list_display = ("name", "resource_type", "color", "workspace", "usage", "updated_at")
    list_filter = ("resource_type",)
    search_fields = ("name", "workspace__slug")
    list_select_related = ("workspace",)
    raw_id_fields = ("workspace",)
    readonly_fields = ("id", "created_at", "updated_at")
    ordering = ("workspace__slug", "resource_type", "name")

    def get_queryset(self, request: HttpRequest) -> QuerySet[Label]:
        return super().get_queryset(request).annotate(usage_count=label_usage_count())

    def get_readonly_fields(self, request: HttpRequest, obj: Label | None = None) -> Any:
        fixed = ("workspace", "resource_type") if obj is not None else ()
        return (*self.readonly_fields, *fixed)

    @admin.display(description="usage", ordering="usage_count")
    def usage(self, obj: Label) -> int:
        return getattr(obj, "usage_count", 0)


# --- projects ---------------------------------------------------------------------------------


class ProjectAdminForm(forms.ModelForm):
    lead_type = forms.ChoiceField(
        choices=[("", "—"), *((t, t) for t in LEAD_TYPES)], required=False
    )

    class Meta:
        model = Project
        fields = (
            "workspace", "title", "description", "icon", "status", "priority", "lead_type",
            "lead_id", "start_date", "due_date",
        )  # fmt: skip

    def clean_lead_type(self) -> str | None:
        return self.cleaned_data.get("lead_type") or None

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        lead_type, lead_id = data.get("lead_type"), data.get("lead_id")
        workspace = data.get("workspace") or getattr(self.instance, "workspace", None)
        if (lead_type is None) != (lead_id is None):
            raise forms.ValidationError("lead_type and lead_id must be provided together")
        if lead_type and lead_id and workspace is not None:
            validator = LEAD_VALIDATORS.get(lead_type)
            if validator is None:
                raise forms.ValidationError(f"{lead_type} not found")
            ctx = WorkspaceContext(
                workspace=workspace, user=None, member=None, actor=Actor.system()
            )
            _domain(validator, ctx, lead_id)
        return data


@admin.register(Project)
class ProjectAdmin(admin.ModelAdmin):
    form = ProjectAdminForm
    list_display = (
        "title", "workspace", "status", "priority", "lead_type", "issues", "done",
        "due_date", "updated_at",
    )  # fmt: skip
    list_filter = ("status", "priority")
    search_fields = ("title", "workspace__slug")
    list_select_related = ("workspace",)
    raw_id_fields = ("workspace",)
    readonly_fields = ("id", "created_at", "updated_at")
    date_hierarchy = "created_at"

    def get_queryset(self, request: HttpRequest) -> QuerySet[Project]:
        return with_issue_stats(super().get_queryset(request))

    def get_readonly_fields(self, request: HttpRequest, obj: Project | None = None) -> Any:
        return (*self.readonly_fields, "workspace") if obj is not None else self.readonly_fields

    @admin.display(description="issues", ordering="issue_count")
    def issues(self, obj: Project) -> int:
        return getattr(obj, "issue_count", 0)

    @admin.display(description="done", ordering="done_count")
    def done(self, obj: Project) -> int:
        return getattr(obj, "done_count", 0)


# --- attachments ------------------------------------------------------------------------------


def _delete_files_on_commit(attachments: list[Attachment]) -> None:
    stored = [(a.file.storage, a.file.name) for a in attachments if a.file.name]

    def delete() -> None:
        for storage, name in stored:
            storage.delete(name)

    transaction.on_commit(delete)


@admin.register(Attachment)
class AttachmentAdmin(admin.ModelAdmin):
    list_display = (
        "filename", "workspace", "issue", "content_type", "size_bytes", "uploader_type",
        "created_at",
    )  # fmt: skip
    list_filter = ("uploader_type",)
    search_fields = ("filename", "workspace__slug", "id")
    list_select_related = ("workspace", "issue")
    date_hierarchy = "created_at"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Attachment | None = None) -> bool:
        return False

    def get_readonly_fields(self, request: HttpRequest, obj: Attachment | None = None) -> Any:
        return [f.name for f in Attachment._meta.fields]

    def delete_model(self, request: HttpRequest, obj: Attachment) -> None:
        with transaction.atomic():
            _delete_files_on_commit([obj])
            super().delete_model(request, obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Attachment]) -> None:
        with transaction.atomic():
            _delete_files_on_commit(list(queryset))
            super().delete_queryset(request, queryset)


def _domain(check: Any, *args: Any) -> Any:
    """Run one of the services' checks; its DomainError becomes the form's error."""
    try:
        return check(*args)
    except DomainError as exc:
        raise forms.ValidationError(exc.message) from exc
