"""Attachments (spec §10, reliability §1.11): upload with a streaming size cap, server-side keys,
sanitised names, download headers, delete rights, linking, and tenant isolation."""

from __future__ import annotations

import re
import uuid
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.files.uploadhandler import StopUpload
from django.test import RequestFactory
from rest_framework.test import APIClient

from issues.api.attachment_views import (
    FileTooLarge,
    UploadFileView,
    UploadLimitHandler,
    content_disposition,
)
from issues.models import Attachment, Comment, Issue
from issues.services import attachments as attachment_services
from multica_site.errors import ValidationError
from multica_site.events import Event, add_sink, remove_sink
from workspaces.context import Actor, WorkspaceContext
from workspaces.models import Member
from workspaces.tokens import issue_jwt

pytestmark = pytest.mark.django_db

ATTACHMENT_KEYS = {
    "id", "workspace_id", "issue_id", "comment_id", "chat_session_id", "chat_message_id",
    "uploader_type", "uploader_id", "filename", "url", "download_url", "markdown_url",
    "content_type", "size_bytes", "created_at",
}  # fmt: skip
TIME_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


@pytest.fixture
def events():
    captured: list[Event] = []
    add_sink(captured.append)
    yield captured
    remove_sink(captured.append)


@pytest.fixture
def commit(django_capture_on_commit_callbacks):
    return lambda: django_capture_on_commit_callbacks(execute=True)


def auth(user, workspace=None) -> dict[str, str]:
    headers = {"HTTP_AUTHORIZATION": f"Bearer {issue_jwt(user)}"}
    if workspace is not None:
        headers["HTTP_X_WORKSPACE_ID"] = str(workspace.id)
    return headers


def upload(user, workspace, content: bytes = b"hello", name: str = "hello.txt", **fields):
    data = {"file": SimpleUploadedFile(name, content), **fields}
    return APIClient().post(
        "/api/upload-file", data=data, format="multipart", **auth(user, workspace)
    )


def raw_upload(user, workspace, filename: str, content: bytes = b"data"):
    """A multipart body written by hand: test clients strip directories from filenames."""
    boundary = "----multica-test-boundary"
    body = (
        (
            f"--{boundary}\r\n"
            f'Content-Disposition: form-data; name="file"; filename="{filename}"\r\n'
            "Content-Type: text/html\r\n\r\n"
        ).encode()
        + content
        + f"\r\n--{boundary}--\r\n".encode()
    )
    return APIClient().generic(
        "POST",
        "/api/upload-file",
        body,
        content_type=f"multipart/form-data; boundary={boundary}",
        **auth(user, workspace),
    )


def stored_files(workspace) -> list[Path]:
    root = Path(settings.MEDIA_ROOT) / "attachments" / str(workspace.id)
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


_numbers = iter(range(1, 1_000_000))


def make_issue(workspace, creator) -> Issue:
    n = next(_numbers)
    return Issue.objects.create(
        workspace=workspace, number=n, title=f"I{n}", creator_type="member", creator_id=creator.id
    )


def make_comment(issue, author) -> Comment:
    return Comment.objects.create(
        workspace_id=issue.workspace_id,
        issue=issue,
        author_type="member",
        author_id=author.id,
        content="c",
    )


def ctx_for(ws, user) -> WorkspaceContext:
    return WorkspaceContext(
        workspace=ws.workspace,
        user=user,
        member=Member.objects.get(workspace=ws.workspace, user=user),
        actor=Actor("member", str(user.id)),
    )


def err(resp) -> tuple[int, str]:
    return resp.status_code, resp.json()["error"]


# --- upload -----------------------------------------------------------------------------------


def test_upload_returns_201_attachment_and_stores_under_server_key(ws, settings):
    settings.MULTICA_PUBLIC_URL = "https://multica.example.com/"
    resp = upload(ws.member, ws.workspace, b"hello world", "notes.txt")
    assert resp.status_code == 201, resp.content
    body = resp.json()
    assert set(body) == ATTACHMENT_KEYS
    att = Attachment.objects.get(pk=body["id"])
    path = f"/api/attachments/{att.id}/download"
    assert body == {
        "id": str(att.id),
        "workspace_id": str(ws.workspace.id),
        "issue_id": None,
        "comment_id": None,
        "chat_session_id": None,
        "chat_message_id": None,
        "uploader_type": "member",
        "uploader_id": str(ws.member.id),
        "filename": "notes.txt",
        "url": path,
        "download_url": path,
        "markdown_url": "https://multica.example.com" + path,
        "content_type": "text/plain",
        "size_bytes": 11,
        "created_at": body["created_at"],
    }
    assert TIME_RE.match(body["created_at"])
    assert att.file.name == f"attachments/{ws.workspace.id}/{att.id}"
    assert default_storage.open(att.file.name).read() == b"hello world"


