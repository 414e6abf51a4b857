"""Login codes, password login, sessions and personal access tokens (spec §1).

Login codes (reliability-security §1.8):

* only a keyed HMAC-SHA256 of a code is stored (key ``settings.VERIFICATION_CODE_KEY``);
* one code per email per ``VERIFICATION_CODE_RESEND_INTERVAL`` and at most
  ``VERIFICATION_CODE_DAILY_LIMIT`` per rolling 24 h, counted in PostgreSQL (no Redis needed);
* only the newest code of an email counts; every evaluation of a guess first claims an attempt
  with one ``UPDATE … WHERE attempts < max RETURNING``, so parallel guesses cannot slip past the
  limit; marking a code used is a compare-and-set, so a code yields at most one session;
* send-code answers alike for every address: an address that may not sign in (sign-up disabled,
  not on the allow-list, deactivated) still gets a row — counted by the rate limits — but one that
  can never be redeemed, and the mail it gets carries no code.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import secrets
import smtplib
import sys
import uuid
import zoneinfo
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.mail import send_mail
from django.core.validators import validate_email
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from multica_site.errors import (
    DomainError,
    NotAuthenticated,
    NotFound,
    RateLimited,
    ValidationError,
)
from workspaces import tokens
from workspaces.models import PersonalAccessToken, User, VerificationCode

logger = logging.getLogger(__name__)

CONSOLE_EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
CODE_RE = re.compile(r"^[0-9]{6}$")
INVALID_CODE = "invalid or expired code"
INVALID_CREDENTIALS = "invalid email or password"
RESEND_TOO_SOON = "please wait before requesting another code"
DAILY_LIMIT_REACHED = "too many verification codes requested today, please try again later"
MAX_EMAIL_LENGTH = 254
MAX_NAME_LENGTH = 255
MAX_PROFILE_DESCRIPTION = 2000
MAX_AVATAR_URL_LENGTH = 2048
MAX_TOKEN_LIFETIME_DAYS = 3650
PAT_RENEW_THRESHOLD = timedelta(days=7)
PAT_RENEW_EXTENSION = timedelta(days=90)


class InvalidCode(ValidationError):
    code = "invalid_code"

    def __init__(self) -> None:
        super().__init__(INVALID_CODE)


class InvalidCredentials(ValidationError):
    code = "invalid_credentials"

    def __init__(self) -> None:
        super().__init__(INVALID_CREDENTIALS)


# --- e-mail addresses and the sign-up gate ------------------------------------------------------


def normalize_email(raw: str | None) -> str:
    return (raw or "").strip().lower()


def _require_email(email: str) -> str:
    if not email:
        raise ValidationError("email is required")
    if len(email) > MAX_EMAIL_LENGTH:
        raise ValidationError("invalid email")
    try:
        validate_email(email)
    except DjangoValidationError as exc:
        raise ValidationError("invalid email") from exc
    return email


def signup_allowed(email: str) -> bool:
    """May a new account be created for ``email``? Allow-lists win over ``ALLOW_SIGNUP``."""
    email = email.lower()
    domain = email.rsplit("@", 1)[-1] if "@" in email else ""
    allowed_emails = [e.lower() for e in settings.ALLOWED_EMAILS]
    allowed_domains = [d.lower() for d in settings.ALLOWED_EMAIL_DOMAINS]
    if email in allowed_emails or (domain and domain in allowed_domains):
        return True
    if not settings.ALLOW_SIGNUP:
        return False
    # Allow-lists set but not matched: closed.
    return not (allowed_emails or allowed_domains)


def may_sign_in(email: str) -> bool:
    """An active account, or no account and sign-up is open to this address."""
    user = User.objects.filter(email=email).only("is_active").first()
    if user is not None:
        return user.is_active
    return signup_allowed(email)


# --- verification codes -------------------------------------------------------------------------


def code_hmac(code: str) -> str:
    key = settings.VERIFICATION_CODE_KEY
    return hmac.new(key.encode(), code.encode(), hashlib.sha256).hexdigest()


def generate_code() -> str:
    return f"{secrets.randbelow(1_000_000):06d}"


def _retry_after(delta: timedelta) -> str:
    return str(max(1, int(delta.total_seconds() + 0.999)))


def _check_send_limits(email: str, now: datetime) -> None:
    """1 code per resend interval, ≤ the daily limit per rolling 24 h; both counted in SQL."""
    latest = (
        VerificationCode.objects.filter(email=email)
        .order_by("-created_at")
        .values_list("created_at", flat=True)
        .first()
    )
    interval = settings.VERIFICATION_CODE_RESEND_INTERVAL
    if latest is not None and now - latest < interval:
        raise RateLimited(
            RESEND_TOO_SOON, headers={"Retry-After": _retry_after(latest + interval - now)}
        )
    day_ago = now - timedelta(days=1)
    recent = list(
        VerificationCode.objects.filter(email=email, created_at__gt=day_ago)
        .order_by("created_at")
        .values_list("created_at", flat=True)[: settings.VERIFICATION_CODE_DAILY_LIMIT]
    )
    if len(recent) >= settings.VERIFICATION_CODE_DAILY_LIMIT:
        raise RateLimited(
            DAILY_LIMIT_REACHED,
            headers={"Retry-After": _retry_after(recent[0] + timedelta(days=1) - now)},
        )


def _lock_email(email: str) -> None:
    """Serialise send-code per address until the transaction ends (limits are check-then-insert)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", [email])


