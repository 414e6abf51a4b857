"""Helpers shared by the command groups: text and JSON inputs, id resolution, actor names."""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Any

from multica_cli.client import EXIT_VALIDATION, ApiClient, ApiError
from multica_cli.context import CliError

UUID_RE = re.compile(
    r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
)
ISSUE_KEY_RE = re.compile(r"^[A-Za-z][A-Za-z0-9]*-\d+$")
MIN_PREFIX = 4


def usage_error(message: str) -> CliError:
    return CliError(message, EXIT_VALIDATION)


def decode_escapes(text: str) -> str:
    r"""Decode ``\n``, ``\r``, ``\t`` and ``\\`` in an inline flag value (Multica's CLI does)."""
    out: list[str] = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "\\" and i + 1 < len(text):
            nxt = text[i + 1]
            mapped = {"n": "\n", "r": "\r", "t": "\t", "\\": "\\"}.get(nxt)
            if mapped is not None:
                out.append(mapped)
                i += 2
                continue
        out.append(ch)
        i += 1
    return "".join(out)


def add_text_flags(parser: argparse.ArgumentParser, name: str, help_text: str) -> None:
    """``--<name>``, ``--<name>-stdin`` and ``--<name>-file`` (mutually exclusive)."""
    group = parser.add_mutually_exclusive_group()
    group.add_argument(f"--{name}", default=None, help=help_text)
    group.add_argument(
        f"--{name}-stdin", action="store_true", help=f"read the {name} from stdin (verbatim)"
    )
    group.add_argument(f"--{name}-file", default=None, help=f"read the {name} from a UTF-8 file")


def read_text_flag(args: argparse.Namespace, name: str) -> str | None:
    """The value of a text flag trio, or None when none of them was given."""
    dest = name.replace("-", "_")
    if getattr(args, f"{dest}_stdin", False):
        return sys.stdin.read()
    path = getattr(args, f"{dest}_file", None)
    if path:
        try:
            return Path(path).read_text(encoding="utf-8")
        except OSError as exc:
            raise usage_error(f"cannot read --{name}-file {path}: {exc.strerror}") from exc
        except UnicodeDecodeError as exc:
            raise usage_error(f"--{name}-file {path} is not UTF-8 text") from exc
    value = getattr(args, dest, None)
    if value is None:
        return None
    return decode_escapes(value)


def parse_json_flag(raw: str, flag: str, *, kind: type | None = None) -> Any:
    try:
        value = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise usage_error(f"{flag} is not valid JSON: {exc.msg}") from exc
    if kind is dict and not isinstance(value, dict):
        raise usage_error(f"{flag} must be a JSON object")
    if kind is list and not isinstance(value, list):
        raise usage_error(f"{flag} must be a JSON array")
    return value


def split_ids(values: list[str] | None) -> list[str]:
    """``--skill-ids a,b --skill-ids c`` → ``[a, b, c]`` (empty strings dropped)."""
    out: list[str] = []
    for value in values or []:
        out.extend(part.strip() for part in value.split(",") if part.strip())
    return out


def resolve_issue_ref(ref: str) -> str:
    """An issue key (``MUL-123``) or a full UUID; the server resolves both on /api/issues/{id}."""
    ref = ref.strip()
    if not ref:
        raise usage_error("issue id is required")
    if UUID_RE.match(ref) or ISSUE_KEY_RE.match(ref):
        return ref.upper() if ISSUE_KEY_RE.match(ref) else ref
    raise usage_error(f"expected an issue key like MUL-123 or a full UUID, got {ref!r}")


def require_uuid(kind: str, ref: str) -> str:
    """A full UUID (routes that take no key or prefix), or a usage error."""
    ref = ref.strip()
    if not UUID_RE.match(ref):
        raise usage_error(f"expected a full {kind} UUID, got {ref!r}")
    return ref.lower()


def display_id(value: Any, full: bool) -> str:
    """An id for a table cell: the full UUID with ``--full-id``, else its first 8 characters."""
    return str(value or "") if full else short_id(value)