def test_content_type_comes_from_the_bytes_not_the_client(ws):
    body = upload(ws.owner, ws.workspace, PNG, "picture.txt").json()
    assert body["content_type"] == "image/png"
    body = upload(ws.owner, ws.workspace, b"\x00\x01\x02binary", "blob").json()
    assert body["content_type"] == "application/octet-stream"
    body = upload(ws.owner, ws.workspace, b"<svg/>", "x.svg").json()
    assert body["content_type"] == "image/svg+xml"
    body = upload(ws.owner, ws.workspace, "héllo".encode(), "README").json()
    assert body["content_type"] == "text/plain; charset=utf-8"


@pytest.mark.parametrize(
    ("filename", "stored"),
    [
        ("../../etc/passwd", "passwd"),
        ("..\\..\\windows\\evil.exe", "evil.exe"),
        ("/abs/path/report.pdf", "report.pdf"),
        ("a\x01b\x7f.txt", "ab.txt"),
        ("invoice\u202efdp.exe", "invoicefdp.exe"),
        ("  spaced  ", "spaced"),
    ],
)
def test_filenames_are_reduced_to_a_safe_basename(ws, filename, stored):
    resp = raw_upload(ws.owner, ws.workspace, filename)
    assert resp.status_code == 201, resp.content
    att = Attachment.objects.get(pk=resp.json()["id"])
    assert att.filename == stored
    assert att.file.name == f"attachments/{ws.workspace.id}/{att.id}"
    root = Path(settings.MEDIA_ROOT).resolve()
    assert Path(att.file.path).resolve().is_relative_to(root / "attachments")


@pytest.mark.parametrize("filename", ["", "..", ".", "../", "\u202e"])
def test_empty_filename_is_refused(ws, filename):
    resp = raw_upload(ws.owner, ws.workspace, filename)
    assert resp.status_code == 400
    assert resp.json()["error"] in ("missing file field", "invalid filename")
    assert not Attachment.objects.exists()
    assert stored_files(ws.workspace) == []


@pytest.mark.parametrize("raw", ["", "..", "a/..", "\x00\x01", "\u202e\u202e"])
def test_service_refuses_names_that_sanitise_to_nothing(ws, raw):
    with pytest.raises(ValidationError, match="invalid filename"):
        attachment_services.attachment_upload(
            ctx=ctx_for(ws, ws.owner), file=SimpleUploadedFile("x", b"x"), filename=raw
        )
    assert stored_files(ws.workspace) == []


def test_long_filename_is_truncated_keeping_extension(ws):
    name = "n" * 300 + ".tar.gz"
    assert attachment_services.attachment_sanitize_filename(name) == "n" * 252 + ".gz"


def test_missing_file_field(ws):
    resp = APIClient().post(
        "/api/upload-file", data={"other": "x"}, format="multipart", **auth(ws.owner, ws.workspace)
    )
    assert err(resp) == (400, "missing file field")


def test_upload_needs_a_workspace(ws):
    resp = APIClient().post(
        "/api/upload-file",
        data={"file": SimpleUploadedFile("a.txt", b"a")},
        format="multipart",
        **auth(ws.owner),
    )
    assert err(resp) == (400, "workspace_id or workspace_slug is required")
    assert not Attachment.objects.exists()


def test_upload_linked_to_issue_bumps_revision_and_publishes(ws, events, commit):
    issue = make_issue(ws.workspace, ws.owner)
    with commit():
        resp = upload(ws.owner, ws.workspace, issue_id=str(issue.id))
    assert resp.status_code == 201
    assert resp.json()["issue_id"] == str(issue.id)
    issue.refresh_from_db()
    assert issue.revision == 2
    assert [(e.type, e.payload) for e in events] == [
        ("issue_attachments:changed", {"issue_id": str(issue.id), "issue_revision": 2})
    ]


