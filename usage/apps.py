from django.apps import AppConfig


class UsageConfig(AppConfig):
    name = "usage"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # A deleted workspace drops its rollup buckets directly (see rollup.workspace_teardown).
        from usage.services.rollup import workspace_teardown  # noqa: PLC0415
        from workspaces.services.workspaces import WORKSPACE_DELETING_HOOKS  # noqa: PLC0415

        if workspace_teardown not in WORKSPACE_DELETING_HOOKS:
            WORKSPACE_DELETING_HOOKS.append(workspace_teardown)
