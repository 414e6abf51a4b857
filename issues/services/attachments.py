"""Attachments (spec §10): store uploads, delete them, link them to issues and comments.

* The storage key is server-generated (``attachments/<workspace>/<attachment id>``, the model's
  ``upload_to``); the client's filename is sanitised and kept as metadata only.
* The content type comes from the file's first bytes and its extension, never the client.
* Files reach storage before the row is written (no I/O inside the transaction); a failed
  insert removes the file again. Deleting removes the file after the row's deletion commits.
"""

from __future__ import annotations

import logging
import mimetypes
import posixpath
import unicodedata
import uuid
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.db.models import F

from issues.models import Attachment, Comment, Issue, uuid7
from issues.wire_catalog import attachment_wire
from multica_site.errors import NotFound, PermissionDenied, ValidationError
from multica_site.events import publish
from workspaces.context import ADMINS

if TYPE_CHECKING:
    from django.core.files import File

    from workspaces.context import WorkspaceContext

logger = logging.getLogger("multica.attachments")

# ``issues.wire`` imports this module (for ``attachment_wire``) and ``issues.selectors`` imports
# ``issues.wire``: the loaders are therefore imported where used, not at module level.
__all__ = ["attachment_delete", "attachment_upload", "attachment_wire", "attachments_link"]

FILENAME_MAX = Attachment._meta.get_field("filename").max_length or 255
# Bidirectional overrides and invisible marks: harmless to a filesystem, misleading to a reader
# ("invoice\u202efdp.exe" shows as "invoiceexe.pdf").
_BIDI_CONTROLS = frozenset("\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")

# Extensions whose type a sniffer gets wrong (as Multica's ``extContentTypes``).
_EXT_CONTENT_TYPES = {
    ".svg": "image/svg+xml",
    ".css": "text/css",
    ".js": "application/javascript",
    ".mjs": "application/javascript",
    ".json": "application/json",
    ".wasm": "application/wasm",
}
_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
    (b"%PDF-", "application/pdf"),
    (b"PK\x03\x04", "application/zip"),
    (b"\x1f\x8b", "application/x-gzip"),
    (b"BM", "image/bmp"),
)
SNIFF_BYTES = 512


def attachment_sanitize_filename(raw: Any) -> str:
    """The last path segment, without control or bidi characters, trimmed, at most 255 chars
    (keeping the extension). ``""`` when nothing usable is left (``""``, ``.``, ``..``)."""
    if not isinstance(raw, str):
        return ""
    name = raw.replace("\\", "/")
    name = posixpath.basename(name)
    name = "".join(
        ch
        for ch in name
        if ch not in _BIDI_CONTROLS and unicodedata.category(ch) not in ("Cc", "Cs")
    ).strip()
    if name in ("", ".", ".."):
        return ""
    if len(name) > FILENAME_MAX:
        stem, ext = posixpath.splitext(name)
        ext = ext[:16]
        name = stem[: FILENAME_MAX - len(ext)] + ext
    return name


def attachment_content_type(filename: str, head: bytes) -> str:
    ext = posixpath.splitext(filename)[1].lower()
    if ext in _EXT_CONTENT_TYPES:
        return _EXT_CONTENT_TYPES[ext]
    for magic, content_type in _MAGIC:
        if head.startswith(magic):
            return content_type
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    guessed, _ = mimetypes.guess_type(filename, strict=False)
    if guessed:
        return guessed
    if head and b"\x00" not in head:
        try:
            head.decode("utf-8")
        except UnicodeDecodeError as exc:
            # A multi-byte character cut at the sniff boundary is still text.
            if exc.start < len(head) - 3:
                return "application/octet-stream"
        return "text/plain; charset=utf-8"
    return "application/octet-stream"


def _read_head(file: File) -> bytes:
    file.seek(0)
    head = file.read(SNIFF_BYTES)
    file.seek(0)
    return head if isinstance(head, bytes) else head.encode()


def _upload_target_issue(ctx: WorkspaceContext, issue_id: Any) -> Issue | None:
    if issue_id in (None, ""):
        return None
    from issues.selectors import issue_get  # noqa: PLC0415 - import cycle, see __all__

    try:
        return issue_get(ctx=ctx, issue_ref=issue_id)
    except NotFound as exc:
        raise ValidationError("invalid issue_id", code="invalid_issue_id") from exc


