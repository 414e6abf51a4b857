from django.apps import AppConfig


class WorkspacesConfig(AppConfig):
    """Users, authentication, workspaces, members, invitations and the tenancy resolver."""

    name = "workspaces"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from workspaces import realtime, schema  # noqa: F401, PLC0415 - registrations

        realtime.register()