def send_code(*, email: str) -> None:
    """``POST /auth/send-code``: issue a code, or an unusable row when the address may not sign in.

    Raises :class:`RateLimited` alike for every address.
    """
    email = _require_email(normalize_email(email))
    code = generate_code()
    with transaction.atomic():
        _lock_email(email)
        now = timezone.now()
        _check_send_limits(email, now)
        usable = may_sign_in(email)
        row = VerificationCode.objects.create(
            email=email,
            # An unusable row keeps the rate limits uniform; its HMAC is of nothing sent anywhere.
            code_hmac=code_hmac(code if usable else secrets.token_hex(16)),
            expires_at=now + settings.VERIFICATION_CODE_TTL,
            used=not usable,
            created_at=now,
        )
    try:
        if usable:
            _deliver_code(email, code)
        else:
            _deliver_refusal(email)
    except (OSError, smtplib.SMTPException) as exc:
        VerificationCode.objects.filter(pk=row.pk).delete()
        logger.error("failed to send verification email: %s", type(exc).__name__)
        raise DomainError(
            "failed to send verification code", code="email_failed", status=503
        ) from exc


def _deliver_code(email: str, code: str) -> None:
    minutes = int(settings.VERIFICATION_CODE_TTL.total_seconds() // 60)
    send_mail(
        subject=f"Your Multica verification code: {code}",
        message=(
            f"Your Multica verification code is {code}.\n\n"
            f"It expires in {minutes} minutes. If you did not request it, ignore this e-mail.\n"
        ),
        from_email=None,
        recipient_list=[email],
    )
    if settings.EMAIL_BACKEND == CONSOLE_EMAIL_BACKEND:
        # Development without SMTP: the one place a code is ever written out.
        sys.stdout.write(f"[DEV] Verification code for {email}: {code}\n")
        sys.stdout.flush()


def _deliver_refusal(email: str) -> None:
    """The address may not sign in: tell its owner, so the reply and timing match a real send."""
    send_mail(
        subject="Multica sign-in",
        message=(
            "Someone asked to sign in to this Multica instance with this e-mail address, but "
            "sign-up is not open to it. Ask the instance administrator for access.\n"
        ),
        from_email=None,
        recipient_list=[email],
    )


# Claims one attempt on the newest code of an address; only that code can ever be redeemed.
_CLAIM_ATTEMPT_SQL = """
UPDATE verification_code SET attempts = attempts + 1
WHERE id = (
    SELECT id FROM verification_code WHERE email = %s ORDER BY created_at DESC, id DESC LIMIT 1
)
AND used = false AND expires_at > %s AND attempts < %s
RETURNING id, code_hmac
"""


def _dev_code_matches(code: str) -> bool:
    if str(settings.APP_ENV).strip().lower() == "production":
        return False
    dev_code = (settings.MULTICA_DEV_VERIFICATION_CODE or "").strip()
    if not CODE_RE.match(dev_code):
        return False
    return hmac.compare_digest(code.encode(), dev_code.encode())


def verify_code(*, email: str, code: str) -> User:
    """``POST /auth/verify-code``: redeem a code for a user (found or created). One session/code."""
    email = normalize_email(email)
    code = (code or "").strip()
    if not email or not code:
        raise ValidationError("email and code are required")
    if not CODE_RE.match(code) or len(email) > MAX_EMAIL_LENGTH:
        raise InvalidCode()
    with connection.cursor() as cursor:
        cursor.execute(
            _CLAIM_ATTEMPT_SQL,
            [email, timezone.now(), settings.VERIFICATION_CODE_MAX_ATTEMPTS],
        )
        claimed = cursor.fetchone()
    if claimed is None:
        raise InvalidCode()
    code_id, stored_hmac = claimed
    matches = hmac.compare_digest(code_hmac(code), stored_hmac)
    if not (matches or _dev_code_matches(code)):
        raise InvalidCode()
    with transaction.atomic():
        if not VerificationCode.objects.filter(pk=code_id, used=False).update(used=True):
            raise InvalidCode()
        user = _find_or_create_user(email)
    logger.info("user %s signed in with a verification code", user.pk)
    return user


def _find_or_create_user(email: str) -> User:
    user = User.objects.filter(email=email).first()
    if user is not None:
        if not user.is_active:
            raise InvalidCode()
        return user
    if not signup_allowed(email):
        raise InvalidCode()
    try:
        with transaction.atomic():
            return User.objects.create_user(email)
    except IntegrityError:
        # A concurrent sign-in created it first.
        user = User.objects.filter(email=email).first()
        if user is None or not user.is_active:
            raise InvalidCode() from None
        return user


def verification_codes_prune(*, older_than: timedelta = timedelta(days=2)) -> int:
    """Delete codes that can no longer be used nor count toward a daily limit."""
    deleted, _ = VerificationCode.objects.filter(
        created_at__lt=timezone.now() - older_than
    ).delete()
    return deleted


# --- password login and sessions ----------------------------------------------------------------


def password_login(*, email: str, password: str) -> User:
    """``POST /auth/login``: the same answer for unknown e-mail and wrong password; hasher runs."""
    email = normalize_email(email)
    if not email or not password:
        raise ValidationError("email and password are required")
    user = User.objects.filter(email=email).first() if len(email) <= MAX_EMAIL_LENGTH else None
    if user is None:
        # Run the hasher once anyway so that unknown addresses take as long as known ones.
        User().set_password(password)
        raise InvalidCredentials()
    if not user.check_password(password) or not user.is_active:
        raise InvalidCredentials()
    logger.info("user %s signed in with a password", user.pk)
    return user


def session_token(user: User) -> str:
    """A fresh session JWT (login responses, ``POST /api/cli-token``)."""
    return tokens.issue_jwt(user)


# --- the current user ---------------------------------------------------------------------------


@cache
def _known_timezones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def _clean_text(value: Any) -> str:
    return str(value).replace("\x00", "").strip()


def user_update(*, user: User, changes: Mapping[str, Any]) -> User:
    """``PATCH /api/me``: only the keys present in ``changes`` are touched."""
    fields: list[str] = []
    if "name" in changes:
        name = _clean_text(changes["name"] or "")
        if not name:
            raise ValidationError("name is required")
        if len(name) > MAX_NAME_LENGTH:
            raise ValidationError(f"name exceeds {MAX_NAME_LENGTH} characters")
        user.name = name
        fields.append("name")
    if "avatar_url" in changes:
        avatar = _clean_text(changes["avatar_url"] or "")
        if len(avatar) > MAX_AVATAR_URL_LENGTH:
            raise ValidationError(f"avatar_url exceeds {MAX_AVATAR_URL_LENGTH} characters")
        scheme = urlsplit(avatar).scheme.lower() if avatar else ""
        if scheme and scheme not in ("http", "https"):
            raise ValidationError("invalid avatar_url")
        user.avatar_url = avatar or None
        fields.append("avatar_url")
    if "language" in changes:
        # null clears the preference; anything else must be a supported locale.
        language = None if changes["language"] is None else _clean_text(changes["language"])
        if language is not None and language not in User.LANGUAGES:
            raise ValidationError("unsupported language", extra={"supported": list(User.LANGUAGES)})
        user.language = language
        fields.append("language")
    if "profile_description" in changes:
        description = _clean_text(changes["profile_description"] or "")
        if len(description) > MAX_PROFILE_DESCRIPTION:
            raise ValidationError(
                f"profile_description exceeds {MAX_PROFILE_DESCRIPTION} characters"
            )
        user.profile_description = description
        fields.append("profile_description")
    if "timezone" in changes:
        tz = _clean_text(changes["timezone"] or "")
        if tz and tz not in _known_timezones():
            raise ValidationError("invalid timezone")
        user.timezone = tz or None
        fields.append("timezone")
    if fields:
        user.save(update_fields=[*fields, "updated_at"])
    return user


# --- personal access tokens ---------------------------------------------------------------------


def token_list(*, user: User) -> list[PersonalAccessToken]:
    return list(
        PersonalAccessToken.objects.filter(user=user, revoked=False).order_by("-created_at", "-id")
    )


def token_create(
    *, user: User, name: str | None, expires_in_days: int | None = None
) -> tuple[PersonalAccessToken, str]:
    """Mint a ``mul_`` token; returns the row and the raw token (shown once, never stored)."""
    name = _clean_text(name or "")
    if not name:
        raise ValidationError("name is required")
    if len(name) > MAX_NAME_LENGTH:
        raise ValidationError(f"name exceeds {MAX_NAME_LENGTH} characters")
    if expires_in_days is not None and expires_in_days > MAX_TOKEN_LIFETIME_DAYS:
        raise ValidationError(f"expires_in_days must be at most {MAX_TOKEN_LIFETIME_DAYS}")
    now = timezone.now()
    expires_at = (
        now + timedelta(days=expires_in_days)
        if expires_in_days is not None and expires_in_days > 0
        else None
    )
    raw = tokens.mint_token(tokens.PAT_PREFIX)
    pat = PersonalAccessToken.objects.create(
        user=user,
        name=name,
        token_hash=tokens.hash_token(raw),
        token_prefix=raw[: tokens.PREFIX_DISPLAY_LENGTH],
        expires_at=expires_at,
        created_at=now,
    )
    return pat, raw


@dataclass(frozen=True)
class RenewResult:
    expires_at: datetime | None
    renewed: bool


def token_renew_current(*, user: User, credential: Any) -> RenewResult:
    """Extend the PAT that authenticated this request when it is within 7 days of expiry."""
    if credential is None or getattr(credential, "kind", None) != "pat" or not credential.token_id:
        raise ValidationError("only personal access tokens can be renewed")
    now = timezone.now()
    pat = PersonalAccessToken.objects.filter(
        pk=credential.token_id, user=user, revoked=False
    ).first()
    if pat is None or (pat.expires_at is not None and pat.expires_at <= now):
        raise NotAuthenticated("token is no longer valid", code="invalid_token")
    if pat.expires_at is None:
        return RenewResult(expires_at=None, renewed=False)
    if pat.expires_at - now > PAT_RENEW_THRESHOLD:
        return RenewResult(expires_at=pat.expires_at, renewed=False)
    new_expiry = now + PAT_RENEW_EXTENSION
    # Compare-and-set: a concurrent renewal already moved expires_at out of the window.
    updated = PersonalAccessToken.objects.filter(
        pk=pat.pk, revoked=False, expires_at__lte=now + PAT_RENEW_THRESHOLD
    ).update(expires_at=new_expiry)
    if updated:
        return RenewResult(expires_at=new_expiry, renewed=True)
    current = PersonalAccessToken.objects.filter(pk=pat.pk, revoked=False).first()
    if current is None:
        raise NotAuthenticated("token is no longer valid", code="invalid_token")
    return RenewResult(expires_at=current.expires_at, renewed=False)


def token_revoke(*, user: User, token_id: uuid.UUID | str) -> None:
    """Revoke one of the caller's tokens; idempotent for the owner, 404 for anyone else."""
    try:
        pk = uuid.UUID(str(token_id))
    except ValueError as exc:
        raise ValidationError("invalid token id", code="invalid_token_id") from exc
    pat = PersonalAccessToken.objects.filter(pk=pk, user=user).first()
    if pat is None:
        raise NotFound("token not found", code="token_not_found")
    if not pat.revoked:
        PersonalAccessToken.objects.filter(pk=pk, user=user).update(revoked=True)