def _upload_target_comment(ctx: WorkspaceContext, comment_id: Any) -> Comment | None:
    if comment_id in (None, ""):
        return None
    try:
        pk = uuid.UUID(str(comment_id))
    except ValueError as exc:
        raise ValidationError("invalid comment_id", code="invalid_comment_id") from exc
    comment = Comment.objects.filter(pk=pk, workspace_id=ctx.workspace_id).first()
    if comment is None:
        raise ValidationError("invalid comment_id", code="invalid_comment_id")
    return comment


def _bump_issue_revision(ctx: WorkspaceContext, issue_id: Any) -> int:
    """Advance the issue's revision (attachments are part of what it versions); return it."""
    qs = Issue.objects.filter(pk=issue_id, workspace_id=ctx.workspace_id)
    qs.update(revision=F("revision") + 1)
    return qs.values_list("revision", flat=True).first() or 0


# Called (inside the transaction) after an upload or a deletion changed a comment's attachment
# set and bumped its revision: the comments area registers the ``comment:updated`` publication
# (Multica sends the whole comment), which this module cannot render without an import cycle.
CommentAttachmentsChanged = Callable[["WorkspaceContext", uuid.UUID], None]
COMMENT_ATTACHMENTS_CHANGED_HOOKS: list[CommentAttachmentsChanged] = []


def _comment_attachments_changed(ctx: WorkspaceContext, comment_id: uuid.UUID) -> None:
    Comment.objects.filter(pk=comment_id, workspace_id=ctx.workspace_id).update(
        revision=F("revision") + 1
    )
    for hook in COMMENT_ATTACHMENTS_CHANGED_HOOKS:
        hook(ctx, comment_id)


def _publish_issue_attachments_changed(ctx: WorkspaceContext, issue_id: Any) -> None:
    revision = _bump_issue_revision(ctx, issue_id)
    publish(
        "issue_attachments:changed",
        {"issue_id": str(issue_id), "issue_revision": revision},
        workspace_id=ctx.workspace_id,
        actor=ctx.actor,
    )


def attachment_upload(
    *,
    ctx: WorkspaceContext,
    file: File,
    filename: Any,
    issue_id: Any = None,
    comment_id: Any = None,
    chat_session_id: Any = None,
) -> Attachment:
    """Store ``file`` for ``ctx.workspace`` as an attachment of the acting member or agent,
    optionally already linked to an issue and/or comment of the same workspace."""
    name = attachment_sanitize_filename(filename)
    if not name:
        raise ValidationError("invalid filename", code="invalid_filename")
    issue = _upload_target_issue(ctx, issue_id)
    comment = _upload_target_comment(ctx, comment_id)
    if chat_session_id not in (None, ""):
        # Chat sessions are not modelled yet: no id can name one of this workspace.
        raise ValidationError("invalid chat_session_id", code="invalid_chat_session_id")
    attachment = Attachment(
        id=uuid7(),
        workspace_id=ctx.workspace_id,
        issue=issue,
        comment=comment,
        uploader_type=ctx.actor.type,
        uploader_id=uuid.UUID(str(ctx.actor.id)),
        filename=name,
        content_type=attachment_content_type(name, _read_head(file)),
        size_bytes=file.size or 0,
    )
    attachment.file.save(name, file, save=False)  # key from upload_to; the name is ignored
    try:
        with transaction.atomic():
            attachment.save(force_insert=True)
            if issue is not None:
                _publish_issue_attachments_changed(ctx, issue.pk)
            if comment is not None:
                _comment_attachments_changed(ctx, comment.pk)
    except BaseException:
        attachment.file.storage.delete(attachment.file.name)
        raise
    return attachment


def _delete_stored_file(storage: Any, name: str) -> None:
    try:
        storage.delete(name)
    except Exception:
        logger.exception("failed to delete stored attachment %s", name)


