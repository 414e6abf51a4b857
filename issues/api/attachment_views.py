"""Attachments (spec §10): upload, read, download, delete, and an issue's attachments.

``POST /api/upload-file`` caps the upload while it streams: :class:`UploadLimitHandler` runs
before Django's own upload handlers, counts the file bytes as they arrive and stops the upload
past ``MULTICA_MAX_UPLOAD_BYTES`` (413 ``file too large``). Memory stays bounded because the
bytes that are accepted go to Django's temporary-file handler, chunk by chunk.

``GET /api/attachments/{id}/download`` takes its workspace from the attachment row when the
caller is a member of that workspace (a markdown ``<img src>`` cannot send workspace headers),
else from the request as usual; the tenancy resolver still makes the decision.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from django.conf import settings
from django.core.files.uploadhandler import FileUploadHandler, StopUpload
from django.http import FileResponse, HttpRequest
from drf_spectacular.utils import OpenApiTypes, extend_schema
from rest_framework.parsers import MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from issues import selectors_catalog as selectors
from issues.api import catalog_serializers as s
from issues.services import attachments as services
from multica_site.errors import DomainError, NotFound, ValidationError
from multica_site.views import WorkspaceAPIView
from workspaces.context import WorkspaceIdentifiers


class FileTooLarge(DomainError):
    status = 413
    code = "file_too_large"

    def __init__(self) -> None:
        super().__init__("file too large")


class UploadLimitHandler(FileUploadHandler):
    """Refuse an upload whose file bytes exceed ``max_bytes``, without reading the rest.

    A declared ``Content-Length`` beyond the limit (plus room for the multipart envelope and
    small form fields) is refused before any byte is read; otherwise the running total of file
    bytes is checked on every chunk, so a body without or with a false length is cut off too.
    """

    ENVELOPE_ALLOWANCE = 64 * 1024

    def __init__(self, request: HttpRequest | None = None, *, max_bytes: int) -> None:
        super().__init__(request)
        self.max_bytes = max_bytes
        self.received = 0
        self.exceeded = False

    def handle_raw_input(
        self,
        input_data: Any,
        META: dict[str, Any],
        content_length: int,
        boundary: bytes,
        encoding: str | None = None,
    ) -> None:
        if content_length > self.max_bytes + self.ENVELOPE_ALLOWANCE:
            raise FileTooLarge()

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes:
        self.received += len(raw_data)
        if self.received > self.max_bytes:
            self.exceeded = True
            # Django closes (and so deletes) the partial files of every handler and stops
            # reading the body; upload_complete then turns this into the 413.
            raise StopUpload(connection_reset=True)
        return raw_data

    def file_complete(self, file_size: int) -> None:
        return None

    def upload_complete(self) -> None:
        if self.exceeded:
            raise FileTooLarge()


def content_disposition(filename: str) -> str:
    """``attachment`` with an ASCII fallback name and the exact name in RFC 5987 form."""
    fallback = "".join(ch if 32 <= ord(ch) < 127 and ch not in '"\\' else "_" for ch in filename)
    encoded = quote(filename, safe="!#$&+-.^_`|~")
    return f"attachment; filename=\"{fallback or 'download'}\"; filename*=UTF-8''{encoded}"


class UploadFileView(WorkspaceAPIView):
    parser_classes = (MultiPartParser,)

    def initialize_request(self, request: HttpRequest, *args: Any, **kwargs: Any) -> Request:
        # Before anything reads the body (authentication may, for Django's session CSRF check).
        limit = UploadLimitHandler(request, max_bytes=settings.MULTICA_MAX_UPLOAD_BYTES)
        request.upload_handlers = [limit, *request.upload_handlers]
        return super().initialize_request(request, *args, **kwargs)

    @extend_schema(
        request={"multipart/form-data": s.UploadFileInput}, responses={201: s.AttachmentOutput}
    )
    def post(self, request: Request) -> Response:
        upload = request.FILES.get("file")
        if upload is None:
            raise ValidationError("missing file field", code="missing_file")
        attachment = services.attachment_upload(
            ctx=self.ctx,
            file=upload,
            filename=upload.name,
            issue_id=request.data.get("issue_id"),
            comment_id=request.data.get("comment_id"),
            chat_session_id=request.data.get("chat_session_id"),
        )
        return Response(s.AttachmentOutput(attachment).data, status=201)


class AttachmentDetailView(WorkspaceAPIView):
    @extend_schema(responses=s.AttachmentOutput)
    def get(self, request: Request, attachment_id: Any) -> Response:
        attachment = selectors.attachment_get(ctx=self.ctx, attachment_id=attachment_id)
        return Response(s.AttachmentOutput(attachment).data)

    @extend_schema(responses={204: None})
    def delete(self, request: Request, attachment_id: Any) -> Response:
        services.attachment_delete(ctx=self.ctx, attachment_id=attachment_id)
        return Response(status=204)


class AttachmentDownloadView(WorkspaceAPIView):
    def workspace_identifiers(self, request: Request, **kwargs: Any) -> WorkspaceIdentifiers:
        workspace_id = selectors.attachment_workspace_for_member(
            attachment_id=kwargs.get("attachment_id"),
            user=request.user,
            bound_workspace_id=getattr(request.auth, "workspace_id", None),
        )
        if workspace_id is None:
            return super().workspace_identifiers(request, **kwargs)
        return WorkspaceIdentifiers(workspace_id=str(workspace_id))

    @extend_schema(responses={(200, "application/octet-stream"): OpenApiTypes.BINARY})
    def get(self, request: Request, attachment_id: Any) -> FileResponse:
        attachment = selectors.attachment_get(ctx=self.ctx, attachment_id=attachment_id)
        try:
            handle = attachment.file.open("rb")
        except (FileNotFoundError, ValueError) as exc:
            raise NotFound("attachment not found", code="attachment_not_found") from exc
        response = FileResponse(handle, content_type=attachment.content_type)
        response["Content-Disposition"] = content_disposition(attachment.filename)
        response["X-Content-Type-Options"] = "nosniff"
        response["Content-Security-Policy"] = "sandbox"
        response["Cache-Control"] = "private, no-cache"
        return response


class IssueAttachmentListView(WorkspaceAPIView):
    @extend_schema(responses=s.AttachmentOutput(many=True))
    def get(self, request: Request, issue_id: str) -> Response:
        attachments = selectors.attachment_list_for_issue(ctx=self.ctx, issue_ref=issue_id)
        return Response(s.AttachmentOutput(attachments, many=True).data)
