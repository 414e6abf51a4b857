"""Skills installed on this machine (daemon contract §5.6, §1.11): the inventory the server asks
for in a heartbeat (``pending_local_skills``) and the bundles it imports
(``pending_local_skill_import(s)``)."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

MAX_DEPTH = 4
MAX_SKILL_MD = 1024 * 1024
MAX_BUNDLE = 8 * 1024 * 1024
MAX_FILES = 256
FRONTMATTER = re.compile(r"\A---\r?\n(.*?\r?\n)---", re.DOTALL)
CAN_DISABLE = frozenset({"claude", "codex"})


def roots(provider: str) -> list[Path]:
    """Where ``provider`` keeps user-installed skills, then the universal ``~/.agents/skills``."""
    home = Path.home()
    special = {
        "codex": Path(os.environ.get("CODEX_HOME") or home / ".codex") / "skills",
        "opencode": home / ".config" / "opencode" / "skills",
        "pi": home / ".pi" / "agent" / "skills",
    }
    first = special.get(provider, home / f".{provider}" / "skills")
    return [first, home / ".agents" / "skills"]


def frontmatter(text: str) -> dict[str, str]:
    """``name`` and ``description`` of a SKILL.md front matter (flat YAML keys)."""
    match = FRONTMATTER.match(text)
    out: dict[str, str] = {}
    if not match:
        return out
    for line in match.group(1).splitlines():
        key, sep, value = line.partition(":")
        if not sep or line[:1].isspace() or key.strip() not in ("name", "description"):
            continue
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        out[key.strip()] = value
    return out


def _walk(root: Path) -> list[Path]:
    """Skill directories under ``root`` (a directory holding SKILL.md is not descended)."""
    found: list[Path] = []
    seen: set[str] = set()

    def visit(directory: Path, depth: int) -> None:
        try:
            real = str(directory.resolve())
        except OSError:
            return
        if real in seen or depth > MAX_DEPTH:
            return
        seen.add(real)
        if (directory / "SKILL.md").is_file():
            found.append(directory)
            return
        try:
            children = sorted(directory.iterdir())
        except OSError:
            return
        for child in children:
            if not child.name.startswith(".") and child.is_dir():
                visit(child, depth + 1)

    if root.is_dir():
        visit(root, 0)
    return found


def inventory(provider: str) -> list[dict[str, Any]]:
    """Every local skill of ``provider`` (first root wins on a duplicate key), sorted by key."""
    skills: dict[str, dict[str, Any]] = {}
    for root in roots(provider):
        for directory in _walk(root):
            key = directory.relative_to(root).as_posix()
            if key in skills or key == ".":
                continue
            skill_md = directory / "SKILL.md"
            try:
                if skill_md.stat().st_size > MAX_SKILL_MD:
                    continue
                meta = frontmatter(skill_md.read_text(encoding="utf-8", errors="replace"))
            except OSError:
                continue
            skills[key] = {
                "key": key,
                "name": meta.get("name") or directory.name,
                "description": meta.get("description", ""),
                "source_path": str(directory),
                "provider": provider,
                "root": str(root),
                "plugin": "",
                "can_disable": provider in CAN_DISABLE,
                "file_count": len(_files(directory)),
            }
    return [skills[k] for k in sorted(skills)]


def _files(directory: Path) -> list[Path]:
    out = []
    for path in sorted(directory.rglob("*")):
        rel = path.relative_to(directory)
        if any(part.startswith(".") for part in rel.parts) or not path.is_file():
            continue
        if path.name == "SKILL.md" and len(rel.parts) == 1:
            continue
        if path.name.upper().startswith("LICENSE"):
            continue
        out.append(path)
    return out[:MAX_FILES]


def bundle(provider: str, key: str) -> dict[str, Any]:
    """The skill ``key`` with its text files, for an import; ValueError when unusable."""
    match = next((s for s in inventory(provider) if s["key"] == key), None)
    if match is None:
        raise ValueError(f"skill {key!r} not found on this machine")
    directory = Path(match["source_path"])
    content = (directory / "SKILL.md").read_text(encoding="utf-8", errors="replace")
    total = len(content.encode())
    files = []
    for path in _files(directory):
        data = path.read_bytes()
        if b"\0" in data:
            continue  # binary files are skipped
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            continue
        total += len(data)
        if total > MAX_BUNDLE:
            raise ValueError("skill bundle is larger than 8 MiB")
        files.append({"path": path.relative_to(directory).as_posix(), "content": text})
    return {
        "name": match["name"],
        "description": match["description"],
        "content": content,
        "source_path": str(directory),
        "provider": provider,
        "files": files,
    }
