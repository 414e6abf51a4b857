"""HTTP client for Multica's REST API, with the CLI's headers and exit-code mapping (spec §5.1)."""

from __future__ import annotations

import os
import platform as _platform
import re
from collections.abc import Mapping
from typing import Any

import httpx

from multica_cli import __version__

DEFAULT_TIMEOUT = 30.0
CLI_CAPABILITIES = "stable_attachment_urls"

EXIT_OK = 0
EXIT_GENERIC = 1
EXIT_NETWORK = 2
EXIT_AUTH = 3
EXIT_NOT_FOUND = 4
EXIT_VALIDATION = 5

_DURATION_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)")
_UNIT_SECONDS = {
    "ns": 1e-9,
    "us": 1e-6,
    "µs": 1e-6,
    "ms": 1e-3,
    "s": 1.0,
    "m": 60.0,
    "h": 3600.0,
}


def parse_duration(value: str) -> float:
    """Seconds from a Go duration (``1m30s``, ``500ms``) or a plain number of seconds."""
    text = value.strip()
    if not text:
        raise ValueError("empty duration")
    try:
        return float(text)
    except ValueError:
        pass
    pos = 0
    total = 0.0
    for match in _DURATION_PART.finditer(text):
        if match.start() != pos:
            break
        total += float(match.group(1)) * _UNIT_SECONDS[match.group(2)]
        pos = match.end()
    if pos != len(text) or pos == 0:
        raise ValueError(f"invalid duration {value!r}")
    return total


def default_timeout() -> float:
    raw = os.environ.get("MULTICA_HTTP_TIMEOUT", "").strip()
    if not raw:
        return DEFAULT_TIMEOUT
    try:
        seconds = parse_duration(raw)
    except ValueError:
        return DEFAULT_TIMEOUT
    return seconds if seconds > 0 else DEFAULT_TIMEOUT


def client_os() -> str:
    """``macos``, ``linux`` or ``windows`` (as Multica's clients report it)."""
    system = _platform.system().lower()
    if system == "darwin":
        return "macos"
    if system.startswith("win"):
        return "windows"
    return system or "linux"


def exit_code_for_status(status: int | None) -> int:
    if status is None:
        return EXIT_NETWORK
    if status in (401, 403):
        return EXIT_AUTH
    if status == 404:
        return EXIT_NOT_FOUND
    if status in (400, 422):
        return EXIT_VALIDATION
    return EXIT_GENERIC


