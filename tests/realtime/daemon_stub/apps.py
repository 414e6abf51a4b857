from django.apps import AppConfig

GRANTED_PREFIX = "aaaaaaaa"


def grant_prefixed(user, credential, runtime_ids):
    return all(r.startswith(GRANTED_PREFIX) for r in runtime_ids)


def heartbeat(consumer, payload):
    return {
        "type": "daemon:heartbeat_ack",
        "payload": {"runtime_id": payload.get("runtime_id"), "status": "ok"},
    }


class DaemonStubConfig(AppConfig):
    name = "tests.realtime.daemon_stub"
    label = "daemon_stub"

    def ready(self) -> None:
        from workspaces.consumers import DAEMON_FRAME_HANDLERS, DAEMON_RUNTIME_AUTHORIZERS

        DAEMON_RUNTIME_AUTHORIZERS.append(grant_prefixed)
        DAEMON_FRAME_HANDLERS["daemon:heartbeat"] = heartbeat
