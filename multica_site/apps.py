from django.apps import AppConfig


class SiteConfig(AppConfig):
    """Project-level commands (``serve``, ``bootstrap``) and checks live here."""

    name = "multica_site"
    label = "multica_site"
    verbose_name = "Multica"
