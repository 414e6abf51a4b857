"""``multica daemon start|stop|restart|status|logs|disk-usage`` (daemon contract §5.4, §6).

``start`` runs the daemon in the background by default: a detached child
(``multica daemon start --foreground``) with its output in the profile's ``daemon.err.log``,
its log in ``daemon.log`` and its pid in ``daemon.pid``; the local health port tells whether
it is up. ``stop`` asks it to shut down over ``POST /shutdown``.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from multica_cli.config import load_profile, state_dir
from multica_cli.context import CliError, daemon_managed
from multica_cli.daemon import diskusage
from multica_cli.daemon.foreground import add_start_flags, forward_flags, run_foreground
from multica_cli.daemon.providers import detect
from multica_cli.daemon.settings import daemon_health_port
from multica_cli.output import info, print_json, print_table

START_TIMEOUT = 45.0
STOP_TIMEOUT = 60.0
ERR_LOG_ROLL = 5 * 1024 * 1024


def register(subparsers: argparse._SubParsersAction) -> None:
    daemon = subparsers.add_parser("daemon", help="run agents on this machine")
    sub = daemon.add_subparsers(dest="daemon_command", metavar="<subcommand>", required=True)
    p = sub.add_parser("start", help="start the agent daemon (in the background by default)")
    add_start_flags(p)
    p.set_defaults(func=cmd_start)
    p = sub.add_parser("stop", help="stop the agent daemon")
    p.set_defaults(func=cmd_stop)
    p = sub.add_parser("restart", help="restart the agent daemon")
    add_start_flags(p)
    p.set_defaults(func=cmd_restart)
    p = sub.add_parser("status", help="show the daemon's status")
    p.set_defaults(func=cmd_status)
    p = sub.add_parser("probe-runtimes", help=argparse.SUPPRESS)
    p.set_defaults(func=cmd_probe_runtimes)
    p = sub.add_parser("logs", help="show the daemon's log")
    p.add_argument("-f", "--follow", action="store_true", help="keep printing new lines")
    p.add_argument("-n", "--lines", type=int, default=50, help="lines to show (default 50)")
    p.set_defaults(func=cmd_logs)
    p = sub.add_parser(
        "disk-usage", help="disk used by the daemon's task directories (default output: table)"
    )
    view = p.add_mutually_exclusive_group()
    view.add_argument("--by-workspace", action="store_true", help="one row per workspace")
    view.add_argument("--by-task", action="store_true", help="one row per task (the default)")
    p.add_argument("--top", type=int, default=0, help="only the N largest entries (per root)")
    p.add_argument("--workspaces-root", help="scan this directory instead of the daemon's root")
    p.add_argument(
        "--all-profiles", action="store_true",
        help="scan the default root and every profile's root, with a combined total",
    )  # fmt: skip
    p.set_defaults(func=cmd_disk_usage)


def _profile_name(args: argparse.Namespace) -> str | None:
    return getattr(args, "profile", None) or None


def health(profile: str | None, timeout: float = 2.0) -> dict[str, Any] | None:
    try:
        response = httpx.get(
            f"http://127.0.0.1:{daemon_health_port(profile)}/health", timeout=timeout
        )
    except httpx.HTTPError:
        return None
    if response.status_code != 200:
        return None
    try:
        body = response.json()
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


def _paths(profile: str | None) -> tuple[Path, Path, Path]:
    root = state_dir(profile)
    return root / "daemon.pid", root / "daemon.log", root / "daemon.err.log"


def cmd_start(args: argparse.Namespace) -> int:
    if getattr(args, "foreground", False):
        return run_foreground(args)
    return start_background(args)


def start_background(args: argparse.Namespace) -> int:
    name = _profile_name(args)
    running = health(name)
    if running:
        raise CliError(f"daemon is already running (pid {running.get('pid')})")
    profile = load_profile(name, server_url=getattr(args, "server_url", None))
    if not profile.token:
        raise CliError("not logged in: run `multica login` first", 3)
    pid_file, log_file, err_file = _paths(name)
    cmd = [sys.executable, "-m", "multica_cli"]
    if name:
        cmd += ["--profile", name]
    if getattr(args, "server_url", None):
        cmd += ["--server-url", args.server_url]
    cmd += ["daemon", "start", "--foreground", "--log-file", str(log_file), *forward_flags(args)]
    with contextlib.suppress(OSError):  # raw output is rolled at 5 MB
        if err_file.stat().st_size > ERR_LOG_ROLL:
            err_file.replace(err_file.with_name(err_file.name + ".1"))
    with err_file.open("ab") as err:
        proc = subprocess.Popen(  # noqa: S603 - this very program
            cmd, stdin=subprocess.DEVNULL, stdout=err, stderr=err, start_new_session=True,
            close_fds=True,
        )  # fmt: skip
    pid_file.write_text(f"{proc.pid}\n")
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pid_file.unlink(missing_ok=True)
            tail = err_file.read_text(errors="replace").strip().splitlines()[-5:]
            raise CliError("daemon failed to start:\n" + "\n".join(tail))
        state = health(name, timeout=1.0)
        if state and state.get("status") == "running":
            info(f"Daemon started (pid {proc.pid}). Logs: {log_file}")
            return 0
        time.sleep(0.5)
    raise CliError(f"daemon did not report running within {START_TIMEOUT:.0f}s; see {err_file}")


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    with contextlib.suppress(OSError):
        stat = Path(f"/proc/{pid}/stat").read_text()
        return stat.rsplit(")", 1)[1].split()[0] != "Z"
    return True


def stop(name: str | None) -> bool:
    """Stop the profile's daemon; False when none was running."""
    pid_file, _, _ = _paths(name)
    state = health(name)
    pid = int(state["pid"]) if state and str(state.get("pid", "")).isdigit() else None
    if pid is None:
        with contextlib.suppress(OSError, ValueError):
            pid = int(pid_file.read_text().strip())
        if pid is None or not _pid_alive(pid):
            pid_file.unlink(missing_ok=True)
            return False
    if state:
        with contextlib.suppress(httpx.HTTPError):
            httpx.post(f"http://127.0.0.1:{daemon_health_port(name)}/shutdown", timeout=5)
    else:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + STOP_TIMEOUT
    while time.monotonic() < deadline and (_pid_alive(pid) or health(name, timeout=0.5)):
        time.sleep(0.2)
    if _pid_alive(pid):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGKILL)
    pid_file.unlink(missing_ok=True)
    return True


