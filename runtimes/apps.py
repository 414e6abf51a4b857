from django.apps import AppConfig


class RuntimesConfig(AppConfig):
    name = "runtimes"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from runtimes import auth_tasks, daemon_socket  # noqa: PLC0415

        daemon_socket.register()  # mdt_ resolver, daemon socket authorizer + heartbeat frames
        auth_tasks.register()  # mat_ resolver and the agent actor (the task side)
