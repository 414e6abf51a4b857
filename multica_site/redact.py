"""Secrets out of agent output before it is stored or broadcast (server contract §7.4,
reliability SEC-05).

Two passes, in this order:

1. **Values**: the exact values of the task's agent ``custom_env`` (the server knows them; a
   pattern cannot recognise a custom key's value). Values shorter than
   :data:`MIN_VALUE_LENGTH` are left alone — replacing ``"1"`` everywhere would destroy the
   transcript and protect nothing.
2. **Known formats**: the families Multica's redactor recognises (cloud keys, VCS and chat
   tokens, API keys, JWTs, bearer headers, connection strings with passwords, ``KEY=value``
   lines for common secret names), plus this server's own token formats (``mul_``, ``mat_``,
   ``mdt_``, ``mcn_``).

:func:`redact_value` walks decoded JSON (tool inputs) to a bounded depth; anything deeper is
replaced, never passed through unscrubbed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

MIN_VALUE_LENGTH = 6
MAX_DEPTH = 32
DEPTH_PLACEHOLDER = "[REDACTED DEPTH LIMIT]"
VALUE_PLACEHOLDER = "[REDACTED ENV VALUE]"

_SECRET_NAMES = (
    "API_KEY|API_SECRET|SECRET_KEY|SECRET|ACCESS_TOKEN|AUTH_TOKEN|PRIVATE_KEY|DATABASE_URL|"
    "DB_PASSWORD|DB_URL|REDIS_URL|PASSWORD|TOKEN"
)

# (pattern, replacement), applied in order.
PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"\bAKIA[0-9A-Z]{16}\b"), "[REDACTED AWS KEY]"),
    (
        re.compile(
            r"(?i)(?:aws_secret_access_key|secret_?access_?key)\s*[=:]\s*[A-Za-z0-9/+=]{40}"
        ),
        "[REDACTED AWS SECRET]",
    ),
    (
        re.compile(r"(?s)-----BEGIN[A-Z\s]*PRIVATE KEY-----.*?-----END[A-Z\s]*PRIVATE KEY-----"),
        "[REDACTED PRIVATE KEY]",
    ),
    (re.compile(r"\b(?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9_]{36,255}\b"), "[REDACTED GITHUB TOKEN]"),
    (re.compile(r"\bgithub_pat_[A-Za-z0-9_]{20,255}\b"), "[REDACTED GITHUB TOKEN]"),
    (re.compile(r"\b(?:mul|mat|mdt|mcn)_[0-9a-f]{40}\b"), "[REDACTED MULTICA TOKEN]"),
    (re.compile(r"\bsk-[A-Za-z0-9_-]{20,}\b"), "[REDACTED API KEY]"),
    (re.compile(r"\bxox[bporase]-[A-Za-z0-9\-]{10,}\b"), "[REDACTED SLACK TOKEN]"),
    (re.compile(r"\bxapp-[A-Za-z0-9-]{10,}\b"), "[REDACTED SLACK TOKEN]"),
    (re.compile(r"\bglpat-[A-Za-z0-9_-]{20,}\b"), "[REDACTED GITLAB TOKEN]"),
    (
        re.compile(r"\bAIza[0-9A-Za-z_-]{35}(?=[^0-9A-Za-z_-]|$)"),
        "[REDACTED GOOGLE API KEY]",
    ),
    (re.compile(r"\b(?:sk|rk)_live_[0-9A-Za-z]{16,}\b"), "[REDACTED STRIPE KEY]"),
    (
        re.compile(r"\bey[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\b"),
        "[REDACTED JWT]",
    ),
    (re.compile(r"(?i)\bBearer\s+[A-Za-z0-9\-._~+/]+=*"), "Bearer [REDACTED]"),
    (
        re.compile(r"(?i)(?:postgres|mysql|mongodb|redis|amqp)(?:ql)?://[^:\s]+:[^@\s]+@"),
        "[REDACTED CONNECTION STRING]@",
    ),
    (re.compile(rf"(?i)(?:{_SECRET_NAMES})\s*[=:]\s*\S+"), "[REDACTED CREDENTIAL]"),
)


def secret_values(env: Any) -> list[str]:
    """The values worth replacing verbatim, longest first (so a value containing another is
    replaced whole)."""
    if not isinstance(env, dict):
        return []
    values = {str(v) for v in env.values() if isinstance(v, str | int | float)}
    return sorted((v for v in values if len(v) >= MIN_VALUE_LENGTH), key=len, reverse=True)


def redact_text(text: str, values: Iterable[str] = ()) -> str:
    for value in values:
        if value in text:
            text = text.replace(value, VALUE_PLACEHOLDER)
    for pattern, replacement in PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def redact_value(value: Any, values: Iterable[str] = (), _depth: int = 0) -> Any:
    """A copy of decoded JSON with every string value redacted."""
    values = values if isinstance(values, list | tuple) else list(values)
    if _depth >= MAX_DEPTH:
        return DEPTH_PLACEHOLDER
    if isinstance(value, str):
        return redact_text(value, values)
    if isinstance(value, dict):
        return {k: redact_value(v, values, _depth + 1) for k, v in value.items()}
    if isinstance(value, list):
        return [redact_value(v, values, _depth + 1) for v in value]
    return value
