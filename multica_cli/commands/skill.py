"""``multica skill``: list, get, create, update, delete, import and files."""

from __future__ import annotations

import argparse
import io
import sys
import zipfile
from pathlib import Path
from typing import Any

from multica_cli.client import EXIT_GENERIC, ApiClient
from multica_cli.commands._common import (
    UUID_RE,
    add_text_flags,
    parse_json_flag,
    read_text_flag,
    resolve_by_prefix,
    usage_error,
)
from multica_cli.context import Context
from multica_cli.output import emit, info, print_json

CONFLICT_STRATEGIES = ("fail", "overwrite", "rename", "skip")
IMPORT_TIMEOUT = 60.0
MAX_ARCHIVE_BYTES = 8 * 1024 * 1024
SKILL_FIELDS = [
    ("ID", "id"),
    ("Name", "name"),
    ("Description", "description"),
    ("Source", "source"),
    ("Files", lambda s: len(s.get("files") or [])),
    ("Updated", "updated_at"),
    ("Content", "content"),
]


def register(subparsers: argparse._SubParsersAction) -> None:
    skill = subparsers.add_parser("skill", help="workspace skills")
    sub = skill.add_subparsers(dest="skill_command", metavar="<subcommand>", required=True)

    p = sub.add_parser("list", help="list skills (default output: table)")
    p.set_defaults(func=cmd_list)
    p = sub.add_parser("get", help="show a skill with its files (default output: json)")
    p.add_argument("id", help="skill UUID or id prefix")
    p.set_defaults(func=cmd_get)

    p = sub.add_parser("create", help="create a skill")
    p.add_argument("--name", required=True, help="skill name")
    p.add_argument("--description", help="skill description")
    add_text_flags(p, "content", "SKILL.md body")
    p.add_argument("--config", help="skill config as a JSON object")
    p.set_defaults(func=cmd_create)

    p = sub.add_parser("update", help="update a skill")
    p.add_argument("id", help="skill UUID or id prefix")
    p.add_argument("--name", help="new name")
    p.add_argument("--description", help="new description")
    add_text_flags(p, "content", "new SKILL.md body")
    p.add_argument("--config", help="new config as a JSON object")
    p.set_defaults(func=cmd_update)

    p = sub.add_parser("delete", help="delete a skill")
    p.add_argument("id", help="skill UUID or id prefix")
    p.add_argument("-y", "--yes", action="store_true", help="do not ask for confirmation")
    p.set_defaults(func=cmd_delete)

    p = sub.add_parser("import", help="import a .skill/.zip archive or a skill directory")
    source = p.add_mutually_exclusive_group(required=True)
    source.add_argument("--file", help="a .skill/.zip archive, or a directory with SKILL.md")
    source.add_argument("--url", help="a URL to import from (if the server allows it)")
    p.add_argument("--on-conflict", choices=CONFLICT_STRATEGIES, default="fail",
                   help="when a skill of that name exists (default: fail)")  # fmt: skip
    p.set_defaults(func=cmd_import)

    files = sub.add_parser("files", help="a skill's supporting files")
    fsub = files.add_subparsers(dest="files_command", metavar="<subcommand>", required=True)
    p = fsub.add_parser("list", help="list files (default output: table)")
    p.add_argument("id", help="skill UUID or id prefix")
    p.set_defaults(func=cmd_files_list)
    p = fsub.add_parser("upsert", help="create or replace a file")
    p.add_argument("id", help="skill UUID or id prefix")
    p.add_argument("--path", required=True, help="path inside the skill")
    add_text_flags(p, "content", "file content")
    p.set_defaults(func=cmd_files_upsert)
    p = fsub.add_parser("delete", help="delete a file")
    p.add_argument("id", help="skill UUID or id prefix")
    p.add_argument("file_id", help="file UUID")
    p.set_defaults(func=cmd_files_delete)


def resolve_skill(client: ApiClient, ref: str) -> str:
    if UUID_RE.match(ref.strip()):
        return ref.strip()
    skills = client.get("/api/skills") or []
    return resolve_by_prefix("skill", ref, skills)


def _config(args: argparse.Namespace) -> Any:
    if args.config is None:
        return None
    return parse_json_flag(args.config, "--config", kind=dict)


def cmd_list(ctx: Context, args: argparse.Namespace) -> None:
    skills = ctx.client().get("/api/skills") or []
    emit(skills, ctx.output, default="table",
         columns=[("ID", "id"), ("Name", "name"), ("Description", "description")])  # fmt: skip


def cmd_get(ctx: Context, args: argparse.Namespace) -> None:
    client = ctx.client()
    skill = client.get(f"/api/skills/{resolve_skill(client, args.id)}")
    emit(skill, ctx.output, fields=SKILL_FIELDS)


