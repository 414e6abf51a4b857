"""Login codes, password login, sessions and personal access tokens (spec §1)."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from workspaces.models import VerificationCode


def verification_codes_prune(*, older_than: timedelta = timedelta(days=2)) -> int:
    """Delete codes that can no longer be used nor count toward a daily limit."""
    deleted, _ = VerificationCode.objects.filter(
        created_at__lt=timezone.now() - older_than
    ).delete()
    return deleted