def test_upload_and_delete_of_a_comment_attachment_notify_the_comments_area(ws, monkeypatch):
    calls = []
    monkeypatch.setattr(
        attachment_services,
        "COMMENT_ATTACHMENTS_CHANGED_HOOKS",
        [lambda ctx, comment_id: calls.append((ctx.workspace_id, comment_id))],
    )
    issue = make_issue(ws.workspace, ws.owner)
    comment = make_comment(issue, ws.owner)
    body = upload(ws.owner, ws.workspace, issue_id=str(issue.id), comment_id=str(comment.id))
    assert body.status_code == 201
    assert (body.json()["issue_id"], body.json()["comment_id"]) == (str(issue.id), str(comment.id))
    comment.refresh_from_db()
    assert comment.revision == 2
    assert calls == [(ws.workspace.id, comment.id)]
    resp = APIClient().delete(
        f"/api/attachments/{body.json()['id']}", **auth(ws.owner, ws.workspace)
    )
    assert resp.status_code == 204
    comment.refresh_from_db()
    assert comment.revision == 3
    assert calls == [(ws.workspace.id, comment.id)] * 2


@pytest.mark.parametrize("field", ["issue_id", "comment_id", "chat_session_id"])
def test_upload_with_foreign_or_unknown_target_is_refused(ws, other_ws, field):
    foreign_issue = make_issue(other_ws.workspace, other_ws.owner)
    foreign = {
        "issue_id": str(foreign_issue.id),
        "comment_id": str(make_comment(foreign_issue, other_ws.owner).id),
        "chat_session_id": str(uuid.uuid4()),
    }[field]
    for value in (foreign, "not-a-uuid"):
        resp = upload(ws.owner, ws.workspace, **{field: value})
        assert err(resp) == (400, f"invalid {field}")
    assert not Attachment.objects.exists()
    assert stored_files(ws.workspace) == []
    foreign_issue.refresh_from_db()
    assert foreign_issue.revision == 1


# --- size limit -------------------------------------------------------------------------------


def test_oversize_upload_is_refused_while_streaming_and_nothing_is_stored(ws, settings):
    settings.MULTICA_MAX_UPLOAD_BYTES = 10_000
    # Small enough to pass the Content-Length pre-check: the running count must catch it.
    resp = upload(ws.owner, ws.workspace, b"x" * 50_000, "big.bin")
    assert resp.status_code == 413
    assert resp.json() == {"error": "file too large", "code": "file_too_large"}
    assert not Attachment.objects.exists()
    assert stored_files(ws.workspace) == []


def test_oversize_upload_spooled_to_disk_leaves_no_temporary_file(ws, settings, tmp_path):
    settings.FILE_UPLOAD_TEMP_DIR = str(tmp_path)
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 1_000  # spool to a temporary file at once
    settings.MULTICA_MAX_UPLOAD_BYTES = 20_000
    resp = upload(ws.owner, ws.workspace, b"x" * 60_000, "big.bin")
    assert resp.status_code == 413
    assert list(tmp_path.iterdir()) == []
    assert not Attachment.objects.exists()
    assert stored_files(ws.workspace) == []
    # The same path stores a file within the limit (and moves, not copies, the spooled file).
    assert upload(ws.owner, ws.workspace, b"y" * 15_000, "ok.bin").status_code == 201
    assert list(tmp_path.iterdir()) == []
    assert len(stored_files(ws.workspace)) == 1


def test_declared_oversize_body_is_refused_before_reading_it(ws, settings):
    settings.MULTICA_MAX_UPLOAD_BYTES = 10_000
    resp = upload(ws.owner, ws.workspace, b"x" * 200_000, "big.bin")
    assert resp.status_code == 413
    assert resp.json() == {"error": "file too large", "code": "file_too_large"}
    assert not Attachment.objects.exists()


def test_upload_at_the_limit_is_accepted(ws, settings):
    settings.MULTICA_MAX_UPLOAD_BYTES = 10_000
    resp = upload(ws.owner, ws.workspace, b"x" * 10_000, "exact.bin")
    assert resp.status_code == 201
    assert resp.json()["size_bytes"] == 10_000


class EndlessBody:
    """A request body that would be 1 GiB: counts what the server actually reads."""

    def __init__(self) -> None:
        self.read_bytes = 0

    def read(self, size: int = -1) -> bytes:
        size = 65536 if size is None or size < 0 else size
        self.read_bytes += size
        return b"x" * size

    def readline(self, size: int = -1) -> bytes:
        return self.read(size)


