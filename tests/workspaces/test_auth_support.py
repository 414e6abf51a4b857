"""Helpers shared by the auth tests (no tests here; named to sit with them)."""

from __future__ import annotations

import re
from datetime import timedelta

from django.core import mail
from django.utils import timezone

from workspaces.models import VerificationCode

CODE_IN_MAIL = re.compile(r"\b([0-9]{6})\b")
RFC3339_SECONDS = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
USER_KEYS = {
    "id",
    "name",
    "email",
    "avatar_url",
    "language",
    "timezone",
    "onboarded_at",
    "onboarding_questionnaire",
    "starter_content_state",
    "profile_description",
    "created_at",
    "updated_at",
}
TOKEN_KEYS = {"id", "name", "token_prefix", "expires_at", "last_used_at", "created_at"}


def last_code(email: str) -> str:
    """The code in the newest mail sent to ``email``."""
    for message in reversed(mail.outbox):
        if email in message.to:
            found = CODE_IN_MAIL.search(message.body)
            assert found, f"no code in the mail to {email}: {message.body!r}"
            return found.group(1)
    raise AssertionError(f"no mail sent to {email}")


def age_codes(email: str, seconds: float) -> None:
    """Move every code of ``email`` ``seconds`` into the past (instead of sleeping)."""
    delta = timedelta(seconds=seconds)
    for row in VerificationCode.objects.filter(email=email):
        VerificationCode.objects.filter(pk=row.pk).update(
            created_at=row.created_at - delta, expires_at=row.expires_at - delta
        )


def wrong_code(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


def now_plus(**kwargs: float):
    return timezone.now() + timedelta(**kwargs)
