"""Task routes for the web (spec §7.3)."""

from __future__ import annotations

from django.urls import path

from agents.api import task_views as v

ISSUE = "api/issues/<str:issue_id>"
TASK = "api/tasks/<uuid:task_id>"

urlpatterns = [
    path(f"{ISSUE}/task-runs", v.IssueTaskRunsView.as_view(), name="issue-task-runs"),
    path(f"{ISSUE}/active-task", v.IssueActiveTaskView.as_view(), name="issue-active-task"),
    path(
        f"{ISSUE}/tasks/<uuid:task_id>/cancel",
        v.IssueTaskCancelView.as_view(),
        name="issue-task-cancel",
    ),
    path(f"{ISSUE}/rerun", v.IssueRerunView.as_view(), name="issue-rerun"),
    path(f"{TASK}/cancel", v.TaskCancelView.as_view(), name="task-cancel"),
    path(f"{TASK}/messages", v.TaskMessagesView.as_view(), name="task-messages"),
]
