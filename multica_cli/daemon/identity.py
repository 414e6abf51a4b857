"""The daemon's persistent id (daemon contract §1.3): ``--daemon-id`` > ``MULTICA_DAEMON_ID`` >
a UUIDv7 kept in ``~/.multica/daemon.id`` (machine-scoped, shared by every profile)."""

from __future__ import annotations

import contextlib
import os
import socket
import uuid
from pathlib import Path

import uuid6


def _home_root() -> Path:
    return Path.home() / ".multica"


def _valid(text: str) -> str | None:
    try:
        return str(uuid.UUID(text.strip()))
    except (ValueError, AttributeError):
        return None


def _write_id(path: Path, value: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(value + "\n")
        fh.flush()
        os.fsync(fh.fileno())
    tmp.replace(path)


def persistent_daemon_id(profile: str | None = None) -> str:
    """The machine's daemon id, minted on first use; a corrupt file is regenerated. On first
    creation a leftover ``profiles/<p>/daemon.id`` of the current profile is promoted."""
    path = _home_root() / "daemon.id"
    with contextlib.suppress(OSError):
        found = _valid(path.read_text())
        if found:
            return found
    value = None
    if profile:
        with contextlib.suppress(OSError):
            value = _valid((_home_root() / "profiles" / profile / "daemon.id").read_text())
    value = value or str(uuid6.uuid7())
    _write_id(path, value)
    return value


def resolve_daemon_id(flag: str | None, profile: str | None) -> str:
    return (
        (flag or "").strip()
        or os.environ.get("MULTICA_DAEMON_ID", "").strip()
        or (persistent_daemon_id(profile))
    )


def legacy_daemon_ids(current: str, profile: str | None) -> list[str]:
    """Ids earlier daemons of this machine may have registered under (merged server-side)."""
    host = socket.gethostname().strip()
    bases = {host, host.removesuffix(".local"), host.removesuffix(".local") + ".local"}
    out: list[str] = []
    for base in sorted(b for b in bases if b):
        out.append(base)
        if profile:
            out.append(f"{base}-{profile}")
    profiles = _home_root() / "profiles"
    if profiles.is_dir():
        for child in sorted(profiles.iterdir()):
            with contextlib.suppress(OSError):
                found = _valid((child / "daemon.id").read_text())
                if found:
                    out.append(found)
    return [x for x in dict.fromkeys(out) if x != current]
