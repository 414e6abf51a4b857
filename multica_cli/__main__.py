"""``python -m multica_cli`` runs the same entry point as the ``multica`` console script."""

from __future__ import annotations

import sys

from multica_cli.main import main

sys.exit(main())