def cmd_create(ctx: Context, args: argparse.Namespace) -> None:
    if not args.name.strip():
        raise usage_error("--name is required")
    body: dict[str, Any] = {"name": args.name}
    if args.description is not None:
        body["description"] = args.description
    content = read_text_flag(args, "content")
    if content is not None:
        body["content"] = content
    config = _config(args)
    if config is not None:
        body["config"] = config
    skill = ctx.client().post("/api/skills", json=body)
    info(f"Skill {skill.get('name', '')} created ({skill.get('id')}).")
    emit(skill, ctx.output, fields=SKILL_FIELDS)


def cmd_update(ctx: Context, args: argparse.Namespace) -> None:
    body: dict[str, Any] = {}
    if args.name is not None:
        body["name"] = args.name
    if args.description is not None:
        body["description"] = args.description
    content = read_text_flag(args, "content")
    if content is not None:
        body["content"] = content
    config = _config(args)
    if config is not None:
        body["config"] = config
    if not body:
        raise usage_error("nothing to update: pass --name, --description, --content or --config")
    client = ctx.client()
    skill = client.put(f"/api/skills/{resolve_skill(client, args.id)}", json=body)
    info(f"Skill {skill.get('name', '')} updated.")
    emit(skill, ctx.output, fields=SKILL_FIELDS)


def cmd_delete(ctx: Context, args: argparse.Namespace) -> int:
    client = ctx.client()
    skill_id = resolve_skill(client, args.id)
    if not args.yes:
        sys.stderr.write(f"Delete skill {skill_id}? This cannot be undone. [y/N] ")
        sys.stderr.flush()
        if sys.stdin.readline().strip().lower() not in ("y", "yes"):
            info("Aborted.")
            return EXIT_GENERIC
    client.delete(f"/api/skills/{skill_id}")
    info(f"Skill deleted: {skill_id}")
    return 0


def zip_directory(root: Path) -> bytes:
    """A skill directory as a zip (``<dir>/SKILL.md`` …), skipping dot-files."""
    if not (root / "SKILL.md").is_file():
        raise usage_error(f"{root} has no SKILL.md")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in sorted(root.rglob("*")):
            rel = path.relative_to(root)
            if any(part.startswith(".") for part in rel.parts) or not path.is_file():
                continue
            zf.write(path, f"{root.name}/{rel.as_posix()}")
    return buffer.getvalue()


def cmd_import(ctx: Context, args: argparse.Namespace) -> None:
    client = ctx.client()
    if args.url:
        result = client.post(
            "/api/skills/import",
            json={"url": args.url, "on_conflict": args.on_conflict},
            timeout=max(IMPORT_TIMEOUT, client.timeout),
        )
    else:
        path = Path(args.file).expanduser()
        if path.is_dir():
            data, filename = zip_directory(path), f"{path.resolve().name}.zip"
        else:
            try:
                data = path.read_bytes()
            except OSError as exc:
                raise usage_error(f"cannot read {path}: {exc.strerror}") from exc
            filename = path.name
        if len(data) > MAX_ARCHIVE_BYTES:
            raise usage_error(f"{path} is larger than {MAX_ARCHIVE_BYTES // (1024 * 1024)} MiB")
        result = client.post(
            "/api/skills/import",
            files={"file": (filename, data, "application/zip")},
            data={"on_conflict": args.on_conflict},
            timeout=max(IMPORT_TIMEOUT, client.timeout),
        )
    skill = result.get("skill") if isinstance(result, dict) and "skill" in result else result
    if isinstance(skill, dict) and skill.get("name"):
        info(f"Skill {skill.get('name')} imported ({skill.get('id')}).")
    if (ctx.output or "json") == "json":
        print_json(result)
    else:
        emit(skill, "table", fields=SKILL_FIELDS)


def cmd_files_list(ctx: Context, args: argparse.Namespace) -> None:
    client = ctx.client()
    files = client.get(f"/api/skills/{resolve_skill(client, args.id)}/files") or []
    emit(files, ctx.output, default="table",
         columns=[("ID", "id"), ("Path", "path"), ("Size", "size_bytes")])  # fmt: skip


def cmd_files_upsert(ctx: Context, args: argparse.Namespace) -> None:
    content = read_text_flag(args, "content")
    if content is None:
        raise usage_error("--content, --content-stdin or --content-file is required")
    client = ctx.client()
    result = client.put(
        f"/api/skills/{resolve_skill(client, args.id)}/files",
        json={"path": args.path, "content": content},
    )
    info(f"File {args.path} saved.")
    emit(result, ctx.output, fields=[("ID", "id"), ("Path", "path")])


def cmd_files_delete(ctx: Context, args: argparse.Namespace) -> None:
    client = ctx.client()
    client.delete(f"/api/skills/{resolve_skill(client, args.id)}/files/{args.file_id}")
    info(f"File {args.file_id} deleted.")
