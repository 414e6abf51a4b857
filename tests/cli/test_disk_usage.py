"""``multica daemon disk-usage``: the real command (a subprocess) walking a real directory tree
laid out as the daemon lays out task directories. Purely local: no server is involved."""

from __future__ import annotations

import json
import os
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.cli.conftest import Cli

WS_A = "0198c0de-aaaa-7000-8000-000000000001"
WS_B = "0198c0de-bbbb-7000-8000-000000000002"
ISSUE = "0198c0de-cccc-7000-8000-000000000003"


def _file(path: Path, size: int) -> int:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"x" * size)
    return size


def _build(root: Path, outside: Path) -> dict[str, int]:
    """Two workspaces, three task directories, a repo cache and some things never counted."""
    t1 = root / WS_A / "aaaa00000001"
    completed = (datetime.now(UTC) - timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M:%SZ")
    meta = json.dumps({"kind": "issue", "workspace_id": WS_A, "issue_id": ISSUE,
                       "completed_at": completed})  # fmt: skip
    t1.mkdir(parents=True)
    (t1 / ".gc_meta.json").write_text(meta)
    t1_total = len(meta.encode())  # the metadata file is part of the directory too
    t1_total += _file(t1 / "workdir" / "main.py", 1000)
    artifacts = _file(t1 / "workdir" / "node_modules" / "pkg" / "index.js", 5000)
    artifacts += _file(t1 / "workdir" / "web" / ".next" / "cache.bin", 2000)
    t1_total += artifacts
    t1_total += _file(t1 / "workdir" / ".git" / "objects" / "pack", 300)
    _file(outside / "huge.bin", 50_000)
    (t1 / "workdir" / "link.bin").symlink_to(outside / "huge.bin")  # never followed
    (t1 / "workdir" / "linked-dir").symlink_to(outside)

    t2 = root / WS_A / "aaaa00000002"
    t2_total = _file(t2 / "workdir" / "notes.md", 200)  # no .gc_meta.json: kind unknown
    t3 = root / WS_B / "bbbb00000003"
    t3_total = _file(t3 / "workdir" / "a.txt", 100)

    repos = _file(root / ".repos" / WS_A / "app.git" / "packed", 700)
    _file(root / ".skill-cache" / "bundle.zip", 900)  # a daemon cache, not a workspace
    _file(root / "stray-file", 10)  # files at the root are ignored
    return {"t1": t1_total, "t1_artifacts": artifacts, "t2": t2_total, "t3": t3_total,
            "repos": repos}  # fmt: skip


@pytest.fixture
def home(tmp_path) -> Path:
    home = tmp_path / "home"
    home.mkdir()
    return home


@pytest.fixture
def local_cli(home) -> Cli:
    return Cli(home, "http://127.0.0.1:9")  # never contacted


def test_per_task_report_as_json(local_cli, home, tmp_path):
    root = tmp_path / "root"
    sizes = _build(root, tmp_path / "outside")
    report = local_cli.run("daemon", "disk-usage", "--workspaces-root", str(root), "--output",
                           "json").ok().json()  # fmt: skip
    assert report["workspaces_root"] == str(root)
    assert report["artifact_patterns"] == [".next", ".turbo", "node_modules"]
    assert report["total_task_count"] == 3
    assert report["total_workspace_count"] == 2
    total = sizes["t1"] + sizes["t2"] + sizes["t3"]
    assert report["total_size_bytes"] == total
    assert report["total_artifact_size_bytes"] == sizes["t1_artifacts"]
    assert report["total_artifact_ratio"] == pytest.approx(sizes["t1_artifacts"] / total)
    assert (report["repo_cache_size_bytes"], report["repo_cache_count"]) == (sizes["repos"], 1)

    tasks = report["tasks"]
    assert [t["size_bytes"] for t in tasks] == [sizes["t1"], sizes["t2"], sizes["t3"]]
    first = tasks[0]
    assert first["kind"] == "issue"
    assert first["parent_id"] == ISSUE
    assert first["workspace_short"] == WS_A.replace("-", "")[:8]
    assert first["task_short"] == "aaaa00000001"
    assert first["path"] == str(root / WS_A / "aaaa00000001")
    assert 7100 < first["age_seconds"] < 7400
    assert first["artifact_size_bytes"] == sizes["t1_artifacts"]
    assert tasks[1]["kind"] == "unknown"
    assert "parent_id" not in tasks[1]
    assert tasks[1]["age_seconds"] < 600

    workspaces = report["workspaces"]
    assert [(w["workspace_id"], w["task_count"]) for w in workspaces] == [(WS_A, 2), (WS_B, 1)]
    assert workspaces[0]["size_bytes"] == sizes["t1"] + sizes["t2"]
    assert workspaces[0]["oldest_age_seconds"] == first["age_seconds"]


def test_tables_and_top(local_cli, tmp_path):
    root = tmp_path / "root"
    sizes = _build(root, tmp_path / "outside")
    out = local_cli.run("daemon", "disk-usage", "--workspaces-root", str(root)).ok().stdout
    lines = out.splitlines()
    assert lines[0] == f"Workspaces root: {root}"
    assert lines[1].split() == ["PATH", "KIND", "AGE", "SIZE", "ARTIFACTS"]
    short_a = WS_A.replace("-", "")[:8]
    assert lines[2].split()[:2] == [f"{short_a}/aaaa00000001", "issue"]
    assert "2h 0m" in lines[2] or "1h 59m" in lines[2]
    assert "6.8 KiB" in lines[2]  # the artifacts: 7000 bytes
    assert "across 3 task(s)" in out
    assert "Repo cache (.repos): 700 B across 1 repo(s)" in out

    top = local_cli.run("daemon", "disk-usage", "--workspaces-root", str(root), "--top", "1")
    assert "Showing top 1 of 3 task(s)" in top.ok().stdout
    trimmed = local_cli.run("daemon", "disk-usage", "--workspaces-root", str(root), "--top", "1",
                            "--output", "json").ok().json()  # fmt: skip
    assert len(trimmed["tasks"]) == 1
    assert trimmed["total_task_count"] == 3  # totals describe the whole scan

    by_ws = local_cli.run("daemon", "disk-usage", "--by-workspace", "--workspaces-root",
                          str(root)).ok().stdout.splitlines()  # fmt: skip
    assert by_ws[1].split() == ["WORKSPACE", "TASKS", "SIZE", "ARTIFACTS", "ARTIFACT", "%",
                                "OLDEST"]  # fmt: skip
    assert by_ws[2].split()[:2] == [short_a, "2"]
    assert by_ws[3].split()[:2] == [WS_B.replace("-", "")[:8], "1"]
    assert any("across 2 workspace(s)" in line for line in by_ws)
    assert f"{sizes['t3']} B" in by_ws[3]


def test_the_root_is_resolved_as_the_daemon_does(local_cli, home, tmp_path):
    default = home / "multica_workspaces"
    _file(default / WS_A / "task1" / "f", 10)
    report = local_cli.run("daemon", "disk-usage", "--output", "json").ok().json()
    assert report["workspaces_root"] == str(default)
    assert report["total_size_bytes"] == 10

    configured = tmp_path / "configured"
    _file(configured / WS_A / "task1" / "f", 20)
    local_cli.root.mkdir()
    (local_cli.root / "config.json").write_text(json.dumps({"workspaces_root": str(configured)}))
    report = local_cli.run("daemon", "disk-usage", "--output", "json").ok().json()
    assert report["total_size_bytes"] == 20
    from_env = tmp_path / "from-env"
    _file(from_env / WS_A / "task1" / "f", 30)
    env = {"MULTICA_WORKSPACES_ROOT": str(from_env)}
    report = local_cli.run("daemon", "disk-usage", "--output", "json", env=env).ok().json()
    assert report["total_size_bytes"] == 30

    missing = local_cli.run("daemon", "disk-usage", "--workspaces-root", str(tmp_path / "none"))
    assert "(no task directories)" in missing.ok().stdout


def test_all_profiles(local_cli, home, tmp_path):
    _file(home / "multica_workspaces" / WS_A / "t1" / "f", 100)
    work_root = tmp_path / "work-root"
    _file(work_root / WS_B / "t2" / "f", 50)
    profile_dir = home / ".multica" / "profiles" / "work"
    profile_dir.mkdir(parents=True)
    (profile_dir / "config.json").write_text(json.dumps({"workspaces_root": str(work_root)}))
    (home / ".multica" / "profiles" / "never-ran").mkdir()  # its default root does not exist

    agg = local_cli.run("daemon", "disk-usage", "--all-profiles", "--output", "json").ok().json()
    assert [(r["profile"], r["report"]["total_size_bytes"]) for r in agg["roots"]] == [
        ("", 100),
        ("work", 50),
    ]
    assert (agg["total_size_bytes"], agg["total_task_count"]) == (150, 2)
    text = local_cli.run("daemon", "disk-usage", "--all-profiles").ok().stdout
    assert "Scanned 2 workspace root(s)." in text
    assert "[default]" in text
    assert "[work]" in text
    assert "Grand total: 150 B across 2 task(s) in 2 root(s)" in text


def test_inside_a_task_only_the_task_root(local_cli, tmp_path):
    task_root = tmp_path / "task-root"
    _file(task_root / WS_A / "t1" / "f", 42)
    env = {"MULTICA_TASK_ID": "t", "MULTICA_TASK_WORKSPACES_ROOT": str(task_root)}
    report = local_cli.run("daemon", "disk-usage", "--output", "json", env=env).ok().json()
    assert report["total_size_bytes"] == 42
    local_cli.run("daemon", "disk-usage", "--workspaces-root", "/", env=env).fails(5)
    local_cli.run("daemon", "disk-usage", "--all-profiles", env=env).fails(5)
    local_cli.run("daemon", "disk-usage", env={"MULTICA_TASK_ID": "t"}).fails(1)


def test_flag_errors(local_cli, tmp_path):
    local_cli.run("daemon", "disk-usage", "--by-workspace", "--by-task").fails(5)
    local_cli.run("daemon", "disk-usage", "--top", "-1").fails(5)
    local_cli.run("daemon", "disk-usage", "--all-profiles", "--workspaces-root",
                  str(tmp_path)).fails(5)  # fmt: skip


def test_age_falls_back_to_the_directory_time(local_cli, tmp_path):
    root = tmp_path / "root"
    task = root / WS_A / "old"
    _file(task / "f", 1)
    old = time.time() - 3 * 86400
    os.utime(task, (old, old))
    report = local_cli.run("daemon", "disk-usage", "--workspaces-root", str(root), "--output",
                           "json").ok().json()  # fmt: skip
    assert report["tasks"][0]["age_seconds"] >= 3 * 86400 - 60
    out = local_cli.run("daemon", "disk-usage", "--workspaces-root", str(root)).ok().stdout
    assert "3d 0h" in out
