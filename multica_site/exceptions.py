"""The one exception handler: every API error leaves as ``{"error": "...", "code": "..."}``."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404
from rest_framework import exceptions as drf
from rest_framework.response import Response

from multica_site.errors import DomainError

_DRF_CODES = {
    drf.NotAuthenticated: ("missing authorization", "unauthorized"),
    drf.AuthenticationFailed: ("invalid token", "unauthorized"),
    drf.PermissionDenied: ("insufficient permissions", "forbidden"),
    drf.NotFound: ("not found", "not_found"),
    drf.MethodNotAllowed: ("method not allowed", "method_not_allowed"),
    drf.UnsupportedMediaType: ("unsupported media type", "unsupported_media_type"),
    drf.ParseError: ("invalid request body", "invalid_request"),
    drf.Throttled: ("too many requests", "rate_limited"),
    drf.NotAcceptable: ("not acceptable", "not_acceptable"),
}


def error_response(
    message: str,
    code: str,
    status: int,
    headers: dict[str, str] | None = None,
    extra: dict[str, Any] | None = None,
) -> Response:
    body: dict[str, Any] = {"error": message, "code": code}
    if extra:
        body.update(extra)
    return Response(body, status=status, headers=headers)


def _first_message(detail: Any) -> str:
    """Flatten a serializer error tree into one sentence: ``invalid <field>: <reason>``."""
    if isinstance(detail, dict):
        for field, value in detail.items():
            inner = _first_message(value)
            if field in ("non_field_errors", "detail"):
                return inner
            return (
                inner
                if inner.startswith(("invalid ", f"{field} "))
                else f"invalid {field}: {inner}"
            )
    if isinstance(detail, list) and detail:
        return _first_message(detail[0])
    return str(detail)


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, DomainError):
        return error_response(exc.message, exc.code, exc.status, exc.headers, exc.extra)
    if isinstance(exc, Http404):
        return error_response("not found", "not_found", 404)
    if isinstance(exc, DjangoPermissionDenied):
        return error_response("insufficient permissions", "forbidden", 403)
    if isinstance(exc, drf.ValidationError):
        return error_response(_first_message(exc.detail), "invalid_request", 400)
    if isinstance(exc, drf.APIException):
        headers: dict[str, str] = {}
        if isinstance(exc, drf.Throttled) and exc.wait is not None:
            headers["Retry-After"] = str(int(exc.wait))
        if isinstance(exc, drf.NotAuthenticated | drf.AuthenticationFailed):
            headers["WWW-Authenticate"] = "Bearer"
        for klass, (default_message, code) in _DRF_CODES.items():
            if isinstance(exc, klass):
                message = str(exc.detail) if _is_custom(exc) else default_message
                return error_response(message, code, exc.status_code, headers)
        return error_response(str(exc.detail), "error", exc.status_code, headers)
    return None


def _is_custom(exc: drf.APIException) -> bool:
    """True when the raiser gave its own sentence rather than DRF's English default.

    A parser's ``ParseError`` carries the JSON decoder's message, which is not ours to show.
    """
    if isinstance(exc, drf.ParseError):
        return False
    return str(exc.detail) != str(type(exc).default_detail)