def resolve_by_prefix(kind: str, ref: str, candidates: list[dict[str, Any]]) -> str:
    """A full UUID as is; a short hex prefix (≥4) matched against ``candidates``' ``id``."""
    ref = ref.strip()
    if not ref:
        raise usage_error(f"{kind} id is required")
    if UUID_RE.match(ref):
        return ref
    prefix = ref.replace("-", "").lower()
    if len(prefix) < MIN_PREFIX or not all(c in "0123456789abcdef" for c in prefix):
        raise usage_error(
            f"expected a full {kind} UUID or at least {MIN_PREFIX} hex characters, got {ref!r}"
        )
    matches = [
        str(c["id"])
        for c in candidates
        if c.get("id") and str(c["id"]).replace("-", "").lower().startswith(prefix)
    ]
    if not matches:
        raise CliError(f"no {kind} found matching id prefix {ref!r}", 4)
    if len(matches) > 1:
        raise usage_error(f"ambiguous {kind} id prefix {ref!r}: " + ", ".join(sorted(matches)))
    return matches[0]


def short_id(value: Any) -> str:
    text = str(value or "")
    return text[:8]


class Actors:
    """Names of members and agents, fetched once, for tables and assignee resolution."""

    def __init__(self, client: ApiClient) -> None:
        self.client = client
        self._members: list[dict[str, Any]] | None = None
        self._agents: list[dict[str, Any]] | None = None

    def members(self) -> list[dict[str, Any]]:
        if self._members is None:
            data = self.client.get(f"/api/workspaces/{self.client.workspace_id}/members")
            self._members = data if isinstance(data, list) else []
        return self._members

    def agents(self) -> list[dict[str, Any]]:
        if self._agents is None:
            data = self.client.get("/api/agents", params={"include_archived": "true"})
            self._agents = data if isinstance(data, list) else []
        return self._agents

    def name(self, actor_type: str | None, actor_id: str | None) -> str:
        if not actor_type or not actor_id:
            return ""
        try:
            if actor_type == "member":
                for m in self.members():
                    if str(m.get("user_id")) == str(actor_id):
                        return str(m.get("name") or m.get("email") or short_id(actor_id))
            elif actor_type == "agent":
                for a in self.agents():
                    if str(a.get("id")) == str(actor_id):
                        return str(a.get("name") or short_id(actor_id))
        except ApiError:
            pass
        return f"{actor_type}:{short_id(actor_id)}"

    def resolve(self, name: str) -> tuple[str, str]:
        """A member or agent by UUID, 8-character short id, e-mail, exact or partial name."""
        text = name.strip().lstrip("@").strip()
        if not text:
            raise usage_error("assignee name is required")
        lower = text.lower()
        by_id: list[tuple[str, str, str]] = []
        exact: list[tuple[str, str, str]] = []
        partial: list[tuple[str, str, str]] = []

        def classify(kind: str, ident: str, display: str, *aliases: str) -> None:
            entry = (kind, ident, display)
            id_hit = bool(ident) and lower in (ident.lower(), ident[:8].lower())
            if id_hit or any(a and a.lower() == lower for a in aliases):
                by_id.append(entry)
            elif display.lower() == lower:
                exact.append(entry)
            elif lower in display.lower():
                partial.append(entry)

        for m in self.members():
            classify("member", str(m.get("user_id") or ""), str(m.get("name") or ""),
                     str(m.get("email") or ""))  # fmt: skip
        for a in self.agents():
            if a.get("archived_at"):
                continue
            classify("agent", str(a.get("id") or ""), str(a.get("name") or ""))
        for bucket in (by_id, exact, partial):
            if len(bucket) == 1:
                return bucket[0][0], bucket[0][1]
            if len(bucket) > 1:
                names = ", ".join(f"{k} {d!r} ({short_id(i)})" for k, i, d in bucket)
                raise usage_error(f"ambiguous assignee {text!r}; matches: {names}")
        raise CliError(f"no member or agent found matching {text!r}", 4)

    def resolve_id(self, ident: str) -> tuple[str, str]:
        """A member's user id or an agent id, strictly (a full UUID)."""
        ident = ident.strip()
        if not UUID_RE.match(ident):
            raise usage_error(f"expected a canonical UUID, got {ident!r}")
        for m in self.members():
            if str(m.get("user_id")).lower() == ident.lower():
                return "member", str(m["user_id"])
        for a in self.agents():
            if str(a.get("id")).lower() == ident.lower():
                return "agent", str(a["id"])
        raise CliError(f"no member or agent found with ID {ident!r}", 4)


def pick_assignee(
    actors: Actors, name: str | None, ident: str | None, name_flag: str, id_flag: str
) -> tuple[str, str] | None:
    if name is not None and ident is not None:
        raise usage_error(f"{name_flag} and {id_flag} are mutually exclusive")
    if ident is not None:
        return actors.resolve_id(ident)
    if name is not None:
        return actors.resolve(name)
    return None


def date_only(value: Any) -> str:
    text = str(value or "")
    return text[:10]