def cmd_stop(args: argparse.Namespace) -> int:
    if stop(_profile_name(args)):
        info("Daemon stopped.")
    else:
        info("Daemon is not running.")
    return 0


def cmd_restart(args: argparse.Namespace) -> int:
    stop(_profile_name(args))
    return start_background(args)


def cmd_status(args: argparse.Namespace) -> int:
    state = health(_profile_name(args))
    if getattr(args, "output", None) == "json":
        print_json(state or {"status": "stopped"})
        return 0
    if not state:
        sys.stdout.write("Daemon: stopped\n")
        return 0
    runtimes = sum(len(w.get("runtimes") or []) for w in state.get("workspaces") or [])
    lines = [
        f"Daemon:     {state.get('status')} (pid {state.get('pid')}, up {state.get('uptime')})",
        f"Server:     {state.get('server_url')}",
        f"Daemon ID:  {state.get('daemon_id')}",
        f"Device:     {state.get('device_name')}",
        f"Agents:     {', '.join(state.get('agents') or []) or 'none found on PATH'}",
        f"Workspaces: {len(state.get('workspaces') or [])} ({runtimes} runtimes)",
        f"Tasks:      {state.get('active_task_count', 0)} active",
    ]
    for provider, reason in (state.get("skipped_agents") or {}).items():
        lines.append(f"Skipped:    {provider}: {reason}")
    sys.stdout.write("\n".join(lines) + "\n")
    return 0


def cmd_logs(args: argparse.Namespace) -> int:
    _, log_file, _ = _paths(_profile_name(args))
    info(f"{log_file}")
    if not log_file.exists() and not args.follow:
        raise CliError(f"no daemon log yet at {log_file}")
    if log_file.exists():
        lines = log_file.read_text(errors="replace").splitlines()
        tail = lines[-args.lines :] if args.lines > 0 else []
        sys.stdout.write("".join(line + "\n" for line in tail))
        sys.stdout.flush()
    if not args.follow:
        return 0
    position = log_file.stat().st_size if log_file.exists() else 0
    inode = log_file.stat().st_ino if log_file.exists() else None
    try:
        while True:
            time.sleep(0.5)
            if not log_file.exists():
                continue
            st = log_file.stat()
            if st.st_ino != inode or st.st_size < position:  # rotated or truncated
                inode, position = st.st_ino, 0
            if st.st_size > position:
                with log_file.open("rb") as fh:
                    fh.seek(position)
                    chunk = fh.read()
                position += len(chunk)
                sys.stdout.write(chunk.decode(errors="replace"))
                sys.stdout.flush()
    except KeyboardInterrupt:
        return 0


def cmd_probe_runtimes(args: argparse.Namespace) -> int:
    """Detect the agent CLIs the daemon would register, without starting it."""
    found, skipped = detect()
    print_json(
        {
            "probe_result": "success",
            "runtime_count": len(found),
            "provider_summary": {
                **{d.provider.key: {"status": "available", "path": d.path, "version": d.version}
                   for d in found},
                **{key: {"status": "skipped", "reason": reason} for key, reason in skipped.items()},
            },
        }
    )  # fmt: skip
    return 0


TASK_ROOT_ENV = "MULTICA_TASK_WORKSPACES_ROOT"


