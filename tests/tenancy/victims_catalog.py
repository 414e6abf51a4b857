"""Victim objects for the labels, projects and attachments routes (see test_cross_workspace)."""

from __future__ import annotations

from django.core.files.base import ContentFile

from issues.models import Attachment, Issue, IssueLabel, Label, Project


def victims(victim) -> dict:
    ws = victim.workspace
    label = Label.objects.create(workspace=ws, name="victim-label", color="#112233")
    project = Project.objects.create(workspace=ws, title="Victim project")
    # A high number keeps clear of the issues area's own victim issue (numbered by its counter).
    issue = Issue.objects.create(
        workspace=ws,
        number=900_001,
        title="Victim issue with attachments",
        creator_type="member",
        creator_id=victim.owner.id,
        project=project,
    )
    IssueLabel.objects.create(issue=issue, label=label)
    attachment = Attachment(
        workspace=ws,
        issue=issue,
        uploader_type="member",
        uploader_id=victim.owner.id,
        filename="secret.txt",
        content_type="text/plain; charset=utf-8",
        size_bytes=6,
    )
    attachment.file.save("secret.txt", ContentFile(b"secret"), save=False)
    attachment.save()
    return {
        "label_id": label.id,
        "project_id": project.id,
        "attachment_id": attachment.id,
        "issue_id": issue.id,
    }
