"""Domain errors: raised by services and selectors, mapped to HTTP by one exception handler."""

from __future__ import annotations


class DomainError(Exception):
    """A failure the caller can act on: carries Multica's error sentence, a code and a status."""

    status: int = 400
    code: str = "invalid_request"

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        status: int | None = None,
        headers: dict[str, str] | None = None,
        extra: dict | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        if status is not None:
            self.status = status
        self.headers = headers or {}
        self.extra = extra or {}


class ValidationError(DomainError):
    status = 400
    code = "invalid_request"


class NotAuthenticated(DomainError):
    status = 401
    code = "unauthorized"


class PermissionDenied(DomainError):
    status = 403
    code = "forbidden"

    def __init__(self, message: str = "insufficient permissions", **kwargs) -> None:
        super().__init__(message, **kwargs)


class NotFound(DomainError):
    """Missing and foreign objects raise the same error (no existence oracle)."""

    status = 404
    code = "not_found"


class Conflict(DomainError):
    status = 409
    code = "conflict"


class Gone(DomainError):
    status = 410
    code = "gone"


class RateLimited(DomainError):
    status = 429
    code = "rate_limited"


class Unavailable(DomainError):
    status = 503
    code = "unavailable"
