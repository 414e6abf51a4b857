from django.apps import AppConfig


class IssuesConfig(AppConfig):
    name = "issues"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Registrations: status seeding on workspace creation; comment hooks (attachment
        # changes re-publish comment:updated; member removal drops their subscriptions).
        from issues.services import comments, statuses  # noqa: PLC0415

        statuses.register()
        comments.register()