def attachment_delete(*, ctx: WorkspaceContext, attachment_id: Any) -> None:
    """Delete an attachment (its uploader, or a workspace owner/admin) and then its file."""
    from issues.selectors_catalog import attachment_get  # noqa: PLC0415 - import cycle

    with transaction.atomic():
        attachment = attachment_get(ctx=ctx, attachment_id=attachment_id, for_update=True)
        is_uploader = (attachment.uploader_type, str(attachment.uploader_id)) == (
            ctx.actor.type,
            str(ctx.actor.id),
        ) or (
            attachment.uploader_type == "member"
            and ctx.user is not None
            and str(attachment.uploader_id) == str(ctx.user.pk)
        )
        if not is_uploader and ctx.role not in ADMINS:
            raise PermissionDenied("not authorized to delete this attachment")
        Attachment.objects.filter(pk=attachment.pk, workspace_id=ctx.workspace_id).delete()
        if attachment.issue_id is not None:
            _publish_issue_attachments_changed(ctx, attachment.issue_id)
        if attachment.comment_id is not None:
            _comment_attachments_changed(ctx, attachment.comment_id)
        storage, name = attachment.file.storage, attachment.file.name
        if name:
            transaction.on_commit(lambda: _delete_stored_file(storage, name))


def _parse_ids(attachment_ids: Iterable[Any]) -> list[uuid.UUID]:
    invalid = ValidationError("invalid attachment_ids", code="invalid_attachment_ids")
    if isinstance(attachment_ids, str | bytes | dict) or attachment_ids is None:
        raise invalid
    ids: list[uuid.UUID] = []
    try:
        for raw in attachment_ids:
            if isinstance(raw, uuid.UUID):
                ids.append(raw)
            elif isinstance(raw, str):
                ids.append(uuid.UUID(raw))
            else:
                raise invalid
    except (TypeError, ValueError) as exc:
        raise invalid from exc
    return list(dict.fromkeys(ids))


def attachments_link(
    *,
    ctx: WorkspaceContext,
    attachment_ids: Iterable[Any],
    issue: Issue | None = None,
    comment: Comment | None = None,
) -> int:
    """Link uploaded attachments of ``ctx.workspace`` to an issue and/or comment.

    Every id must be a UUID of an attachment of this workspace that is unlinked or already
    linked to the same target; otherwise ValidationError (400 ``invalid attachment_ids``) and
    nothing is linked. With only ``comment``, the attachments also join the comment's issue.
    Runs inside the caller's transaction (rows locked in id order) and returns how many rows
    changed. Publishing and revision bumps are the caller's: it is already writing the issue
    or comment.
    """
    ids = _parse_ids(attachment_ids)
    if issue is None and comment is None:
        raise ValueError("attachments_link needs an issue or a comment")
    for target in (issue, comment):
        if target is not None and target.workspace_id != ctx.workspace_id:
            raise NotFound(f"{type(target).__name__.lower()} not found")
    issue_id = issue.pk if issue is not None else comment.issue_id  # type: ignore[union-attr]
    if comment is not None and comment.issue_id != issue_id:
        raise ValidationError("invalid attachment_ids", code="invalid_attachment_ids")
    comment_id = comment.pk if comment is not None else None
    if not ids:
        return 0
    with transaction.atomic():
        rows = list(
            Attachment.objects.select_for_update()
            .filter(workspace_id=ctx.workspace_id, pk__in=ids)
            .order_by("pk")
            .values_list("pk", "issue_id", "comment_id")
        )
        eligible = [
            pk
            for pk, row_issue, row_comment in rows
            if row_issue in (None, issue_id)
            and (comment_id is None or row_comment in (None, comment_id))
        ]
        if len(rows) != len(ids) or len(eligible) != len(ids):
            raise ValidationError("invalid attachment_ids", code="invalid_attachment_ids")
        changed = [
            pk
            for pk, row_issue, row_comment in rows
            if row_issue != issue_id or (comment_id is not None and row_comment != comment_id)
        ]
        if not changed:
            return 0
        update: dict[str, Any] = {"issue_id": issue_id}
        if comment_id is not None:
            update["comment_id"] = comment_id
        return Attachment.objects.filter(workspace_id=ctx.workspace_id, pk__in=changed).update(
            **update
        )
