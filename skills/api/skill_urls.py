from __future__ import annotations

from django.urls import path

from skills.api import skill_views as views

RT = "api/runtimes/<uuid:runtime_id>/local-skills"

urlpatterns = [
    path("api/skills", views.SkillListView.as_view(), name="skill-list"),
    path("api/skills/import", views.SkillImportView.as_view(), name="skill-import"),
    path("api/skills/<uuid:skill_id>", views.SkillDetailView.as_view(), name="skill-detail"),
    path("api/skills/<uuid:skill_id>/files", views.SkillFileListView.as_view(), name="skill-files"),
    path(
        "api/skills/<uuid:skill_id>/files/<uuid:file_id>",
        views.SkillFileDetailView.as_view(),
        name="skill-file-detail",
    ),
    path(RT, views.LocalSkillListRequestView.as_view(), name="local-skill-list"),
    path(f"{RT}/import", views.LocalSkillImportRequestView.as_view(), name="local-skill-import"),
    path(
        f"{RT}/import/<uuid:request_id>",
        views.LocalSkillImportRequestDetailView.as_view(),
        name="local-skill-import-detail",
    ),
    path(
        f"{RT}/<uuid:request_id>",
        views.LocalSkillListRequestDetailView.as_view(),
        name="local-skill-list-detail",
    ),
]
