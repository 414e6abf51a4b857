from django.apps import AppConfig


class IssuesConfig(AppConfig):
    name = "issues"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from issues.services import statuses  # noqa: PLC0415 - registers the seeding hook

        statuses.register()
