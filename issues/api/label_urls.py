from __future__ import annotations

from django.urls import path

from issues.api import label_views as views

urlpatterns = [
    path("api/labels", views.LabelListView.as_view(), name="label-list"),
    path("api/labels/<uuid:label_id>", views.LabelDetailView.as_view(), name="label-detail"),
]
