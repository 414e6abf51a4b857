"""Login, logout, the current user and personal access tokens (spec §1.2, §1.3, §1.7).

Thin views: parse with a serializer, call :mod:`workspaces.services.auth`, render. The one HTTP
concern handled here is the pair of session cookies (``multica_auth`` + ``multica_csrf``).
"""

from __future__ import annotations

import ipaddress
import uuid
from typing import Any

from django.conf import settings
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from multica_site.errors import ValidationError
from multica_site.views import PublicAPIView, UserAPIView
from workspaces import tokens
from workspaces.api import auth_serializers as s
from workspaces.models import User
from workspaces.services import auth as auth_service

COOKIE_EXPIRED = "Thu, 01 Jan 1970 00:00:00 GMT"


def _input(serializer_class: type[serializers.Serializer], request: Request) -> dict[str, Any]:
    data = {} if request.data is None else request.data
    if not isinstance(data, dict):
        raise ValidationError("invalid request body")
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


# --- cookies ------------------------------------------------------------------------------------


def _cookie_domain() -> str | None:
    domain = (settings.COOKIE_DOMAIN or "").strip()
    if not domain:
        return None
    try:
        ipaddress.ip_address(domain.strip("[]"))
    except ValueError:
        return domain
    return None  # browsers reject a Domain attribute that is an IP address


def _cookie_secure() -> bool:
    return (settings.FRONTEND_ORIGIN or "").lower().startswith("https://")


def set_session_cookies(response: Response, jwt: str) -> None:
    """``multica_auth`` (HttpOnly) + ``multica_csrf`` (readable HMAC of the auth cookie)."""
    common: dict[str, Any] = {
        "max_age": int(settings.AUTH_TOKEN_TTL.total_seconds()),
        "path": "/",
        "domain": _cookie_domain(),
        "secure": _cookie_secure(),
        "samesite": "Strict",
    }
    response.set_cookie(settings.AUTH_COOKIE_NAME, jwt, httponly=True, **common)
    response.set_cookie(
        settings.CSRF_COOKIE_NAME_MULTICA, tokens.csrf_token_for(jwt), httponly=False, **common
    )


def clear_session_cookies(response: Response) -> None:
    for name, httponly in (
        (settings.AUTH_COOKIE_NAME, True),
        (settings.CSRF_COOKIE_NAME_MULTICA, False),
    ):
        response.set_cookie(
            name,
            "",
            max_age=0,
            expires=COOKIE_EXPIRED,
            path="/",
            domain=_cookie_domain(),
            secure=_cookie_secure(),
            httponly=httponly,
            samesite="Strict",
        )


def _login_response(user: User) -> Response:
    jwt = auth_service.session_token(user)
    response = Response({"token": jwt, "user": s.UserSerializer(user).data})
    set_session_cookies(response, jwt)
    return response


# --- login --------------------------------------------------------------------------------------


class SendCodeView(PublicAPIView):
    """``POST /auth/send-code``."""

    @extend_schema(request=s.SendCodeInput, responses=s.MessageSerializer)
    def post(self, request: Request) -> Response:
        data = _input(s.SendCodeInput, request)
        auth_service.send_code(email=data.get("email") or "")
        return Response({"message": "Verification code sent"})


class VerifyCodeView(PublicAPIView):
    """``POST /auth/verify-code``: JSON ``{token, user}`` plus the session cookies."""

    @extend_schema(request=s.VerifyCodeInput, responses=s.LoginResponseSerializer)
    def post(self, request: Request) -> Response:
        data = _input(s.VerifyCodeInput, request)
        user = auth_service.verify_code(email=data.get("email") or "", code=data.get("code") or "")
        return _login_response(user)


class PasswordLoginView(PublicAPIView):
    """``POST /auth/login``: password login for instances without e-mail delivery."""

    @extend_schema(request=s.PasswordLoginInput, responses=s.LoginResponseSerializer)
    def post(self, request: Request) -> Response:
        data = _input(s.PasswordLoginInput, request)
        user = auth_service.password_login(
            email=data.get("email") or "", password=data.get("password") or ""
        )
        return _login_response(user)


class LogoutView(PublicAPIView):
    """``POST /auth/logout``: clears both cookies."""

    @extend_schema(request=None, responses=s.MessageSerializer)
    def post(self, request: Request) -> Response:
        response = Response({"message": "logged out"})
        clear_session_cookies(response)
        return response


# --- the current user ---------------------------------------------------------------------------


class MeView(UserAPIView):
    """``GET`` / ``PATCH /api/me``."""

    @extend_schema(responses=s.UserSerializer)
    def get(self, request: Request) -> Response:
        return Response(s.UserSerializer(request.user).data)

    @extend_schema(request=s.MeUpdateInput, responses=s.UserSerializer)
    def patch(self, request: Request) -> Response:
        data = _input(s.MeUpdateInput, request)
        user = auth_service.user_update(user=request.user, changes=data)
        return Response(s.UserSerializer(user).data)


class CliTokenView(UserAPIView):
    """``POST /api/cli-token``: a fresh JWT the web app hands to ``multica login``."""

    @extend_schema(request=None, responses=s.TokenOnlySerializer)
    def post(self, request: Request) -> Response:
        return Response({"token": auth_service.session_token(request.user)})


# --- personal access tokens ---------------------------------------------------------------------


class TokenListView(UserAPIView):
    """``GET`` / ``POST /api/tokens``."""

    @extend_schema(responses=s.TokenSerializer(many=True))
    def get(self, request: Request) -> Response:
        return Response(
            s.TokenSerializer(auth_service.token_list(user=request.user), many=True).data
        )

    @extend_schema(request=s.TokenCreateInput, responses={201: s.TokenCreatedSerializer})
    def post(self, request: Request) -> Response:
        data = _input(s.TokenCreateInput, request)
        pat, raw = auth_service.token_create(
            user=request.user, name=data.get("name"), expires_in_days=data.get("expires_in_days")
        )
        body = s.TokenCreatedSerializer(pat, context={"raw_token": raw}).data
        return Response(body, status=201)


class TokenRenewView(UserAPIView):
    """``POST /api/tokens/current/renew``: only for a ``mul_`` bearer token."""

    @extend_schema(request=None, responses=s.RenewResponseSerializer)
    def post(self, request: Request) -> Response:
        result = auth_service.token_renew_current(user=request.user, credential=request.auth)
        expires_at = (
            serializers.DateTimeField().to_representation(result.expires_at)
            if result.expires_at is not None
            else ""
        )
        return Response({"expires_at": expires_at, "renewed": result.renewed})


class TokenDetailView(UserAPIView):
    """``DELETE /api/tokens/{id}``."""

    @extend_schema(responses={204: None})
    def delete(self, request: Request, token_id: uuid.UUID) -> Response:
        auth_service.token_revoke(user=request.user, token_id=token_id)
        return Response(status=204)
