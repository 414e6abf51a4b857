"""``/api/skills`` and ``/api/runtimes/{rt}/local-skills`` (spec §8). Thin views: parse, call
one service or selector, render the wire shape."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework.parsers import JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from multica_site.errors import ValidationError
from multica_site.views import WorkspaceAPIView
from skills import selectors
from skills.api import skill_serializers as s
from skills.services import bundles
from skills.services import local_skills as local
from skills.services import skills as services
from skills.wire import skill_file_wire, skill_summary_wire, skill_with_files_wire

_UNSET = services._UNSET


class SkillListView(WorkspaceAPIView):
    @extend_schema(operation_id="skills_list", responses=s.SkillSummaryOutput(many=True))
    def get(self, request: Request) -> Response:
        return Response([skill_summary_wire(k) for k in selectors.skill_list(ctx=self.ctx)])

    @extend_schema(request=s.SkillCreateInput, responses={201: s.SkillWithFilesOutput})
    def post(self, request: Request) -> Response:
        data = s.json_object(request)
        skill, files = services.skill_create(
            ctx=self.ctx,
            name=data.get("name"),
            description=data.get("description"),
            content=data.get("content"),
            config=data.get("config"),
            files=data.get("files"),
        )
        return Response(skill_with_files_wire(skill, files), status=201)


class SkillImportView(WorkspaceAPIView):
    """Multipart ``file`` (+ ``on_conflict``); a JSON ``{url}`` import is refused (no egress)."""

    parser_classes = (MultiPartParser, JSONParser)

    @extend_schema(
        operation_id="skills_import",
        request={"multipart/form-data": s.SkillImportInput},
        responses={201: s.SkillWithFilesOutput},
    )
    def post(self, request: Request) -> Response:
        content_type = (request.content_type or "").lower()
        if not content_type.startswith("multipart/form-data"):
            data = s.json_object(request)
            bundles.parse_on_conflict(data.get("on_conflict"))
            raise ValidationError(bundles.URL_IMPORT_UNSUPPORTED, code="url_import_unsupported")
        on_conflict = request.data.get("on_conflict", "")
        bundles.parse_on_conflict(on_conflict)
        upload = request.FILES.get("file")
        if upload is None:
            raise ValidationError(
                'a skill archive file is required (form field "file")', code="missing_file"
            )
        if upload.size is not None and upload.size > bundles.MAX_UPLOAD_BYTES:
            raise ValidationError(
                "invalid multipart upload or file exceeds the size limit", code="file_too_large"
            )
        outcome = bundles.skill_import_archive(
            ctx=self.ctx,
            data=upload.read(bundles.MAX_UPLOAD_BYTES + 1),
            filename=upload.name or "",
            on_conflict=on_conflict,
        )
        return Response(outcome.body, status=outcome.status)


class SkillDetailView(WorkspaceAPIView):
    @extend_schema(responses=s.SkillWithFilesOutput)
    def get(self, request: Request, skill_id: Any) -> Response:
        skill = selectors.skill_get(ctx=self.ctx, skill_id=skill_id)
        return Response(skill_with_files_wire(skill, selectors.skill_file_list(skill=skill)))

    @extend_schema(request=s.SkillUpdateInput, responses=s.SkillWithFilesOutput)
    def put(self, request: Request, skill_id: Any) -> Response:
        data = s.json_object(request)
        fields = {
            k: data[k] for k in ("name", "description", "content", "config", "files") if k in data
        }
        skill, files = services.skill_update(ctx=self.ctx, skill_id=skill_id, **fields)
        return Response(skill_with_files_wire(skill, files))

    @extend_schema(responses={204: None})
    def delete(self, request: Request, skill_id: Any) -> Response:
        services.skill_delete(ctx=self.ctx, skill_id=skill_id)
        return Response(status=204)


class SkillFileListView(WorkspaceAPIView):
    @extend_schema(responses=s.SkillFileOutput(many=True))
    def get(self, request: Request, skill_id: Any) -> Response:
        skill = selectors.skill_get(ctx=self.ctx, skill_id=skill_id)
        return Response([skill_file_wire(f) for f in selectors.skill_file_list(skill=skill)])

    @extend_schema(request=s.SkillFileInput, responses=s.SkillFileOutput)
    def put(self, request: Request, skill_id: Any) -> Response:
        data = s.json_object(request)
        row = services.skill_file_upsert(
            ctx=self.ctx, skill_id=skill_id, path=data.get("path"), content=data.get("content")
        )
        return Response(skill_file_wire(row))


class SkillFileDetailView(WorkspaceAPIView):
    @extend_schema(responses={204: None})
    def delete(self, request: Request, skill_id: Any, file_id: Any) -> Response:
        services.skill_file_delete(ctx=self.ctx, skill_id=skill_id, file_id=file_id)
        return Response(status=204)


# --- runtime local skills ----------------------------------------------------------------------


class LocalSkillListRequestView(WorkspaceAPIView):
    @extend_schema(request=None, responses=s.LocalSkillRequestOutput)
    def post(self, request: Request, runtime_id: Any) -> Response:
        return Response(local.local_skill_list_request_create(ctx=self.ctx, runtime_id=runtime_id))


class LocalSkillListRequestDetailView(WorkspaceAPIView):
    @extend_schema(responses=s.LocalSkillRequestOutput)
    def get(self, request: Request, runtime_id: Any, request_id: Any) -> Response:
        return Response(
            local.local_skill_list_request_get(
                ctx=self.ctx, runtime_id=runtime_id, request_id=request_id
            )
        )


class LocalSkillImportRequestView(WorkspaceAPIView):
    @extend_schema(request=s.LocalSkillImportInput, responses=s.LocalSkillRequestOutput)
    def post(self, request: Request, runtime_id: Any) -> Response:
        # Owner and online checks come before the body, as Multica.
        data = request.data if isinstance(request.data, dict) else None
        return Response(
            local.local_skill_import_request_create(
                ctx=self.ctx,
                runtime_id=runtime_id,
                body=data,
            )
        )


class LocalSkillImportRequestDetailView(WorkspaceAPIView):
    @extend_schema(responses=s.LocalSkillRequestOutput)
    def get(self, request: Request, runtime_id: Any, request_id: Any) -> Response:
        return Response(
            local.local_skill_import_request_get(
                ctx=self.ctx, runtime_id=runtime_id, request_id=request_id
            )
        )
