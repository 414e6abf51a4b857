"""Helpers of the skills tests: zip bundles, multipart uploads, runtimes and agents."""

from __future__ import annotations

import io
import zipfile

from django.core.files.uploadedfile import SimpleUploadedFile

from agents.models import Agent
from runtimes.models import AgentRuntime
from tests.conftest import ApiResponse


def make_zip(entries: dict[str, bytes | str], *, compression=zipfile.ZIP_DEFLATED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=compression) as zf:
        for name, data in entries.items():
            if name.endswith("/"):
                zf.writestr(zipfile.ZipInfo(name), b"")
            else:
                zf.writestr(name, data)
    return buf.getvalue()


SKILL_MD = "---\nname: pdf-tools\ndescription: Work with PDFs\n---\n# PDF tools\nUse it.\n"


def upload(api, user, ws, data: bytes, *, filename="bundle.zip", **fields) -> ApiResponse:
    client = api.as_user(user)
    payload = {"file": SimpleUploadedFile(filename, data, "application/zip"), **fields}
    path = "/api/skills/import"
    resp = client.client.post(
        path,
        data=payload,
        format="multipart",
        HTTP_X_WORKSPACE_ID=str(ws.id),
        **client._headers,
    )
    return ApiResponse("POST", path, resp.status_code, resp.content, resp)


def make_runtime(ws, owner, *, status="online", daemon="d1") -> AgentRuntime:
    return AgentRuntime.objects.create(
        workspace=ws,
        daemon_id=daemon,
        name=f"claude ({daemon})",
        provider="claude",
        status=status,
        owner=owner,
    )


def make_agent(ws, owner, *, name="helper", runtime=None) -> Agent:
    runtime = runtime or make_runtime(ws, owner, daemon=f"d-{name}")
    return Agent.objects.create(workspace=ws, name=name, runtime=runtime, owner=owner)