def test_huge_declared_body_is_not_read_at_all(ws, settings):
    settings.MULTICA_MAX_UPLOAD_BYTES = 100 * 1024 * 1024
    body = EndlessBody()
    request = RequestFactory().generic(
        "POST",
        "/api/upload-file",
        CONTENT_TYPE="multipart/form-data; boundary=xyz",
        CONTENT_LENGTH=str(1024**3),
        **{"wsgi.input": body},
        **auth(ws.owner, ws.workspace),
    )
    response = UploadFileView.as_view()(request)
    response.render()
    assert response.status_code == 413
    assert body.read_bytes == 0
    assert not Attachment.objects.exists()


def test_limit_handler_stops_as_soon_as_the_running_total_exceeds_the_limit():
    handler = UploadLimitHandler(max_bytes=100)
    handler.handle_raw_input(None, {}, 150, b"b")
    handler.new_file("file", "a.bin", "application/octet-stream", None)
    assert handler.receive_data_chunk(b"x" * 60, 0) == b"x" * 60
    assert handler.receive_data_chunk(b"x" * 40, 60) == b"x" * 40
    with pytest.raises(StopUpload) as stop:
        handler.receive_data_chunk(b"x", 100)
    assert stop.value.connection_reset  # the rest of the body is not read
    with pytest.raises(FileTooLarge):
        handler.upload_complete()
    with pytest.raises(FileTooLarge):
        UploadLimitHandler(max_bytes=100).handle_raw_input(None, {}, 100 + 64 * 1024 + 1, b"b")


def test_default_limit_is_100_mib():
    from multica_site.settings import base

    assert base.MULTICA_MAX_UPLOAD_BYTES == 100 * 1024 * 1024


# --- read and download ------------------------------------------------------------------------


def test_get_one(ws):
    created = upload(ws.owner, ws.workspace).json()
    resp = APIClient().get(f"/api/attachments/{created['id']}", **auth(ws.member, ws.workspace))
    assert resp.status_code == 200
    assert resp.json() == created


def test_download_streams_the_file_with_safe_headers(ws):
    created = upload(ws.owner, ws.workspace, b"<html><script>x</script>", "résumé 2026.html").json()
    resp = APIClient().get(created["download_url"], **auth(ws.member, ws.workspace))
    assert resp.status_code == 200
    assert b"".join(resp.streaming_content) == b"<html><script>x</script>"
    assert resp["Content-Disposition"] == (
        "attachment; filename=\"r_sum_ 2026.html\"; filename*=UTF-8''r%C3%A9sum%C3%A9%202026.html"
    )
    assert resp["X-Content-Type-Options"] == "nosniff"
    assert resp["Content-Security-Policy"] == "sandbox"
    assert resp["Content-Type"] == "text/html"
    assert resp["Content-Length"] == str(len(b"<html><script>x</script>"))


def test_download_works_without_workspace_headers_for_members(ws):
    """A markdown ``<img src=…/download>`` cannot send workspace headers."""
    created = upload(ws.owner, ws.workspace, PNG, "p.png").json()
    resp = APIClient().get(created["download_url"], **auth(ws.member))
    assert resp.status_code == 200
    assert b"".join(resp.streaming_content) == PNG


def test_download_of_a_foreign_attachment_reveals_nothing(ws, other_ws):
    created = upload(ws.owner, ws.workspace, b"secret", "s.txt").json()
    path = created["download_url"]
    client = APIClient()
    # Own workspace named: as if the id did not exist.
    resp = client.get(path, **auth(other_ws.owner, other_ws.workspace))
    assert err(resp) == (404, "attachment not found")
    unknown = client.get(
        f"/api/attachments/{uuid.uuid4()}/download", **auth(other_ws.owner, other_ws.workspace)
    )
    assert err(unknown) == (404, "attachment not found")
    # The victim's workspace named: not a member.
    resp = client.get(path, **auth(other_ws.owner, ws.workspace))
    assert err(resp) == (404, "workspace not found")
    # Nothing named: no workspace to act in.
    resp = client.get(path, **auth(other_ws.owner))
    assert err(resp) == (400, "workspace_id or workspace_slug is required")


def test_content_disposition_ascii_name():
    assert content_disposition('a"b\\c.txt') == (
        "attachment; filename=\"a_b_c.txt\"; filename*=UTF-8''a%22b%5Cc.txt"
    )


