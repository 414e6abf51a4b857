"""Profiles: where the CLI and the daemon keep their server, token and workspace (spec §5.1).

The default profile lives in ``~/.multica/config.json``, a named one in
``~/.multica/profiles/<name>/config.json``. Inside an agent task ``MULTICA_TASK_CONFIG_ROOT``
replaces ``~/.multica``. Files are written atomically with mode 0600, directories with 0700.

Resolution order for what a command uses: flag > environment > config file > default.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CLOUD_SERVER_URL = "https://api.multica.ai"
CLOUD_APP_URL = "https://multica.ai"
DEFAULT_HEALTH_PORT = 19514

_PROFILE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


class ConfigError(Exception):
    """A profile name or config file that cannot be used."""


@dataclass
class Profile:
    """One resolved profile. ``data`` holds every key of the file, including unknown ones."""

    name: str | None
    server_url: str
    app_url: str
    token: str
    workspace_id: str
    data: dict[str, Any] = field(default_factory=dict)

    def get(self, key: str, default: Any = None) -> Any:
        return self.data.get(key, default)


def config_root() -> Path:
    """``$MULTICA_TASK_CONFIG_ROOT`` when set (inside a task), else ``~/.multica``."""
    override = os.environ.get("MULTICA_TASK_CONFIG_ROOT", "").strip()
    if override:
        return Path(override).expanduser()
    return Path.home() / ".multica"


def validate_profile_name(name: str | None) -> str | None:
    if name in (None, ""):
        return None
    if not _PROFILE_NAME.match(name) or name in (".", ".."):
        raise ConfigError(f"invalid profile name {name!r}: use letters, digits, '.', '_' or '-'")
    return name


def _profile_dir(name: str | None) -> Path:
    name = validate_profile_name(name)
    root = config_root()
    return root if name is None else root / "profiles" / name


def _ensure_dir(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    with contextlib.suppress(OSError):
        path.chmod(0o700)
    return path


def state_dir(name: str | None) -> Path:
    """The profile's state directory (daemon pid, logs, config), created with mode 0700."""
    return _ensure_dir(_profile_dir(name))


def config_path(name: str | None) -> Path:
    """Path of the profile's ``config.json`` (not created)."""
    return _profile_dir(name) / "config.json"


def health_port(name: str | None) -> int:
    """The daemon's local health/IPC port for a profile (spec §6)."""
    name = validate_profile_name(name)
    if name is None:
        return DEFAULT_HEALTH_PORT
    return DEFAULT_HEALTH_PORT + 1 + (sum(name.encode()) % 1000)


def read_config(name: str | None) -> dict[str, Any]:
    """The raw contents of a profile's config file; ``{}`` when it does not exist."""
    path = config_path(name)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror}") from exc
    if not text.strip():
        return {}
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{path} is not valid JSON: {exc.msg}") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"{path} must hold a JSON object")
    return data


def write_json_atomic(path: Path, data: Any, *, mode: int = 0o600) -> None:
    """Write JSON to ``path`` via a temporary file in the same directory and ``os.replace``."""
    _ensure_dir(path.parent)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(data, fh, indent=2, sort_keys=True)
            fh.write("\n")
            fh.flush()
            os.fsync(fh.fileno())
        Path(tmp).replace(path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            Path(tmp).unlink()
        raise


def write_config(name: str | None, data: dict[str, Any]) -> None:
    """Replace a profile's config file with ``data`` (empty values are dropped)."""
    clean = {k: v for k, v in data.items() if v not in (None, "")}
    write_json_atomic(config_path(name), clean)


def normalize_server_url(url: str) -> str:
    """ws/wss → http/https; drop a trailing ``/ws`` path, query, fragment and trailing slash."""
    url = url.strip()
    if not url:
        return ""
    if url.startswith("ws://"):
        url = "http://" + url[len("ws://") :]
    elif url.startswith("wss://"):
        url = "https://" + url[len("wss://") :]
    url = url.split("#", 1)[0].split("?", 1)[0]
    url = url.rstrip("/")
    if url.endswith("/ws") and url.count("/") == 3:
        url = url[: -len("/ws")]
    return url


def _env(name: str) -> str:
    return os.environ.get(name, "").strip()


def load_profile(
    name: str | None = None,
    *,
    server_url: str | None = None,
    workspace_id: str | None = None,
) -> Profile:
    """Resolve a profile: flag > environment > config file > default.

    ``server_url`` and ``workspace_id`` are the values of the ``--server-url`` /
    ``--workspace-id`` flags (None or empty when not given). The token comes from
    ``MULTICA_TOKEN`` or the file; the app URL from ``MULTICA_APP_URL`` /
    ``FRONTEND_ORIGIN`` or the file.
    """
    name = validate_profile_name(name)
    data = read_config(name)
    resolved_server = (
        (server_url or "").strip()
        or _env("MULTICA_SERVER_URL")
        or str(data.get("server_url") or "")
    )
    resolved_app = (
        _env("MULTICA_APP_URL") or _env("FRONTEND_ORIGIN") or str(data.get("app_url") or "")
    )
    resolved_ws = (
        (workspace_id or "").strip()
        or _env("MULTICA_WORKSPACE_ID")
        or str(data.get("workspace_id") or "")
    )
    resolved_token = _env("MULTICA_TOKEN") or str(data.get("token") or "")
    return Profile(
        name=name,
        server_url=normalize_server_url(resolved_server),
        app_url=resolved_app.rstrip("/"),
        token=resolved_token,
        workspace_id=resolved_ws,
        data=data,
    )


def save_profile(profile: Profile) -> None:
    """Write the profile back: its ``data`` with the four main fields laid over it.

    Only what is in ``profile`` is written; values that came from the environment are saved
    too, so callers that do not want that should build the Profile from ``read_config``.
    """
    data = dict(profile.data)
    data["server_url"] = profile.server_url
    data["app_url"] = profile.app_url
    data["token"] = profile.token
    data["workspace_id"] = profile.workspace_id
    write_config(profile.name, data)


def update_config(name: str | None, **changes: Any) -> dict[str, Any]:
    """Set (or, with None/"", remove) keys in the profile's file only; returns the new data.

    Unlike :func:`save_profile` nothing from the environment leaks into the file.
    """
    data = read_config(name)
    for key, value in changes.items():
        if value is None or value == "":
            data.pop(key, None)
        else:
            data[key] = value
    write_config(name, data)
    return data
