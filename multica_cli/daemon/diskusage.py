"""Disk usage of the daemon's task directories (``multica daemon disk-usage``).

The daemon keeps one directory per task under ``<workspaces root>/<workspace id>/<task key>/``
and its bare-repo cache under ``<root>/.repos/``. The scan is local and read-only: it never
follows symlinks and counts regular files only. Bytes inside directories named like the GC's
artifact patterns (``node_modules``, ``.next``, ``.turbo``; ``MULTICA_GC_ARTIFACT_PATTERNS``
overrides) are reported apart as the reclaimable subset; a ``.git`` directory counts toward the
total only. The JSON keys follow Multica's report.
"""

from __future__ import annotations

import json
import os
import stat
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from multica_cli.config import ConfigError, config_root, read_config, validate_profile_name
from multica_cli.daemon.settings import default_workspaces_root

DEFAULT_ARTIFACT_PATTERNS = ("node_modules", ".next", ".turbo")
REPOS_DIR = ".repos"
KIND_UNKNOWN = "unknown"
PARENT_KEYS = ("issue_id", "chat_session_id", "autopilot_run_id", "task_id")


def artifact_patterns_from_env() -> list[str]:
    """Directory basenames treated as artifacts (patterns holding a path separator are dropped)."""
    raw = os.environ.get("MULTICA_GC_ARTIFACT_PATTERNS", "").strip()
    if not raw:
        return list(DEFAULT_ARTIFACT_PATTERNS)
    parts = (p.strip() for p in raw.split(","))
    return sorted({p for p in parts if p and "/" not in p and "\\" not in p})


def resolve_workspaces_root(profile: str | None, flag: str | None = None) -> Path:
    """As the daemon resolves it: flag > ``MULTICA_WORKSPACES_ROOT`` > config > default."""
    profile = validate_profile_name(profile)
    configured = read_config(profile).get("workspaces_root")
    for raw in (flag, os.environ.get("MULTICA_WORKSPACES_ROOT"), configured):
        if raw:
            return Path(str(raw)).expanduser().absolute()
    return default_workspaces_root(profile).absolute()


def profile_names() -> list[str]:
    """Named profiles that exist on disk (``~/.multica/profiles/*``), sorted."""
    root = config_root() / "profiles"
    try:
        return sorted(entry.name for entry in root.iterdir() if entry.is_dir())
    except OSError:
        return []


def _file_size(entry: os.DirEntry[str]) -> int:
    try:
        info = entry.stat(follow_symlinks=False)
    except OSError:
        return 0
    return info.st_size if stat.S_ISREG(info.st_mode) else 0


def dir_size(path: Path | str) -> int:
    """Bytes of the regular files under ``path`` (symlinks neither followed nor counted)."""
    total = 0
    stack = [str(path)]
    while stack:
        current = stack.pop()
        try:
            entries = list(os.scandir(current))
        except OSError:
            continue
        for entry in entries:
            if entry.is_dir(follow_symlinks=False):
                stack.append(entry.path)
            else:
                total += _file_size(entry)
    return total


def task_size(task_dir: Path, patterns: set[str]) -> tuple[int, int]:
    """(total bytes, artifact bytes) of one task directory."""
    total = artifacts = 0
    stack = [str(task_dir)]
    while stack:
        current = stack.pop()
        try:
            entries = list(os.scandir(current))
        except OSError:
            continue
        for entry in entries:
            if not entry.is_dir(follow_symlinks=False):
                total += _file_size(entry)
            elif entry.name == ".git":
                total += dir_size(entry.path)
            elif entry.name in patterns:
                size = dir_size(entry.path)
                total += size
                artifacts += size
            else:
                stack.append(entry.path)
    return total, artifacts


def short_id(ident: str) -> str:
    compact = ident.replace("-", "")
    return compact[:8]


def ratio(part: int, whole: int) -> float:
    return part / whole if whole > 0 else 0.0


def _parse_time(value: Any) -> float | None:
    try:
        parsed = datetime.fromisoformat(str(value))
    except ValueError:
        return None
    return parsed.timestamp() if parsed.tzinfo is not None else None


def task_usage(task_dir: Path, workspace_id: str, patterns: set[str], now: float) -> dict[str, Any]:
    usage: dict[str, Any] = {
        "workspace_id": workspace_id,
        "workspace_short": short_id(workspace_id),
        "task_short": task_dir.name,
        "path": str(task_dir),
        "kind": KIND_UNKNOWN,
        "parent_status": "",
        "age_seconds": 0,
        "size_bytes": 0,
        "artifact_size_bytes": 0,
    }
    meta_path = task_dir / ".gc_meta.json"
    meta: Any = None
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        meta = None
    since: float | None = None
    if isinstance(meta, dict):
        usage["kind"] = str(meta.get("kind") or KIND_UNKNOWN)
        parent = next((str(meta[k]) for k in PARENT_KEYS if meta.get(k)), "")
        if parent:
            usage["parent_id"] = parent
        since = _parse_time(meta.get("completed_at"))
        if since is None:
            try:
                since = meta_path.stat().st_mtime
            except OSError:
                since = None
    else:
        try:
            since = task_dir.stat().st_mtime
        except OSError:
            since = None
    if since is not None:
        usage["age_seconds"] = max(0, int(now - since))
    usage["size_bytes"], usage["artifact_size_bytes"] = task_size(task_dir, patterns)
    return usage


def _subdirs(path: Path) -> list[Path]:
    try:
        return sorted(Path(e.path) for e in os.scandir(path) if e.is_dir(follow_symlinks=False))
    except OSError:
        return []


