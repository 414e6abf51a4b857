"""Request and response shapes of the login, ``/api/me`` and ``/api/tokens`` endpoints (spec §1).

Input serializers only check types; the rules (and Multica's error sentences) live in
:mod:`workspaces.services.auth`.
"""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from workspaces.models import PersonalAccessToken, User


class TextField(serializers.CharField):
    """A string with NUL bytes stripped (spec §0) instead of refused."""

    def to_internal_value(self, data: Any) -> str:
        return super().to_internal_value(data).replace("\x00", "")


def _text(**kwargs: Any) -> serializers.CharField:
    kwargs.setdefault("required", False)
    kwargs.setdefault("allow_blank", True)
    kwargs.setdefault("trim_whitespace", False)
    return TextField(**kwargs)


# --- input --------------------------------------------------------------------------------------


class SendCodeInput(serializers.Serializer):
    email = _text(allow_null=True, max_length=1024)


class VerifyCodeInput(serializers.Serializer):
    email = _text(allow_null=True, max_length=1024)
    code = _text(allow_null=True, max_length=64)


class PasswordLoginInput(serializers.Serializer):
    email = _text(allow_null=True, max_length=1024)
    password = _text(allow_null=True, max_length=4096)


class MeUpdateInput(serializers.Serializer):
    name = _text(allow_null=True)
    avatar_url = _text(allow_null=True)
    language = _text(allow_null=True)
    profile_description = _text(allow_null=True)
    timezone = _text(allow_null=True)


class TokenCreateInput(serializers.Serializer):
    name = _text(allow_null=True)
    expires_in_days = serializers.IntegerField(required=False, allow_null=True)


# --- output -------------------------------------------------------------------------------------


class UserSerializer(serializers.ModelSerializer):
    onboarding_questionnaire = serializers.SerializerMethodField()

    class Meta:
        model = User
        fields = (
            "id",
            "name",
            "email",
            "avatar_url",
            "language",
            "timezone",
            "onboarded_at",
            "onboarding_questionnaire",
            "starter_content_state",
            "profile_description",
            "created_at",
            "updated_at",
        )
        read_only_fields = fields

    def get_onboarding_questionnaire(self, user: User) -> dict:
        value = user.onboarding_questionnaire
        return value if isinstance(value, dict) else {}


class TokenSerializer(serializers.ModelSerializer):
    class Meta:
        model = PersonalAccessToken
        fields = ("id", "name", "token_prefix", "expires_at", "last_used_at", "created_at")
        read_only_fields = fields


class TokenCreatedSerializer(TokenSerializer):
    token = serializers.SerializerMethodField()

    class Meta(TokenSerializer.Meta):
        fields = (*TokenSerializer.Meta.fields, "token")
        read_only_fields = fields

    def get_token(self, pat: PersonalAccessToken) -> str:
        return self.context["raw_token"]


class LoginResponseSerializer(serializers.Serializer):
    token = serializers.CharField()
    user = UserSerializer()


class MessageSerializer(serializers.Serializer):
    message = serializers.CharField()


class TokenOnlySerializer(serializers.Serializer):
    token = serializers.CharField()


class RenewResponseSerializer(serializers.Serializer):
    expires_at = serializers.CharField()
    renewed = serializers.BooleanField()
