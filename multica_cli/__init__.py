"""The ``multica`` command: a CLI and agent daemon speaking Multica's protocol.

Nothing in this package imports Django; it talks to a server over HTTP only.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("multica-py")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0"
