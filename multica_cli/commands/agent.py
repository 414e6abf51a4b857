"""``multica agent``: list, get, create, update, archive, restore, tasks, env and skills.

``custom_env`` is secret: agent resources only carry ``has_custom_env`` /
``custom_env_key_count``; values are read and written through ``agent env get|set``
(``GET/PUT /api/agents/{id}/env``, owner/admin only, audited). Prefer ``--custom-env-stdin``
or ``--custom-env-file`` to ``--custom-env``, which shows up in shell history and ``ps``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from multica_cli.client import ApiClient
from multica_cli.commands._common import (
    UUID_RE,
    parse_json_flag,
    resolve_by_prefix,
    split_ids,
    usage_error,
)
from multica_cli.context import Context
from multica_cli.output import emit, info, print_json, print_table

SKILL_IDS_HELP = "skill UUIDs, comma-separated (repeatable)"
AGENT_FIELDS = [
    ("ID", "id"),
    ("Name", "name"),
    ("Description", "description"),
    ("Status", "status"),
    ("Runtime", "runtime_id"),
    ("Model", "model"),
    ("Thinking level", "thinking_level"),
    ("Visibility", "visibility"),
    ("Max tasks", "max_concurrent_tasks"),
    ("Custom env keys", "custom_env_key_count"),
    ("Archived at", "archived_at"),
    ("Instructions", "instructions"),
]


def register(subparsers: argparse._SubParsersAction) -> None:
    agent = subparsers.add_parser("agent", help="work with agents")
    sub = agent.add_subparsers(dest="agent_command", metavar="<subcommand>", required=True)

    p = sub.add_parser("list", help="list agents (default output: table)")
    p.add_argument("--include-archived", action="store_true", help="include archived agents")
    p.set_defaults(func=cmd_list)

    p = sub.add_parser("get", help="show an agent (default output: json)")
    p.add_argument("id", help="agent UUID or id prefix")
    p.set_defaults(func=cmd_get)

    p = sub.add_parser("create", help="create an agent")
    p.add_argument("--name", required=True, help="agent name")
    p.add_argument("--runtime-id", required=True, help="runtime UUID")
    _agent_flags(p, create=True)
    p.set_defaults(func=cmd_create)

    p = sub.add_parser("update", help="update an agent (custom_env: use `agent env set`)")
    p.add_argument("id", help="agent UUID or id prefix")
    p.add_argument("--name", help="new name")
    p.add_argument("--runtime-id", help="new runtime UUID")
    p.add_argument("--status", help="new status")
    _agent_flags(p, create=False)
    p.set_defaults(func=cmd_update)

    for name, helptext in (("archive", "archive an agent"), ("restore", "restore an agent")):
        p = sub.add_parser(name, help=helptext)
        p.add_argument("id", help="agent UUID or id prefix")
        p.set_defaults(func=cmd_archive if name == "archive" else cmd_restore)

    p = sub.add_parser("tasks", help="an agent's tasks (default output: table)")
    p.add_argument("id", help="agent UUID or id prefix")
    p.set_defaults(func=cmd_tasks)

    env = sub.add_parser("env", help="read or replace an agent's custom_env (owner/admin)")
    esub = env.add_subparsers(dest="env_command", metavar="<subcommand>", required=True)
    p = esub.add_parser("get", help="show custom_env values (default output: json)")
    p.add_argument("id", help="agent UUID or id prefix")
    p.set_defaults(func=cmd_env_get)
    p = esub.add_parser("set", help="replace custom_env ('****' keeps a stored value)")
    p.add_argument("id", help="agent UUID or id prefix")
    _env_flags(p)
    p.set_defaults(func=cmd_env_set)

    skills = sub.add_parser("skills", help="skills bound to an agent")
    ssub = skills.add_subparsers(dest="skills_command", metavar="<subcommand>", required=True)
    p = ssub.add_parser("list", help="list bound skills (default output: table)")
    p.add_argument("id", help="agent UUID or id prefix")
    p.set_defaults(func=cmd_skills_list)
    p = ssub.add_parser("add", help="bind more skills (keeps existing bindings)")
    p.add_argument("id", help="agent UUID or id prefix")
    p.add_argument("--skill-ids", action="append", required=True, help=SKILL_IDS_HELP)
    p.set_defaults(func=cmd_skills_add)
    p = ssub.add_parser("set", help="replace all bindings (--skill-ids '' clears)")
    p.add_argument("id", help="agent UUID or id prefix")
    p.add_argument("--skill-ids", action="append", required=True, help=SKILL_IDS_HELP)
    p.set_defaults(func=cmd_skills_set)


def _env_flags(p: argparse.ArgumentParser) -> None:
    group = p.add_mutually_exclusive_group()
    group.add_argument(
        "--custom-env", help="JSON object (visible in shell history; prefer stdin or a file)"
    )
    group.add_argument("--custom-env-stdin", action="store_true", help="read the JSON from stdin")
    group.add_argument("--custom-env-file", help="read the JSON from a file (mode 0600 suggested)")


def _agent_flags(p: argparse.ArgumentParser, *, create: bool) -> None:
    p.add_argument("--description", help="catalog summary (not part of the prompt)")
    p.add_argument("--instructions", help="the agent's runtime instructions")
    p.add_argument("--runtime-config", help="runtime config as a JSON object")
    p.add_argument("--model", help="model identifier (empty: the runtime default)")
    p.add_argument("--thinking-level", help="reasoning/effort level")
    p.add_argument("--service-tier", help="Codex service tier")
    p.add_argument("--custom-args", help="extra CLI arguments as a JSON array")
    p.add_argument("--mcp-config", help="MCP configuration as a JSON object ('null' clears)")
    p.add_argument("--visibility", help="private or workspace")
    p.add_argument("--permission-mode", choices=("private", "public_to"), help="who may invoke it")
    p.add_argument("--public-to-workspace", action="store_true", help="public_to every member")
    p.add_argument("--public-to-member", action="append", default=[], help="member user id")
    p.add_argument("--max-concurrent-tasks", type=int, help="maximum concurrent tasks (1-50)")
    if create:
        _env_flags(p)


def agent_candidates(client: ApiClient) -> list[dict[str, Any]]:
    data = client.get("/api/agents", params={"include_archived": "true"})
    return data if isinstance(data, list) else []


def resolve_agent(client: ApiClient, ref: str) -> str:
    if UUID_RE.match(ref.strip()):
        return ref.strip()
    return resolve_by_prefix("agent", ref, agent_candidates(client))


def read_custom_env(args: argparse.Namespace) -> dict[str, str] | None:
    """The JSON object from --custom-env / --custom-env-stdin / --custom-env-file, or None.

    Empty input is refused (an unset pipe or a missing file must not wipe secrets); ``{}``
    clears. Values are never echoed in errors.
    """
    if getattr(args, "custom_env_stdin", False):
        raw, source = sys.stdin.read(), "stdin"
    elif getattr(args, "custom_env_file", None):
        path = Path(args.custom_env_file)
        try:
            raw = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise usage_error(f"cannot read --custom-env-file {path}: {exc.strerror}") from exc
        source = f"--custom-env-file {path}"
    elif getattr(args, "custom_env", None) is not None:
        raw, source = args.custom_env, "--custom-env"
    else:
        return None
    if not raw.strip():
        raise usage_error(f"custom env from {source} is empty; pass '{{}}' to clear it")
    try:
        value = json.loads(raw)
    except json.JSONDecodeError:
        raise usage_error(f"custom env from {source} is not valid JSON") from None
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        raise usage_error(f"custom env from {source} must be a JSON object of strings")
    return value


def _body(args: argparse.Namespace, *, create: bool) -> dict[str, Any]:
    body: dict[str, Any] = {}
    for flag in ("name", "runtime_id", "status"):
        value = getattr(args, flag, None)
        if value is not None:
            if not value.strip():
                raise usage_error(f"--{flag.replace('_', '-')} cannot be empty")
            body[flag] = value.strip() if flag != "name" else value
    for flag in ("description", "instructions"):
        value = getattr(args, flag)
        if value is not None and (value or not create):
            body[flag] = value
    for flag in ("model", "thinking_level", "service_tier", "visibility"):
        value = getattr(args, flag)
        if value is not None:
            body[flag] = value
    if args.runtime_config is not None:
        body["runtime_config"] = parse_json_flag(args.runtime_config, "--runtime-config", kind=dict)
    if args.custom_args is not None:
        custom_args = parse_json_flag(args.custom_args, "--custom-args", kind=list)
        if not all(isinstance(a, str) for a in custom_args):
            raise usage_error("--custom-args must be a JSON array of strings")
        body["custom_args"] = custom_args
    if args.mcp_config is not None:
        mcp = parse_json_flag(args.mcp_config, "--mcp-config")
        if mcp is not None and not isinstance(mcp, dict):
            raise usage_error("--mcp-config must be a JSON object or null")
        if mcp is not None or not create:
            body["mcp_config"] = mcp
    if args.permission_mode is not None:
        body["permission_mode"] = args.permission_mode
    targets: list[dict[str, Any]] = []
    if args.public_to_workspace:
        targets.append({"target_type": "workspace"})
    targets.extend({"target_type": "member", "target_id": m} for m in args.public_to_member)
    if targets:
        if body.get("permission_mode", "public_to") != "public_to":
            raise usage_error("--public-to-* needs --permission-mode public_to")
        body["permission_mode"] = "public_to"
        body["invocation_targets"] = targets
    if args.max_concurrent_tasks is not None:
        if not 1 <= args.max_concurrent_tasks <= 50:
            raise usage_error("--max-concurrent-tasks must be between 1 and 50")
        body["max_concurrent_tasks"] = args.max_concurrent_tasks
    if create:
        env = read_custom_env(args)
        if env is not None:
            body["custom_env"] = env
    return body


def cmd_list(ctx: Context, args: argparse.Namespace) -> None:
    params = {"include_archived": "true"} if args.include_archived else None
    agents = ctx.client().get("/api/agents", params=params) or []
    emit(agents, ctx.output, default="table",
         columns=[("ID", "id"), ("Name", "name"), ("Status", "status"),
                  ("Runtime", "runtime_mode"),
                  ("Archived", lambda a: "yes" if a.get("archived_at") else "")])  # fmt: skip


def cmd_get(ctx: Context, args: argparse.Namespace) -> None:
    client = ctx.client()
    agent = client.get(f"/api/agents/{resolve_agent(client, args.id)}")
    emit(agent, ctx.output, fields=AGENT_FIELDS)


def cmd_create(ctx: Context, args: argparse.Namespace) -> None:
    if not args.name.strip():
        raise usage_error("--name is required")
    body = _body(args, create=True)
    agent = ctx.client().post("/api/agents", json=body)
    info(f"Agent {agent.get('name', '')} created ({agent.get('id')}).")
    emit(agent, ctx.output, fields=AGENT_FIELDS)


def cmd_update(ctx: Context, args: argparse.Namespace) -> None:
    client = ctx.client()
    body = _body(args, create=False)
    if not body:
        raise usage_error("nothing to update: pass at least one field flag")
    agent = client.put(f"/api/agents/{resolve_agent(client, args.id)}", json=body)
    info(f"Agent {agent.get('name', '')} updated.")
    emit(agent, ctx.output, fields=AGENT_FIELDS)


def cmd_archive(ctx: Context, args: argparse.Namespace) -> None:
    client = ctx.client()
    agent = client.post(f"/api/agents/{resolve_agent(client, args.id)}/archive")
    info(f"Agent {agent.get('name', '')} archived.")
    emit(agent, ctx.output, fields=AGENT_FIELDS)


def cmd_restore(ctx: Context, args: argparse.Namespace) -> None:
    client = ctx.client()
    agent = client.post(f"/api/agents/{resolve_agent(client, args.id)}/restore")
    info(f"Agent {agent.get('name', '')} restored.")
    emit(agent, ctx.output, fields=AGENT_FIELDS)


def cmd_tasks(ctx: Context, args: argparse.Namespace) -> None:
    client = ctx.client()
    tasks = client.get(f"/api/agents/{resolve_agent(client, args.id)}/tasks") or []
    emit(tasks, ctx.output, default="table",
         columns=[("ID", "id"), ("Issue ID", "issue_id"), ("Status", "status"),
                  ("Created at", "created_at")])  # fmt: skip


def cmd_env_get(ctx: Context, args: argparse.Namespace) -> None:
    client = ctx.client()
    result = client.get(f"/api/agents/{resolve_agent(client, args.id)}/env")
    if (ctx.output or "json") == "json":
        print_json(result)
        return
    env = result.get("custom_env") or {}
    rows = [{"key": k, "value": v} for k, v in sorted(env.items())]
    print_table(rows, [("Key", "key"), ("Value", "value")])


def cmd_env_set(ctx: Context, args: argparse.Namespace) -> None:
    env = read_custom_env(args)
    if env is None:
        raise usage_error(
            "specify the new env via --custom-env, --custom-env-stdin or --custom-env-file "
            "(pass '{}' to clear)"
        )
    client = ctx.client()
    agent_id = resolve_agent(client, args.id)
    result = client.put(f"/api/agents/{agent_id}/env", json={"custom_env": env})
    if ctx.output == "json":
        print_json(result)
        return
    keys = result.get("custom_env") or {}
    info(f"Env updated for agent {agent_id} ({len(keys)} keys).")


def cmd_skills_list(ctx: Context, args: argparse.Namespace) -> None:
    client = ctx.client()
    skills = client.get(f"/api/agents/{resolve_agent(client, args.id)}/skills") or []
    emit(skills, ctx.output, default="table",
         columns=[("ID", "id"), ("Name", "name"), ("Description", "description")])  # fmt: skip


def cmd_skills_add(ctx: Context, args: argparse.Namespace) -> None:
    ids = split_ids(args.skill_ids)
    if not ids:
        raise usage_error("--skill-ids is required")
    client = ctx.client()
    result = client.post(
        f"/api/agents/{resolve_agent(client, args.id)}/skills/add", json={"skill_ids": ids}
    )
    info(f"{len(ids)} skill(s) bound.")
    emit(result, ctx.output, default="json",
         columns=[("ID", "id"), ("Name", "name")])  # fmt: skip


def cmd_skills_set(ctx: Context, args: argparse.Namespace) -> None:
    ids = split_ids(args.skill_ids)
    client = ctx.client()
    result = client.put(
        f"/api/agents/{resolve_agent(client, args.id)}/skills", json={"skill_ids": ids}
    )
    info(f"Agent skills set ({len(ids)}).")
    emit(result, ctx.output, default="json",
         columns=[("ID", "id"), ("Name", "name")])  # fmt: skip
