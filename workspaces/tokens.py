"""Token minting, hashing and the session JWT (spec §1.1)."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime
from typing import Any

import jwt
from django.conf import settings
from django.utils import timezone

PAT_PREFIX = "mul_"
TASK_TOKEN_PREFIX = "mat_"
DAEMON_TOKEN_PREFIX = "mdt_"
CLOUD_TOKEN_PREFIX = "mcn_"
PREFIX_DISPLAY_LENGTH = 12


def mint_token(prefix: str) -> str:
    """``prefix`` + 40 lower-hex characters (160 random bits)."""
    return prefix + secrets.token_hex(20)


def hash_token(token: str) -> str:
    """Hex SHA-256 of the whole token: what is stored and looked up."""
    return hashlib.sha256(token.encode()).hexdigest()


def issue_jwt(user: Any, *, now: datetime | None = None) -> str:
    now = now or timezone.now()
    payload = {
        "sub": str(user.pk),
        "email": user.email,
        "name": user.name,
        "iat": int(now.timestamp()),
        "exp": int((now + settings.AUTH_TOKEN_TTL).timestamp()),
    }
    return jwt.encode(payload, settings.JWT_SECRET, algorithm="HS256")


def decode_jwt(token: str) -> dict[str, Any] | None:
    try:
        return jwt.decode(
            token, settings.JWT_SECRET, algorithms=["HS256"], options={"require": ["sub", "exp"]}
        )
    except jwt.PyJWTError:
        return None


def csrf_token_for(auth_cookie_value: str) -> str:
    """``<16-byte nonce hex>.<hex HMAC-SHA256(key=auth cookie, msg=nonce bytes)>``."""
    nonce = secrets.token_bytes(16)
    mac = hmac.new(auth_cookie_value.encode(), nonce, hashlib.sha256).hexdigest()
    return f"{nonce.hex()}.{mac}"


def csrf_token_valid(auth_cookie_value: str, presented: str | None) -> bool:
    if not presented or "." not in presented:
        return False
    nonce_hex, mac = presented.split(".", 1)
    try:
        nonce = bytes.fromhex(nonce_hex)
    except ValueError:
        return False
    if len(nonce) != 16:
        return False
    expected = hmac.new(auth_cookie_value.encode(), nonce, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, mac)
