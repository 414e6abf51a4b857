from django.apps import AppConfig


class AgentsConfig(AppConfig):
    name = "agents"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Startup wiring into other domains: project-lead and involvement checks (registry);
        # assignment/mention/comment triggers, task cancellation on deletes, the agent-assignee
        # check and the "task" realtime scope (dispatch).
        from agents import registry  # noqa: PLC0415 - models must be loaded first
        from agents.services import dispatch  # noqa: PLC0415

        registry.register()
        dispatch.register()
