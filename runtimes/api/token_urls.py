from django.urls import path

from runtimes.api import token_views as v

urlpatterns = [
    path("api/daemon-tokens", v.DaemonTokenListView.as_view()),
    path("api/daemon-tokens/<uuid:token_id>", v.DaemonTokenDetailView.as_view()),
]
