"""Login, the current user and personal access tokens (spec §1). Included at the URL root."""

from __future__ import annotations

from django.urls import path

from workspaces.api import auth_views as v

urlpatterns = [
    path("auth/send-code", v.SendCodeView.as_view(), name="auth-send-code"),
    path("auth/verify-code", v.VerifyCodeView.as_view(), name="auth-verify-code"),
    path("auth/login", v.PasswordLoginView.as_view(), name="auth-login"),
    path("auth/logout", v.LogoutView.as_view(), name="auth-logout"),
    path("api/me", v.MeView.as_view(), name="me"),
    path("api/cli-token", v.CliTokenView.as_view(), name="cli-token"),
    path("api/tokens", v.TokenListView.as_view(), name="tokens"),
    path("api/tokens/current/renew", v.TokenRenewView.as_view(), name="token-renew"),
    path("api/tokens/<uuid:token_id>", v.TokenDetailView.as_view(), name="token-detail"),
]
