"""Daemon task routes (daemon spec §1.7–§1.13)."""

from __future__ import annotations

from django.urls import path

from runtimes.api import task_views as v

T = "api/daemon/tasks/<uuid:task_id>/"
R = "api/daemon/runtimes/<uuid:runtime_id>/"

urlpatterns = [
    path("api/daemon/tasks/claim", v.ClaimView.as_view()),
    path("api/daemon/claim", v.ClaimView.as_view()),
    path(R + "tasks/claim", v.LegacyClaimView.as_view()),
    path(T + "start", v.StartView.as_view()),
    path(T + "wait-local-directory", v.WaitLocalDirectoryView.as_view()),
    path(T + "progress", v.ProgressView.as_view()),
    path(T + "messages", v.MessagesView.as_view()),
    path(T + "session", v.SessionView.as_view()),
    path(T + "status", v.StatusView.as_view()),
    path(T + "complete", v.CompleteView.as_view()),
    path(T + "fail", v.FailView.as_view()),
    path(T + "cancel-ack", v.CancelAckView.as_view()),
    path(T + "prepare-lease", v.PrepareLeaseView.as_view()),
    path(R + "tasks/<uuid:task_id>/prepare-lease", v.PrepareLeaseView.as_view()),
    path(R + "tasks/<uuid:task_id>/skill-bundles/resolve", v.SkillBundlesView.as_view()),
    path(R + "recover-orphans", v.RecoverOrphansView.as_view()),
    path("api/daemon/recover-orphans", v.RecoverOrphansView.as_view()),
]
