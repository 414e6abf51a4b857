"""Entry point of the ``multica`` command."""

from __future__ import annotations

import argparse
import importlib
import inspect
import logging
import os
import sys
from collections.abc import Sequence
from typing import Any

from multica_cli import __version__
from multica_cli.client import EXIT_GENERIC, ApiError
from multica_cli.config import ConfigError
from multica_cli.context import CliError, Context

COMMAND_MODULES = [
    "auth",
    "setup",
    "config",
    "workspace",
    "issue",
    "project",
    "label",
    "agent",
    "skill",
    "runtime",
    "daemon",
    "version",
]

# Global flags are accepted anywhere on the line (as Multica's CLI does): name → (dest, takes value)
GLOBAL_FLAGS: dict[str, tuple[str, bool]] = {
    "--server-url": ("server_url", True),
    "--workspace-id": ("workspace_id", True),
    "--workspace": ("workspace_id", True),
    "--profile": ("profile", True),
    "--output": ("output", True),
    "--debug": ("debug", False),
}
OUTPUT_FORMATS = ("json", "table")


class _Parser(argparse.ArgumentParser):
    """argparse that reports usage errors as one line with exit code 5."""

    def error(self, message: str) -> None:  # type: ignore[override]  # never returns
        raise CliError(f"{self.prog}: {message}", 5)


def split_global_flags(argv: Sequence[str]) -> tuple[list[str], dict[str, Any]]:
    """Pull the global flags out of ``argv`` wherever they are (stops at ``--``)."""
    rest: list[str] = []
    found: dict[str, Any] = {}
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg == "--":
            rest.extend(argv[i:])
            break
        name, eq, value = arg.partition("=")
        spec = GLOBAL_FLAGS.get(name)
        if spec is None:
            rest.append(arg)
            i += 1
            continue
        dest, takes_value = spec
        if not takes_value:
            if eq:
                raise CliError(f"{name} takes no value", 5)
            found[dest] = True
            i += 1
            continue
        if not eq:
            if i + 1 >= len(argv):
                raise CliError(f"{name} needs a value", 5)
            value = argv[i + 1]
            i += 1
        found[dest] = value
        i += 1
    if "output" in found and found["output"] not in OUTPUT_FORMATS:
        raise CliError(f"--output must be one of: {', '.join(OUTPUT_FORMATS)}", 5)
    return rest, found


# Top-level commands registered by a module of another name.
COMMAND_OWNERS = {"login": "auth"}


def modules_for(argv: Sequence[str]) -> list[str]:
    """Only the module of the command being run (fast start); every module for help."""
    command = next((a for a in argv if not a.startswith("-")), None)
    if command is None:
        return COMMAND_MODULES
    name = COMMAND_OWNERS.get(command, command)
    return [name] if name in COMMAND_MODULES else COMMAND_MODULES


def build_parser(modules: Sequence[str] | None = None) -> argparse.ArgumentParser:
    parser = _Parser(
        prog="multica",
        description="Multica from the command line: issues, agents, skills, runtimes, the daemon.",
    )
    parser.add_argument("--server-url", help="server URL (env MULTICA_SERVER_URL)")
    parser.add_argument(
        "--workspace-id",
        "--workspace",
        dest="workspace_id",
        help="workspace (env MULTICA_WORKSPACE_ID)",
    )
    parser.add_argument("--profile", help="named profile in ~/.multica/profiles/<name>")
    parser.add_argument("--debug", action="store_true", help="log HTTP requests to stderr")
    parser.add_argument("--output", choices=OUTPUT_FORMATS, help="output format")
    parser.add_argument("--version", action="version", version=f"multica {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="<command>", parser_class=_Parser)
    for name in COMMAND_MODULES if modules is None else modules:
        module_name = f"multica_cli.commands.{name}"
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name == module_name:
                continue  # an optional group not installed in this build
            raise
        module.register(subparsers)
    return parser


def _call(func: Any, ctx: Context, args: argparse.Namespace) -> int:
    params = inspect.signature(func).parameters
    result = func(ctx, args) if len(params) >= 2 else func(args)
    return int(result or 0)


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    ctx: Context | None = None
    debug = os.environ.get("MULTICA_DEBUG", "") not in ("", "0", "false")
    try:
        rest, found = split_global_flags(argv)
        debug = debug or bool(found.get("debug"))
        if debug:
            logging.basicConfig(
                level=logging.DEBUG, stream=sys.stderr, format="%(name)s: %(message)s"
            )
        parser = build_parser(modules_for(rest))
        args = parser.parse_args(rest)
        for dest, value in found.items():
            setattr(args, dest, value)
        args.debug = debug
        func = getattr(args, "func", None)
        if func is None:
            parser.print_help(sys.stderr)
            return EXIT_GENERIC if not args.command else 5
        ctx = Context.from_args(args)
        args.ctx = ctx
        return _call(func, ctx, args)
    except ApiError as exc:
        _fail(f"Error: {exc.message}", debug)
        return exc.exit_code
    except CliError as exc:
        _fail(f"Error: {exc.message}", debug)
        return exc.exit_code
    except ConfigError as exc:
        _fail(f"Error: {exc}", debug)
        return EXIT_GENERIC
    except KeyboardInterrupt:
        sys.stderr.write("\n")
        return 130
    finally:
        if ctx is not None:
            ctx.close()


def _fail(message: str, debug: bool) -> None:
    if debug:
        import traceback  # noqa: PLC0415  # only for --debug

        traceback.print_exc(file=sys.stderr)
    sys.stderr.write(message.rstrip() + "\n")
