"""Victim objects for the issue and status routes (see test_cross_workspace): an issue with a
label, a reaction, a child and a custom status, all built through the services."""

from __future__ import annotations

from issues.models import Label
from issues.services.issues import issue_create
from issues.services.reactions import issue_reaction_add
from issues.services.statuses import status_create
from workspaces.context import Actor, WorkspaceContext
from workspaces.models import Member


def victims(victim) -> dict:
    ws = victim.workspace
    member = Member.objects.get(workspace=ws, user=victim.owner)
    ctx = WorkspaceContext(
        workspace=ws, user=victim.owner, member=member, actor=Actor("member", str(victim.owner.id))
    )
    status = status_create(ctx=ctx, name="Victim QA", category="in_review", color="#123456")
    label = Label.objects.create(workspace=ws, name="victim-issue-label", color="#654321")
    issue = issue_create(
        ctx=ctx, title="Victim issue", status=status.key, label_ids=[str(label.id)]
    ).issue
    issue_create(ctx=ctx, title="Victim child", parent_issue_id=str(issue.id))
    issue_reaction_add(ctx=ctx, issue_ref=issue.id, emoji="👍")
    return {"issue_id": issue.id, "status_id": status.id, "label_id": label.id}
