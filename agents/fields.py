"""Encryption at rest for secrets (``agent.custom_env``).

``EncryptedJSONField`` stores a JSON value as one Fernet token (AES-128-CBC + HMAC-SHA256,
authenticated: tampering raises) under ``settings.FIELD_ENCRYPTION_KEYS``, a key list kept apart
from ``SECRET_KEY``: the first key encrypts, every key decrypts (``MultiFernet``). Rotation:
put a new key first, run ``manage.py rotate_field_keys``, then drop the old key.
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models

TOKEN_PREFIX = "gAAAA"  # every Fernet token starts with its version byte, base64-encoded


@cache
def _fernet_for(keys: tuple[str, ...]) -> MultiFernet:
    if not keys:
        raise ImproperlyConfigured("FIELD_ENCRYPTION_KEYS is empty: secrets cannot be stored")
    return MultiFernet([Fernet(k.encode() if isinstance(k, str) else k) for k in keys])


def fernet() -> MultiFernet:
    return _fernet_for(tuple(settings.FIELD_ENCRYPTION_KEYS))


def encrypt_json(value: Any) -> str:
    return fernet().encrypt(json.dumps(value, separators=(",", ":")).encode()).decode()


def decrypt_json(token: str) -> Any:
    try:
        return json.loads(fernet().decrypt(token.encode()))
    except InvalidToken as exc:
        raise ValueError("encrypted value cannot be decrypted with the configured keys") from exc


def rotate_token(token: str) -> str:
    """Re-encrypt under the newest key (``MultiFernet.rotate``)."""
    return fernet().rotate(token.encode()).decode()


class EncryptedJSONField(models.TextField):
    """A JSON value stored encrypted. Never filter on it; the plaintext is not in the database."""

    description = "JSON encrypted with Fernet under FIELD_ENCRYPTION_KEYS"

    def from_db_value(self, value: str | None, expression: Any, connection: Any) -> Any:
        if value is None or value == "":
            return None
        return decrypt_json(value)

    def to_python(self, value: Any) -> Any:
        if isinstance(value, str) and value.startswith(TOKEN_PREFIX):
            return decrypt_json(value)
        return value

    def get_prep_value(self, value: Any) -> str | None:
        if value is None:
            return None
        return encrypt_json(value)

    def value_to_string(self, obj: Any) -> str:
        # Serialization (dumpdata, admin history) gets the ciphertext, never the plaintext.
        return self.get_prep_value(self.value_from_object(obj)) or ""
