"""Authentication: bearer tokens (JWT, ``mul_`` PAT, and the token kinds later issues register)
and the ``multica_auth`` cookie with Multica's HMAC CSRF check (spec §1.1, §1.3).

``request.auth`` is always a :class:`Credential` saying which kind of credential was used; the
tenancy resolver reads its workspace binding.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.utils import timezone
from django.utils.functional import SimpleLazyObject, empty
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication
from rest_framework.request import Request

from multica_site.db import columns_of, models_from_rows, prepared_cursor
from workspaces import tokens
from workspaces.models import PersonalAccessToken, User

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass(frozen=True)
class Credential:
    """What authenticated a request. ``workspace_id`` is set for workspace-bound tokens."""

    kind: str  # "jwt" | "cookie" | "pat" | "task" | "daemon"
    token_id: str | None = None
    workspace_id: uuid.UUID | None = None
    extra: dict[str, Any] = field(default_factory=dict)


# Prefix → resolver(raw) -> (user, credential) | None. Later issues add task and daemon tokens.
TokenResolver = Callable[[str], "tuple[User, Credential] | None"]
TOKEN_RESOLVERS: dict[str, TokenResolver] = {}


def register_token_resolver(prefix: str, resolver: TokenResolver) -> None:
    TOKEN_RESOLVERS[prefix] = resolver


_USER_ATTS, _USER_COLS = columns_of(User, "u")
# The CLI's and daemons' credential: one prepared statement per request.
_PAT_SQL = f"""
SELECT p.id, p.expires_at, p.last_used_at, {_USER_COLS}
FROM personal_access_token p JOIN "user" u ON u.id = p.user_id
WHERE p.token_hash = %s AND NOT p.revoked AND u.is_active
"""  # noqa: S608 - the column list comes from the model, not from input


def resolve_pat(raw: str) -> tuple[User, Credential] | None:
    now = timezone.now()
    with prepared_cursor() as cursor:
        cursor.execute(_PAT_SQL, [tokens.hash_token(raw)])
        row = cursor.fetchone()
    if row is None:
        return None
    pat_id, expires_at, last_used_at = row[:3]
    if expires_at is not None and expires_at <= now:
        return None
    user = models_from_rows(User, _USER_ATTS, [row[3:]])[0]
    if last_used_at is None or (now - last_used_at).total_seconds() > 60:
        # Coarse-grained so that a busy CLI does not write on every request.
        PersonalAccessToken.objects.filter(pk=pat_id).update(last_used_at=now)
    return user, Credential(kind="pat", token_id=str(pat_id))


register_token_resolver(tokens.PAT_PREFIX, resolve_pat)


def user_from_jwt(raw: str) -> User | None:
    claims = tokens.decode_jwt(raw)
    if claims is None:
        return None
    try:
        user_id = uuid.UUID(str(claims["sub"]))
    except ValueError:
        return None
    return User.objects.filter(pk=user_id, is_active=True).first()


class PendingUser(SimpleLazyObject):
    """The user a verified JWT names, read from the database only when first used.

    On workspace routes the tenancy resolver reads the user together with the membership row
    (one query instead of two) and settles this object with it; elsewhere the first attribute
    access loads the user, and a user deleted or deactivated since the token was issued fails
    authentication (401) exactly as an eager lookup would.
    """

    is_authenticated = True
    is_anonymous = False

    def __init__(self, user_id: uuid.UUID) -> None:
        def load() -> User:
            user = User.objects.filter(pk=user_id, is_active=True).first()
            if user is None:
                raise exceptions.AuthenticationFailed("invalid token")
            return user

        super().__init__(load)
        self.__dict__["pending_user_id"] = user_id

    def is_settled(self) -> bool:
        return self._wrapped is not empty

    def load(self) -> None:
        """Read the user now (raises ``AuthenticationFailed`` if it is gone or inactive)."""
        if self._wrapped is empty:
            self._setup()

    def settle(self, user: User) -> None:
        """Hand over the row another query already read (same id, active)."""
        if user.pk != self.__dict__["pending_user_id"]:
            raise ValueError("settle() with another user")
        self._wrapped = user


def pending_user_id(user: Any) -> uuid.UUID | None:
    """The id of a :class:`PendingUser` not loaded yet, else ``None``."""
    if type(user) is PendingUser and not user.is_settled():
        return user.__dict__["pending_user_id"]
    return None


def jwt_principal(raw: str) -> tuple[PendingUser, Credential]:
    """A bearer or cookie JWT for HTTP: verified now, its user read on first use."""
    claims = tokens.decode_jwt(raw)
    if claims is None:
        raise exceptions.AuthenticationFailed("invalid token")
    try:
        user_id = uuid.UUID(str(claims["sub"]))
    except ValueError as exc:
        raise exceptions.AuthenticationFailed("invalid token") from exc
    return PendingUser(user_id), Credential(kind="jwt")


def authenticate_token(raw: str, *, lazy_user: bool = False) -> tuple[User, Credential]:
    """Prefix dispatch: registered prefixes (``mul_``, ``mat_``, …), else a JWT."""
    for prefix, resolver in TOKEN_RESOLVERS.items():
        if raw.startswith(prefix):
            result = resolver(raw)
            if result is None:
                raise exceptions.AuthenticationFailed("invalid token")
            return result
    if raw.startswith(
        (tokens.CLOUD_TOKEN_PREFIX, tokens.DAEMON_TOKEN_PREFIX, tokens.TASK_TOKEN_PREFIX)
    ):
        raise exceptions.AuthenticationFailed("invalid token")
    if lazy_user:
        return jwt_principal(raw)  # type: ignore[return-value]
    user = user_from_jwt(raw)
    if user is None:
        raise exceptions.AuthenticationFailed("invalid token")
    return user, Credential(kind="jwt")


def bearer_token(request: Any) -> str | None:
    header = request.META.get("HTTP_AUTHORIZATION", "")
    if not header:
        return None
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        raise exceptions.AuthenticationFailed("invalid token")
    return value.strip()


class BearerAuthentication(BaseAuthentication):
    """``Authorization: Bearer <token>``. Bearer requests skip CSRF."""

    def authenticate(self, request: Request) -> tuple[User, Credential] | None:
        raw = bearer_token(request)
        if raw is None:
            return None
        return authenticate_token(raw, lazy_user=True)

    def authenticate_header(self, request: Request) -> str:
        return "Bearer"


class CookieAuthentication(BaseAuthentication):
    """The ``multica_auth`` cookie (a JWT). Unsafe methods must send a valid ``X-CSRF-Token``."""

    def authenticate(self, request: Request) -> tuple[User, Credential] | None:
        raw = request.COOKIES.get(settings.AUTH_COOKIE_NAME)
        if not raw:
            return None
        user, _ = jwt_principal(raw)
        if request.method not in SAFE_METHODS and not tokens.csrf_token_valid(
            raw, request.META.get("HTTP_X_CSRF_TOKEN")
        ):
            raise exceptions.PermissionDenied("CSRF validation failed")
        return user, Credential(kind="cookie")  # type: ignore[return-value]

    def authenticate_header(self, request: Request) -> str:
        return "Bearer"
