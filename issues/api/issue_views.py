"""Issue endpoints (spec §3.3, §3.4). Thin: check JSON types, call one service or selector,
render with :mod:`issues.wire`. Every route is workspace-scoped; any member may read and write."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from issues import selectors, selectors_search
from issues.api import issue_serializers as s
from issues.services import issue_labels as label_services
from issues.services import issues as services
from issues.services import reactions as reaction_services
from issues.wire import issue_prefix, issue_row_wire, issue_wire, label_wire, reaction_wire
from multica_site.errors import ValidationError
from multica_site.views import WorkspaceAPIView
from workspaces.context import WorkspaceContext


def body(serializer_class: type[serializers.Serializer], request: Request) -> dict[str, Any]:
    """The fields present in the JSON object body (explicit nulls kept); a body of the wrong
    JSON types is ``invalid request body``."""
    data = {} if request.data is None else request.data
    if not isinstance(data, Mapping):
        raise ValidationError("invalid request body")
    serializer = serializer_class(data=data)
    if not serializer.is_valid():
        raise ValidationError("invalid request body")
    return dict(serializer.validated_data)


def query_params(request: Request) -> dict[str, str]:
    """First value of each query parameter (Go's ``Query().Get``)."""
    return {key: values[0] for key, values in request.query_params.lists() if values}


def page_json(ctx: WorkspaceContext, page: selectors.IssuePage) -> list[dict[str, Any]]:
    prefix = issue_prefix(ctx.workspace)
    out = []
    for row in page.rows:
        item = issue_row_wire(row, prefix=prefix, status_category=page.categories(row["status"]))
        item["labels"] = page.labels.get(row["id"], [])
        out.append(item)
    return out


def issue_json(ctx: WorkspaceContext, issue: Any, **extra: Any) -> dict[str, Any]:
    category = selectors.StatusCategories(ctx)(issue.status)
    return issue_wire(issue, prefix=issue_prefix(ctx.workspace), status_category=category, **extra)


def list_response(ctx: WorkspaceContext, params: Mapping[str, str]) -> Response:
    query = selectors.issue_list_query(ctx=ctx, params=params)
    page = selectors.issue_list(ctx=ctx, query=query)
    return Response({"issues": page_json(ctx, page), "total": page.total})


class IssueListView(WorkspaceAPIView):
    @extend_schema(responses=s.IssueListOutput, operation_id="issues_list")
    def get(self, request: Request) -> Response:
        return list_response(self.ctx, query_params(request))

    @extend_schema(request=s.IssueCreateInput, responses={201: s.IssueOutput})
    def post(self, request: Request) -> Response:
        data = body(s.IssueCreateInput, request)
        created = services.issue_create(ctx=self.ctx, **data)
        return Response(
            issue_json(
                self.ctx, created.issue, labels=created.labels, attachments=created.attachments
            ),
            status=201,
        )


class IssueQueryView(WorkspaceAPIView):
    """``POST /api/issues/query``: the GET parameters as a flat JSON object of strings."""

    @extend_schema(request={"application/json": dict}, responses=s.IssueListOutput)
    def post(self, request: Request) -> Response:
        data = request.data
        if not isinstance(data, Mapping) or not all(isinstance(v, str) for v in data.values()):
            raise ValidationError("invalid request body")
        return list_response(self.ctx, dict(data))


class IssueSearchView(WorkspaceAPIView):
    @extend_schema(responses=s.SearchOutput)
    def get(self, request: Request) -> Response:
        params = query_params(request)
        page = selectors_search.issue_search(ctx=self.ctx, params=params)
        q = params.get("q", "")
        terms = selectors.search_terms(q)
        prefix = issue_prefix(self.ctx.workspace)
        out = []
        for hit in page.hits:
            item = issue_wire(
                hit.issue, prefix=prefix, status_category=page.categories(hit.issue.status)
            )
            item["match_source"] = hit.match_source
            if hit.comment_content:
                comment_snippet = selectors_search.snippet(hit.comment_content, q)
                item["matched_comment_snippet"] = comment_snippet
                if hit.match_source == "comment":
                    item["matched_snippet"] = comment_snippet
            description = hit.issue.description
            if description and (
                hit.match_source == "description"
                or selectors_search.description_matches(description, q, terms)
            ):
                item["matched_description_snippet"] = selectors_search.snippet(description, q)
            out.append(item)
        return Response(
            {"issues": out, "total": page.total}, headers={"X-Total-Count": str(page.total)}
        )


class IssueGroupedView(WorkspaceAPIView):
    @extend_schema(responses=s.GroupedOutput)
    def get(self, request: Request) -> Response:
        page = selectors.issue_grouped(ctx=self.ctx, params=query_params(request))
        prefix = issue_prefix(self.ctx.workspace)
        groups = []
        for group in page.groups:
            issues = []
            for row in group.rows:
                item = issue_row_wire(
                    row, prefix=prefix, status_category=page.categories(row["status"])
                )
                item["labels"] = page.labels.get(row["id"], [])
                issues.append(item)
            groups.append(
                {
                    "id": group.id,
                    "assignee_type": group.assignee_type,
                    "assignee_id": str(group.assignee_id) if group.assignee_id else None,
                    "issues": issues,
                    "total": group.total,
                }
            )
        return Response({"groups": groups})


class IssueChildrenByParentsView(WorkspaceAPIView):
    @extend_schema(responses=s.IssuesOutput, operation_id="issues_children_by_parents")
    def get(self, request: Request) -> Response:
        page = selectors.issue_children_of_parents(
            ctx=self.ctx, parent_ids=request.query_params.get("parent_ids")
        )
        return Response({"issues": page_json(self.ctx, page)})


class IssueChildProgressView(WorkspaceAPIView):
    @extend_schema(responses=s.ChildProgressOutput)
    def get(self, request: Request) -> Response:
        return Response({"progress": selectors.child_progress(ctx=self.ctx)})


class IssueBatchUpdateView(WorkspaceAPIView):
    @extend_schema(request=s.IssueBatchUpdateInput, responses=s.UpdatedCountOutput)
    def post(self, request: Request) -> Response:
        data = body(s.IssueBatchUpdateInput, request)
        updates = body_of(s.IssueUpdateInput, data.get("updates") or {})
        updated = services.issues_batch_update(
            ctx=self.ctx,
            issue_ids=data.get("issue_ids"),
            updates=updates,
            suppress_run=bool(updates.get("suppress_run")),
            handoff_note=updates.get("handoff_note") or "",
        )
        return Response({"updated": updated})


class IssueBatchDeleteView(WorkspaceAPIView):
    @extend_schema(request=s.IssueBatchDeleteInput, responses=s.DeletedCountOutput)
    def post(self, request: Request) -> Response:
        data = body(s.IssueBatchDeleteInput, request)
        return Response(
            {"deleted": services.issues_batch_delete(ctx=self.ctx, issue_ids=data.get("issue_ids"))}
        )


def body_of(serializer_class: type[serializers.Serializer], data: Any) -> dict[str, Any]:
    serializer = serializer_class(data=data)
    if not isinstance(data, Mapping) or not serializer.is_valid():
        raise ValidationError("invalid request body")
    return dict(serializer.validated_data)


def update_kwargs(data: dict[str, Any]) -> dict[str, Any]:
    """Split a validated PUT body into the service's ``fields`` and control arguments."""
    control = {k: data.pop(k) for k in s.IssueUpdateInput.CONTROL_FIELDS if k in data}
    return {
        "fields": data,
        "expected_revision": control.get("expected_revision"),
        "title_base": control.get("title_base"),
        "description_base": control.get("description_base"),
        "attachment_ids": control.get("attachment_ids"),
        "suppress_run": bool(control.get("suppress_run")),
        "handoff_note": control.get("handoff_note") or "",
    }


class IssueDetailView(WorkspaceAPIView):
    @extend_schema(responses=s.IssueOutput)
    def get(self, request: Request, issue_id: str) -> Response:
        issue = selectors.issue_get(ctx=self.ctx, issue_ref=issue_id)
        return Response(
            issue_json(
                self.ctx,
                issue,
                labels=selectors.labels_of_issue(ctx=self.ctx, issue=issue),
                reactions=selectors.issue_reactions(ctx=self.ctx, issue=issue),
                attachments=selectors.issue_attachments(ctx=self.ctx, issue=issue),
            )
        )

    @extend_schema(request=s.IssueUpdateInput, responses=s.IssueOutput)
    def put(self, request: Request, issue_id: str) -> Response:
        data = body(s.IssueUpdateInput, request)
        issue = services.issue_update(ctx=self.ctx, issue_ref=issue_id, **update_kwargs(data))
        return Response(issue_json(self.ctx, issue))

    @extend_schema(responses={204: None})
    def delete(self, request: Request, issue_id: str) -> Response:
        services.issue_delete(ctx=self.ctx, issue_ref=issue_id)
        return Response(status=204)


class IssueMoveView(WorkspaceAPIView):
    @extend_schema(request={"application/json": dict}, responses=s.IssueOutput)
    def post(self, request: Request, issue_id: str) -> Response:
        data = {} if request.data is None else request.data
        if not isinstance(data, Mapping):
            raise ValidationError("invalid request body")
        issue = services.issue_move(ctx=self.ctx, issue_ref=issue_id, body=dict(data))
        return Response(issue_json(self.ctx, issue))


class IssueChildrenView(WorkspaceAPIView):
    @extend_schema(responses=s.IssuesOutput)
    def get(self, request: Request, issue_id: str) -> Response:
        issue = selectors.issue_get(ctx=self.ctx, issue_ref=issue_id)
        page = selectors.issue_children(ctx=self.ctx, issue=issue)
        return Response({"issues": page_json(self.ctx, page)})


def labels_response(result: label_services.IssueLabels) -> Response:
    out: dict[str, Any] = {"labels": [label_wire(label) for label in result.labels]}
    if result.issue_revision:
        out["issue_revision"] = result.issue_revision
    return Response(out)


class IssueLabelsView(WorkspaceAPIView):
    @extend_schema(responses=s.LabelsOutput)
    def get(self, request: Request, issue_id: str) -> Response:
        issue = selectors.issue_get(ctx=self.ctx, issue_ref=issue_id)
        labels = selectors.labels_of_issue(ctx=self.ctx, issue=issue)
        return Response(
            {"labels": [label_wire(label) for label in labels], "issue_revision": issue.revision}
        )

    @extend_schema(request=s.LabelAttachInput, responses=s.LabelsOutput)
    def post(self, request: Request, issue_id: str) -> Response:
        data = body(s.LabelAttachInput, request)
        return labels_response(
            label_services.issue_label_attach(
                ctx=self.ctx, issue_ref=issue_id, label_id=data.get("label_id")
            )
        )


class IssueLabelDetailView(WorkspaceAPIView):
    @extend_schema(responses=s.LabelsOutput)
    def delete(self, request: Request, issue_id: str, label_id: str) -> Response:
        return labels_response(
            label_services.issue_label_detach(ctx=self.ctx, issue_ref=issue_id, label_id=label_id)
        )


class IssueReactionsView(WorkspaceAPIView):
    @extend_schema(request=s.ReactionInput, responses={201: s.IssueReactionOutput})
    def post(self, request: Request, issue_id: str) -> Response:
        data = body(s.ReactionInput, request)
        added = reaction_services.issue_reaction_add(
            ctx=self.ctx, issue_ref=issue_id, emoji=data.get("emoji")
        )
        return Response(reaction_wire(added.reaction, added.issue_revision), status=201)

    @extend_schema(request=s.ReactionInput, responses={204: None})
    def delete(self, request: Request, issue_id: str) -> Response:
        data = body(s.ReactionInput, request)
        reaction_services.issue_reaction_remove(
            ctx=self.ctx, issue_ref=issue_id, emoji=data.get("emoji")
        )
        return Response(status=204)