def test_issue_attachments_list(ws, other_ws):
    issue = make_issue(ws.workspace, ws.owner)
    other_issue = make_issue(ws.workspace, ws.owner)
    first = upload(ws.owner, ws.workspace, b"1", "1.txt", issue_id=str(issue.id)).json()
    second = upload(ws.member, ws.workspace, b"2", "2.txt", issue_id=str(issue.id)).json()
    upload(ws.owner, ws.workspace, b"3", "3.txt", issue_id=str(other_issue.id))
    upload(ws.owner, ws.workspace, b"4", "4.txt")
    client = APIClient()
    resp = client.get(f"/api/issues/{issue.id}/attachments", **auth(ws.member, ws.workspace))
    assert resp.status_code == 200
    first["issue_id"] = second["issue_id"] = str(issue.id)
    assert resp.json() == [first, second]
    resp = client.get(f"/api/issues/{uuid.uuid4()}/attachments", **auth(ws.owner, ws.workspace))
    assert err(resp) == (404, "issue not found")
    resp = client.get(
        f"/api/issues/{issue.id}/attachments", **auth(other_ws.owner, other_ws.workspace)
    )
    assert err(resp) == (404, "issue not found")


# --- delete -----------------------------------------------------------------------------------


def test_uploader_deletes_and_the_file_goes_after_commit(ws, events, commit):
    issue = make_issue(ws.workspace, ws.owner)
    created = upload(ws.member, ws.workspace, issue_id=str(issue.id)).json()
    key = Attachment.objects.get(pk=created["id"]).file.name
    events.clear()
    with commit():
        resp = APIClient().delete(
            f"/api/attachments/{created['id']}", **auth(ws.member, ws.workspace)
        )
    assert resp.status_code == 204
    assert resp.content == b""
    assert not Attachment.objects.filter(pk=created["id"]).exists()
    assert not default_storage.exists(key)
    issue.refresh_from_db()
    assert issue.revision == 3
    assert [(e.type, e.payload) for e in events] == [
        ("issue_attachments:changed", {"issue_id": str(issue.id), "issue_revision": 3})
    ]


def test_only_uploader_or_admins_may_delete(ws, make_user):
    from workspaces.models import Role

    bystander = make_user("bystander@example.com")
    Member.objects.create(workspace=ws.workspace, user=bystander, role=Role.MEMBER)
    created = upload(ws.member, ws.workspace).json()
    path = f"/api/attachments/{created['id']}"
    resp = APIClient().delete(path, **auth(bystander, ws.workspace))
    assert err(resp) == (403, "not authorized to delete this attachment")
    assert Attachment.objects.filter(pk=created["id"]).exists()
    assert APIClient().delete(path, **auth(ws.admin, ws.workspace)).status_code == 204
    created = upload(ws.member, ws.workspace).json()
    path = f"/api/attachments/{created['id']}"
    assert APIClient().delete(path, **auth(ws.owner, ws.workspace)).status_code == 204


def test_foreign_attachment_cannot_be_read_or_deleted(ws, other_ws, commit):
    created = upload(ws.owner, ws.workspace, b"secret").json()
    key = Attachment.objects.get(pk=created["id"]).file.name
    client = APIClient()
    path = f"/api/attachments/{created['id']}"
    with commit():
        for resp in (
            client.get(path, **auth(other_ws.owner, other_ws.workspace)),
            client.delete(path, **auth(other_ws.owner, other_ws.workspace)),
        ):
            assert err(resp) == (404, "attachment not found")
    assert Attachment.objects.filter(pk=created["id"]).exists()
    assert default_storage.exists(key)


# --- attachments_link (used by the issue and comment services) --------------------------------


def test_link_to_issue_and_comment(ws):
    ctx = ctx_for(ws, ws.owner)
    issue = make_issue(ws.workspace, ws.owner)
    a = upload(ws.owner, ws.workspace).json()["id"]
    b = upload(ws.member, ws.workspace).json()["id"]
    assert attachment_services.attachments_link(ctx=ctx, attachment_ids=[a, b], issue=issue) == 2
    assert set(Attachment.objects.values_list("issue_id", flat=True)) == {issue.id}
    # Idempotent: linking again changes nothing.
    assert attachment_services.attachments_link(ctx=ctx, attachment_ids=[a], issue=issue) == 0

    comment = make_comment(issue, ws.owner)
    c = upload(ws.owner, ws.workspace).json()["id"]
    linked = attachment_services.attachments_link(ctx=ctx, attachment_ids=[a, c], comment=comment)
    assert linked == 2
    assert Attachment.objects.get(pk=c).issue_id == issue.id  # joins the comment's issue
    assert set(Attachment.objects.filter(comment=comment).values_list("id", flat=True)) == {
        uuid.UUID(a),
        uuid.UUID(c),
    }
    assert attachment_services.attachments_link(ctx=ctx, attachment_ids=[], issue=issue) == 0


