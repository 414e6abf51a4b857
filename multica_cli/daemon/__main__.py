"""``python -m multica_cli.daemon``: the daemon in the foreground."""

from __future__ import annotations

import sys

from multica_cli.daemon.foreground import main

sys.exit(main())
