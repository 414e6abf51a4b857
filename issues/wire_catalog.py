"""Wire shapes of labels, projects and attachments (spec §4, §10), shared by the API views and
the event payloads the services publish. Pure functions of a row (plus its annotations)."""

from __future__ import annotations

from typing import Any

from django.conf import settings

from issues.models import Attachment, Label, Project
from multica_site.wire import format_date, format_time, str_or_none


def label_wire(label: Label) -> dict[str, Any]:
    return {
        "id": str(label.id),
        "workspace_id": str(label.workspace_id),
        "resource_type": label.resource_type,
        "name": label.name,
        "description": label.description,
        "color": label.color,
        "usage_count": int(getattr(label, "usage_count", 0) or 0),
        "created_at": format_time(label.created_at),
        "updated_at": format_time(label.updated_at),
    }


def project_wire(project: Project) -> dict[str, Any]:
    return {
        "id": str(project.id),
        "workspace_id": str(project.workspace_id),
        "title": project.title,
        "description": project.description,
        "icon": project.icon,
        "status": project.status,
        "priority": project.priority,
        "lead_type": project.lead_type,
        "lead_id": str_or_none(project.lead_id),
        "start_date": format_date(project.start_date),
        "due_date": format_date(project.due_date),
        "created_at": format_time(project.created_at),
        "updated_at": format_time(project.updated_at),
        "issue_count": int(getattr(project, "issue_count", 0) or 0),
        "done_count": int(getattr(project, "done_count", 0) or 0),
        # Project resources (repos, directories) are not modelled: always 0.
        "resource_count": 0,
    }


def attachment_download_path(attachment_id: Any) -> str:
    return f"/api/attachments/{attachment_id}/download"


def attachment_wire(attachment: Attachment) -> dict[str, Any]:
    """``url`` and ``download_url`` are the stable, membership-checked download path (never a
    storage URL: local files are not served publicly and S3 URLs would expire);
    ``markdown_url`` is that path made absolute with ``MULTICA_PUBLIC_URL``, for persisting."""
    path = attachment_download_path(attachment.id)
    public = str(getattr(settings, "MULTICA_PUBLIC_URL", "") or "").rstrip("/")
    return {
        "id": str(attachment.id),
        "workspace_id": str(attachment.workspace_id),
        "issue_id": str_or_none(attachment.issue_id),
        "comment_id": str_or_none(attachment.comment_id),
        "chat_session_id": None,
        "chat_message_id": None,
        "uploader_type": attachment.uploader_type,
        "uploader_id": str(attachment.uploader_id),
        "filename": attachment.filename,
        "url": path,
        "download_url": path,
        "markdown_url": public + path if public else path,
        "content_type": attachment.content_type,
        "size_bytes": attachment.size_bytes,
        "created_at": format_time(attachment.created_at),
    }
