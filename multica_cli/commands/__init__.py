"""Command groups of the ``multica`` CLI, one module each.

Every module exposes ``register(subparsers) -> None`` which adds its parser(s) to the
top-level ``subparsers`` and sets ``func`` on each leaf::

    p = subparsers.add_parser("issue", help="...")
    p.set_defaults(func=handler)

A handler is called as ``handler(ctx, args)`` where ``ctx`` is a
``multica_cli.context.Context`` (profile, API client, ``ctx.output``, ``ctx.debug``) and
returns an exit code or None for 0. The global flags (``--server-url``, ``--workspace-id``,
``--profile``, ``--debug``, ``--output``) may appear anywhere on the command line; main
strips them before argparse sees the rest and puts them on ``args`` and ``ctx``.
Raise ``CliError`` or let ``ApiError`` escape: main prints one line and exits with its code.
"""