def _disk_usage_root(args: argparse.Namespace) -> Path:
    """Inside a task only the daemon-injected root may be scanned (no other profile's files)."""
    if not daemon_managed():
        return diskusage.resolve_workspaces_root(_profile_name(args), args.workspaces_root)
    for flag, given in (("--all-profiles", args.all_profiles),
                        ("--workspaces-root", args.workspaces_root),
                        ("--profile", _profile_name(args))):  # fmt: skip
        if given:
            raise CliError(f"daemon disk-usage {flag} is not available inside an agent task", 5)
    root = os.environ.get(TASK_ROOT_ENV, "").strip()
    if not root:
        raise CliError(f"an agent task needs the daemon-injected root in {TASK_ROOT_ENV}")
    if not Path(root).is_absolute():
        raise CliError(f"{TASK_ROOT_ENV} must be an absolute path")
    return Path(root)


def _trim(report: dict[str, Any], key: str, top: int) -> None:
    if top > 0:
        report[key] = report[key][:top]


def _print_disk_report(report: dict[str, Any], by_workspace: bool) -> None:
    fmt = diskusage.format_bytes
    out = sys.stdout
    out.write(f"Workspaces root: {report['workspaces_root']}\n")
    noun = "workspace" if by_workspace else "task"
    key = "workspaces" if by_workspace else "tasks"
    rows, total = report[key], report[f"total_{noun}_count"]
    if total == 0:
        out.write("(no workspaces)\n" if by_workspace else "(no task directories)\n")
    else:
        if by_workspace:
            columns: list[Any] = [
                ("Workspace", "workspace_short"),
                ("Tasks", "task_count"),
                ("Size", lambda w: fmt(w["size_bytes"])),
                ("Artifacts", lambda w: fmt(w["artifact_size_bytes"])),
                ("Artifact %", lambda w: diskusage.format_ratio(w["artifact_ratio"])),
                ("Oldest", lambda w: diskusage.format_age(w["oldest_age_seconds"])),
            ]
        else:
            columns = [
                ("Path", lambda t: f"{t['workspace_short']}/{t['task_short']}"),
                ("Kind", "kind"),
                ("Age", lambda t: diskusage.format_age(t["age_seconds"])),
                ("Size", lambda t: fmt(t["size_bytes"])),
                ("Artifacts", lambda t: fmt(t["artifact_size_bytes"])),
            ]
        print_table(rows, columns)
        size = sum(r["size_bytes"] for r in rows)
        artifacts = sum(r["artifact_size_bytes"] for r in rows)
        percent = report["total_artifact_ratio"] * 100
        if len(rows) < total:
            out.write(
                f"\nShowing top {len(rows)} of {total} {noun}(s). Displayed: {fmt(size)} "
                f"({fmt(artifacts)} artifacts). Scan total: {fmt(report['total_size_bytes'])} "
                f"({fmt(report['total_artifact_size_bytes'])} artifacts, {percent:.1f}% "
                "reclaimable).\n"
            )
        else:
            out.write(
                f"\nTotal: {fmt(report['total_size_bytes'])} across {total} {noun}(s); "
                f"{fmt(report['total_artifact_size_bytes'])} reclaimable as artifacts "
                f"({percent:.1f}%).\n"
            )
    if report["repo_cache_count"] or report["repo_cache_size_bytes"]:
        out.write(
            f"Repo cache (.repos): {fmt(report['repo_cache_size_bytes'])} across "
            f"{report['repo_cache_count']} repo(s), not included above.\n"
        )


def cmd_disk_usage(args: argparse.Namespace) -> int:
    """Walk the workspaces root and sum the bytes of each task directory (local only)."""
    if args.top < 0:
        raise CliError("--top must be a non-negative integer", 5)
    if args.all_profiles and args.workspaces_root:
        raise CliError("--all-profiles and --workspaces-root are mutually exclusive", 5)
    key = "workspaces" if args.by_workspace else "tasks"
    as_json = getattr(args, "output", None) == "json"
    if args.all_profiles and not daemon_managed():
        agg = diskusage.scan_roots(diskusage.all_roots())
        for entry in agg["roots"]:
            _trim(entry["report"], key, args.top)
        if as_json:
            print_json(agg)
            return 0
        fmt = diskusage.format_bytes
        sys.stdout.write(f"Scanned {len(agg['roots'])} workspace root(s).\n")
        for entry in agg["roots"]:
            sys.stdout.write(f"\n[{entry['profile'] or 'default'}]\n")
            _print_disk_report(entry["report"], args.by_workspace)
        sys.stdout.write(
            f"\nGrand total: {fmt(agg['total_size_bytes'])} across {agg['total_task_count']} "
            f"task(s) in {len(agg['roots'])} root(s); {fmt(agg['total_artifact_size_bytes'])} "
            f"reclaimable as artifacts ({agg['total_artifact_ratio'] * 100:.1f}%).\n"
        )
        return 0
    report = diskusage.scan(_disk_usage_root(args))
    _trim(report, key, args.top)
    if as_json:
        print_json(report)
    else:
        _print_disk_report(report, args.by_workspace)
    return 0
