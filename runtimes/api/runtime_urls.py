from django.urls import path

from runtimes.api import runtime_views as v

urlpatterns = [
    path("api/runtimes", v.RuntimeListView.as_view()),
    path("api/runtimes/<uuid:runtime_id>", v.RuntimeDetailView.as_view()),
]