def repo_cache(root: Path) -> tuple[int, int]:
    """(bytes, repositories) of ``.repos/<workspace>/<repo>``."""
    size = count = 0
    for ws_dir in _subdirs(root / REPOS_DIR):
        for repo in _subdirs(ws_dir):
            count += 1
            size += dir_size(repo)
    return size, count


def _generated_at() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def scan(root: Path, patterns: list[str] | None = None) -> dict[str, Any]:
    """The report of one workspaces root; a missing root is an empty report."""
    pattern_list = sorted(set(patterns if patterns is not None else artifact_patterns_from_env()))
    pattern_set = set(pattern_list)
    report: dict[str, Any] = {
        "workspaces_root": str(root),
        "generated_at": _generated_at(),
        "artifact_patterns": pattern_list,
        "managed_artifact_subpaths": [],
        "tasks": [],
        "workspaces": [],
        "total_task_count": 0,
        "total_workspace_count": 0,
        "total_size_bytes": 0,
        "total_artifact_size_bytes": 0,
        "total_artifact_ratio": 0.0,
        "repo_cache_size_bytes": 0,
        "repo_cache_count": 0,
    }
    if not root.is_dir():
        return report
    now = time.time()
    tasks: list[dict[str, Any]] = []
    workspaces: dict[str, dict[str, Any]] = {}
    for ws_dir in _subdirs(root):
        if ws_dir.name == REPOS_DIR:
            report["repo_cache_size_bytes"], report["repo_cache_count"] = repo_cache(root)
            continue
        if ws_dir.name.startswith("."):
            continue  # daemon-internal caches, never a workspace
        ws_id = ws_dir.name
        for task_dir in _subdirs(ws_dir):
            usage = task_usage(task_dir, ws_id, pattern_set, now)
            tasks.append(usage)
            ws = workspaces.setdefault(ws_id, {
                "workspace_id": ws_id, "workspace_short": short_id(ws_id), "task_count": 0,
                "size_bytes": 0, "artifact_size_bytes": 0, "artifact_ratio": 0.0,
                "oldest_age_seconds": 0,
            })  # fmt: skip
            ws["task_count"] += 1
            ws["size_bytes"] += usage["size_bytes"]
            ws["artifact_size_bytes"] += usage["artifact_size_bytes"]
            ws["oldest_age_seconds"] = max(ws["oldest_age_seconds"], usage["age_seconds"])
    for ws in workspaces.values():
        ws["artifact_ratio"] = ratio(ws["artifact_size_bytes"], ws["size_bytes"])
    tasks.sort(key=lambda t: t["size_bytes"], reverse=True)
    report["tasks"] = tasks
    report["workspaces"] = sorted(workspaces.values(), key=lambda w: w["size_bytes"], reverse=True)
    report["total_task_count"] = len(tasks)
    report["total_workspace_count"] = len(workspaces)
    report["total_size_bytes"] = sum(t["size_bytes"] for t in tasks)
    report["total_artifact_size_bytes"] = sum(t["artifact_size_bytes"] for t in tasks)
    report["total_artifact_ratio"] = ratio(
        report["total_artifact_size_bytes"], report["total_size_bytes"]
    )
    return report


def scan_roots(roots: list[tuple[str, Path]], patterns: list[str] | None = None) -> dict[str, Any]:
    """Several roots (``(profile, root)``, profile ``""`` for the default) and grand totals."""
    pattern_list = sorted(set(patterns if patterns is not None else artifact_patterns_from_env()))
    reports = [{"profile": name, "report": scan(root, pattern_list)} for name, root in roots]
    total = sum(r["report"]["total_size_bytes"] for r in reports)
    artifacts = sum(r["report"]["total_artifact_size_bytes"] for r in reports)
    return {
        "generated_at": _generated_at(),
        "artifact_patterns": pattern_list,
        "managed_artifact_subpaths": [],
        "roots": reports,
        "total_task_count": sum(r["report"]["total_task_count"] for r in reports),
        "total_workspace_count": sum(r["report"]["total_workspace_count"] for r in reports),
        "total_size_bytes": total,
        "total_artifact_size_bytes": artifacts,
        "total_artifact_ratio": ratio(artifacts, total),
        "total_repo_cache_size_bytes": sum(r["report"]["repo_cache_size_bytes"] for r in reports),
        "total_repo_cache_count": sum(r["report"]["repo_cache_count"] for r in reports),
    }


def all_roots() -> list[tuple[str, Path]]:
    """The default profile's root, then each named profile's existing root (duplicates once)."""
    roots = [("", resolve_workspaces_root(None))]
    for name in profile_names():
        try:
            root = resolve_workspaces_root(name)
        except ConfigError:
            continue  # an unusable profile is skipped, not fatal
        if root.is_dir() and all(root != seen for _, seen in roots):
            roots.append((name, root))
    return roots


def format_bytes(size: int) -> str:
    """IEC units with one decimal above 1 KiB (``512 B``, ``1.5 KiB``, ``2.0 GiB``)."""
    if size < 1024:
        return f"{size} B"
    value = float(size)
    for unit in "KMGTPE":
        value /= 1024
        if value < 1024 or unit == "E":
            return f"{value:.1f} {unit}iB"
    return f"{size} B"  # unreachable


def format_age(seconds: int) -> str:
    if seconds <= 0:
        return "0s"
    if seconds >= 86400:
        return f"{seconds // 86400}d {seconds % 86400 // 3600}h"
    if seconds >= 3600:
        return f"{seconds // 3600}h {seconds % 3600 // 60}m"
    if seconds >= 60:
        return f"{seconds // 60}m {seconds % 60}s"
    return f"{seconds}s"


def format_ratio(value: float) -> str:
    return f"{max(value, 0.0) * 100:.1f}%"