@pytest.mark.parametrize(
    "bad", ["not-a-uuid", 42, None, "foreign", "unknown", "other-issue", "string"]
)
def test_link_refuses_ids_that_are_not_this_workspaces_unlinked_attachments(ws, other_ws, bad):
    ctx = ctx_for(ws, ws.owner)
    issue = make_issue(ws.workspace, ws.owner)
    other_issue = make_issue(ws.workspace, ws.owner)
    mine = upload(ws.owner, ws.workspace).json()["id"]
    foreign = upload(other_ws.owner, other_ws.workspace).json()["id"]
    taken = upload(ws.owner, ws.workspace, issue_id=str(other_issue.id)).json()["id"]
    value = {
        "foreign": foreign,
        "unknown": str(uuid.uuid4()),
        "other-issue": taken,
    }.get(bad, bad)
    ids = mine if bad == "string" else [mine, value]
    with pytest.raises(ValidationError) as exc:
        attachment_services.attachments_link(ctx=ctx, attachment_ids=ids, issue=issue)
    assert (exc.value.status, exc.value.message) == (400, "invalid attachment_ids")
    assert Attachment.objects.get(pk=mine).issue_id is None
    assert Attachment.objects.get(pk=foreign).issue_id is None
    assert Attachment.objects.get(pk=taken).issue_id == other_issue.id


# --- storage configuration --------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize(
    ("bucket", "backend"),
    [("my-bucket", "storages.backends.s3.S3Storage"), ("", "FileSystemStorage")],
)
def test_settings_select_s3_storage_when_a_bucket_is_set(tmp_path, bucket, backend):
    import os
    import subprocess
    import sys

    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "multica_site.settings.base",
        "S3_BUCKET": bucket,
        "S3_REGION": "eu-west-1",
        # Settings start embedded servers when these are unset; nothing connects here.
        "DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none",
        "REDIS_URL": "redis://127.0.0.1:1/0",
        "MULTICA_DATA_DIR": str(tmp_path),
    }
    code = (
        "import django; django.setup()\n"
        "from django.core.files.storage import storages\n"
        "s = storages['default']\n"
        "print(type(s).__module__ + '.' + type(s).__name__, getattr(s, 'bucket_name', '-'))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=str(Path(__file__).resolve().parents[2]),
    )
    assert out.returncode == 0, out.stderr
    kind, name = out.stdout.split()
    assert kind.endswith(backend)
    assert name == (bucket or "-")


# --- admin ------------------------------------------------------------------------------------


@pytest.fixture
def staff_client(make_user):
    """A logged-in superuser, with the catalog admins registered and routed (until
    ``issues/admin.py`` imports ``issues.admin_catalog``, nothing else registers them)."""
    import importlib

    from django.test import Client
    from django.urls import clear_url_caches

    import issues.admin_catalog  # noqa: F401 - registers the catalog admins
    import multica_site.urls

    importlib.reload(multica_site.urls)
    clear_url_caches()
    client = Client()
    client.force_login(make_user("root@example.com", is_staff=True, is_superuser=True))
    return client


def test_admin_is_read_only_and_deleting_removes_the_file(staff_client, ws, commit):
    created = upload(ws.owner, ws.workspace, b"data", "admin.txt").json()
    key = Attachment.objects.get(pk=created["id"]).file.name
    assert staff_client.get("/admin/issues/attachment/").status_code == 200
    assert staff_client.get("/admin/issues/attachment/add/").status_code == 403
    change = f"/admin/issues/attachment/{created['id']}/change/"
    assert staff_client.get(change).status_code == 200  # view-only page
    with commit():
        resp = staff_client.post(
            f"/admin/issues/attachment/{created['id']}/delete/", {"post": "yes"}
        )
    assert resp.status_code == 302
    assert not Attachment.objects.filter(pk=created["id"]).exists()
    assert not default_storage.exists(key)
