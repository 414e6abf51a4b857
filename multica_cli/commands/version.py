"""``multica version``."""

from __future__ import annotations

import argparse
import platform
import sys

from multica_cli import __version__
from multica_cli.client import client_os
from multica_cli.context import Context
from multica_cli.output import print_json


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("version", help="print the CLI version")
    p.set_defaults(func=cmd_version)


def cmd_version(ctx: Context, args: argparse.Namespace) -> None:
    info = {
        "version": __version__,
        "implementation": "python",
        "python": platform.python_version(),
        "os": client_os(),
        "arch": platform.machine(),
    }
    if ctx.output == "json":
        print_json(info)
    else:
        sys.stdout.write(f"multica {__version__} (python {info['python']}, {info['os']})\n")