class ApiError(Exception):
    """A failed API call. ``status`` is None for network failures."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: str = "",
        exit_code: int | None = None,
        body: Any = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code
        self.body = body
        self.exit_code = exit_code if exit_code is not None else exit_code_for_status(status)

    def __str__(self) -> str:
        return self.message

    @property
    def transient(self) -> bool:
        """Worth retrying: transport errors, 5xx, 408 and 429 (daemon spec §0)."""
        return self.status is None or self.status >= 500 or self.status in (408, 429)


def error_from_response(response: httpx.Response) -> ApiError:
    body: Any = None
    message = ""
    code = ""
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict):
        message = str(body.get("error") or body.get("detail") or body.get("message") or "")
        code = str(body.get("code") or "")
    if not message:
        text = response.text.strip()
        message = text[:200] if text and "<" not in text[:1] else response.reason_phrase
    return ApiError(
        f"{message} (HTTP {response.status_code})",
        status=response.status_code,
        code=code,
        body=body,
    )


class ApiClient:
    """A small synchronous client: bearer token, workspace header, JSON in and out.

    ``platform`` is ``cli`` for the command line and ``daemon`` for the agent daemon;
    ``capabilities`` overrides ``X-Client-Capabilities``.
    """

    def __init__(
        self,
        server_url: str,
        token: str = "",
        workspace_id: str = "",
        *,
        timeout: float | None = None,
        platform: str = "cli",
        capabilities: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        if not server_url:
            raise ApiError(
                "no server URL configured: run `multica setup` or pass --server-url",
                exit_code=EXIT_GENERIC,
            )
        self.server_url = server_url.rstrip("/")
        self.token = token
        self.workspace_id = workspace_id
        self.timeout = timeout if timeout is not None else default_timeout()
        base_headers = {
            "User-Agent": f"multica-cli/{__version__} (python)",
            "Accept": "application/json",
            "X-Client-Platform": platform,
            "X-Client-Version": __version__,
            "X-Client-OS": client_os(),
            "X-Client-Capabilities": (
                capabilities if capabilities is not None else CLI_CAPABILITIES
            ),
        }
        # Inside an agent task the server attributes writes to the agent (spec §4.4).
        for env, header in (("MULTICA_AGENT_ID", "X-Agent-ID"), ("MULTICA_TASK_ID", "X-Task-ID")):
            value = os.environ.get(env, "").strip()
            if value and platform == "cli":
                base_headers[header] = value
        if headers:
            base_headers.update(headers)
        self._headers = base_headers
        self._http = httpx.Client(timeout=self.timeout, follow_redirects=False)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> ApiClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def url(self, path: str) -> str:
        if path.startswith(("http://", "https://")):
            return path
        return self.server_url + ("" if path.startswith("/") else "/") + path

    def headers(self, extra: Mapping[str, str] | None = None) -> dict[str, str]:
        out = dict(self._headers)
        if self.token:
            out["Authorization"] = f"Bearer {self.token}"
        if self.workspace_id:
            out["X-Workspace-ID"] = self.workspace_id
        if extra:
            out.update(extra)
        return out

    def send(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        content: bytes | None = None,
        files: Mapping[str, Any] | None = None,
        data: Mapping[str, Any] | None = None,
        timeout: float | None = None,
    ) -> httpx.Response:
        """Send a request and return the raw response; only network failures raise.

        ``files``/``data`` send ``multipart/form-data`` (httpx's ``files=`` shapes).
        """
        clean_params = (
            {k: v for k, v in params.items() if v is not None and v != ""} if params else None
        )
        kwargs: dict[str, Any] = {"params": clean_params, "headers": self.headers(headers)}
        if json is not None:
            kwargs["json"] = json
        elif content is not None:
            kwargs["content"] = content
        if files is not None:
            kwargs["files"] = files
        if data is not None:
            kwargs["data"] = data
        if timeout is not None:
            kwargs["timeout"] = timeout
        try:
            return self._http.request(method.upper(), self.url(path), **kwargs)
        except httpx.TimeoutException as exc:
            raise ApiError(
                f"request to {self.server_url} timed out after {self.timeout:g}s",
                exit_code=EXIT_NETWORK,
            ) from exc
        except httpx.HTTPError as exc:
            reason = str(exc) or exc.__class__.__name__
            raise ApiError(
                f"cannot reach {self.server_url}: {reason}", exit_code=EXIT_NETWORK
            ) from exc

    def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        files: Mapping[str, Any] | None = None,
        data: Mapping[str, Any] | None = None,
        timeout: float | None = None,
    ) -> Any:
        """Send a request; return the decoded JSON body (None when empty) or raise ApiError."""
        response = self.send(
            method,
            path,
            json=json,
            params=params,
            headers=headers,
            files=files,
            data=data,
            timeout=timeout,
        )
        if response.status_code >= 400:
            raise error_from_response(response)
        if not response.content:
            return None
        try:
            return response.json()
        except ValueError as exc:
            raise ApiError(
                f"server returned a non-JSON response (HTTP {response.status_code})",
                status=response.status_code,
                exit_code=EXIT_GENERIC,
            ) from exc

    def get(self, path: str, **kwargs: Any) -> Any:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> Any:
        return self.request("POST", path, **kwargs)

    def put(self, path: str, **kwargs: Any) -> Any:
        return self.request("PUT", path, **kwargs)

    def patch(self, path: str, **kwargs: Any) -> Any:
        return self.request("PATCH", path, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> Any:
        return self.request("DELETE", path, **kwargs)
