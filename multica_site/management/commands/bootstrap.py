"""``manage.py bootstrap``: on an empty database, create the first owner and workspace.

Prints how to log in. The generated password is also written to
``$MULTICA_DATA_DIR/initial-owner.txt`` (mode 0600) so it is not lost with the terminal.
Does nothing when any user exists, so it is safe to run on every start.
"""

from __future__ import annotations

import os
import secrets
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import transaction

from workspaces.models import User
from workspaces.services.workspaces import workspace_create


class Command(BaseCommand):
    help = "Create the first owner and workspace when the database has no users."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--url", default=settings.MULTICA_PUBLIC_URL)
        parser.add_argument(
            "--email", default=os.environ.get("MULTICA_OWNER_EMAIL", "owner@multica.local")
        )

    def handle(self, *args: Any, **opts: Any) -> None:
        if User.objects.exists():
            return
        email = opts["email"].strip().lower()
        password = os.environ.get("MULTICA_OWNER_PASSWORD") or secrets.token_urlsafe(12)
        with transaction.atomic():
            owner = User.objects.create_superuser(email, password, name="Owner")
            workspace = workspace_create(
                user=owner,
                name=os.environ.get("MULTICA_WORKSPACE_NAME", "My Workspace"),
                slug=os.environ.get("MULTICA_WORKSPACE_SLUG", "my-workspace"),
            )
        note = settings.MULTICA_DATA_DIR / "initial-owner.txt"
        note.write_text(f"email: {email}\npassword: {password}\nworkspace: {workspace.slug}\n")
        note.chmod(0o600)
        url = opts["url"].rstrip("/")
        self.stdout.write(
            self.style.SUCCESS("\nFirst run: created the owner account and a workspace.")
            + f"\n  Log in at {url}/login"
            + f"\n    email:    {email}"
            + f"\n    password: {password}"
            + f"\n  (also saved in {note})\n"
        )
