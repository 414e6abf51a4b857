from django.urls import path

from runtimes.api import daemon_views as v

urlpatterns = [
    path("api/daemon/workspaces", v.DaemonWorkspacesView.as_view()),
    path("api/daemon/workspaces/<uuid:workspace_id>/repos", v.DaemonWorkspaceReposView.as_view()),
    path("api/daemon/register", v.DaemonRegisterView.as_view()),
    path("api/daemon/deregister", v.DaemonDeregisterView.as_view()),
    path("api/daemon/heartbeat", v.DaemonHeartbeatView.as_view()),
    path(
        "api/daemon/runtimes/<uuid:runtime_id>/local-skills/import/<uuid:request_id>/result",
        v.DaemonLocalSkillImportResultView.as_view(),
    ),
    path(
        "api/daemon/runtimes/<uuid:runtime_id>/local-skills/<uuid:request_id>/result",
        v.DaemonLocalSkillsResultView.as_view(),
    ),
]
