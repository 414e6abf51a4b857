"""What every command handler receives: resolved flags, the profile and an API client."""

from __future__ import annotations

import argparse
import os
from dataclasses import dataclass, field

from multica_cli.client import EXIT_AUTH, EXIT_GENERIC, ApiClient, ApiError
from multica_cli.config import Profile, load_profile


class CliError(Exception):
    """A user-facing failure: printed as one line on stderr, exits with ``exit_code``."""

    def __init__(self, message: str, exit_code: int = EXIT_GENERIC) -> None:
        super().__init__(message)
        self.message = message
        self.exit_code = exit_code


def daemon_managed() -> bool:
    """True inside an agent task started by the daemon (spec §4.4)."""
    return any(
        os.environ.get(name, "").strip()
        for name in ("MULTICA_TASK_ID", "MULTICA_AGENT_ID", "MULTICA_DAEMON_PORT")
    )


@dataclass
class Context:
    """Global flags plus lazily loaded profile and client."""

    profile_name: str | None = None
    server_url: str | None = None
    workspace_id: str | None = None
    output: str | None = None
    debug: bool = False
    _profile: Profile | None = field(default=None, repr=False)
    _client: ApiClient | None = field(default=None, repr=False)

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> Context:
        return cls(
            profile_name=getattr(args, "profile", None) or None,
            server_url=getattr(args, "server_url", None) or None,
            workspace_id=getattr(args, "workspace_id", None) or None,
            output=getattr(args, "output", None) or None,
            debug=bool(getattr(args, "debug", False)),
        )

    @property
    def profile(self) -> Profile:
        if self._profile is None:
            profile = load_profile(
                self.profile_name, server_url=self.server_url, workspace_id=self.workspace_id
            )
            if daemon_managed():
                # Inside a task: the task token and workspace from the environment only, never
                # a fallback to a human's stored credentials (spec §4.4).
                profile.token = os.environ.get("MULTICA_TOKEN", "").strip()
                profile.workspace_id = (self.workspace_id or "").strip() or os.environ.get(
                    "MULTICA_WORKSPACE_ID", ""
                ).strip()
            self._profile = profile
        return self._profile

    def reload(self) -> None:
        """Forget the cached profile and client (after the config file changed)."""
        self.close()
        self._profile = None

    def client(self, *, workspace: bool = True, auth: bool = True) -> ApiClient:
        """An API client for the profile; ``workspace``/``auth`` demand those are configured."""
        if self._client is None:
            profile = self.profile
            if auth and not profile.token:
                raise CliError("not logged in: run `multica login`", EXIT_AUTH)
            if daemon_managed() and not profile.token.startswith("mat_"):
                raise CliError(
                    "inside an agent task MULTICA_TOKEN must be a task token (mat_…)", EXIT_AUTH
                )
            self._client = ApiClient(profile.server_url, profile.token, profile.workspace_id)
        if auth and not self._client.token:
            raise CliError("not logged in: run `multica login`", EXIT_AUTH)
        if workspace and not self._client.workspace_id:
            raise CliError(
                "no workspace selected: run `multica workspace use <id>` or pass --workspace-id"
            )
        return self._client

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None


__all__ = ["ApiError", "CliError", "Context"]
