"""Input and output shapes of the auth API. Inputs list only writable fields: anything else sent
(id, email_verified, is_staff, is_active, plan fields, ...) is ignored."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from core.serializers import StrictModelSerializer, StrictSerializer

from .models import User

PASSWORD: dict[str, Any] = {"write_only": True, "trim_whitespace": False, "max_length": 512}


class UserSerializer(StrictModelSerializer):
    class Meta:
        model = User
        fields = ["id", "email", "name", "email_verified"]
        read_only_fields = fields


class MeSerializer(StrictModelSerializer):
    pending_email = serializers.CharField(  # '' when none: not an email
        read_only=True, help_text="A new address waiting for confirmation by the link sent to it ('' if none)."
    )

    class Meta:
        model = User
        fields = ["id", "email", "name", "email_verified", "pending_email", "date_joined"]
        read_only_fields = fields


class RegisterSerializer(StrictSerializer):
    email = serializers.EmailField(max_length=254)
    password = serializers.CharField(**PASSWORD)
    name = serializers.CharField(max_length=150)


class MeUpdateSerializer(StrictSerializer):
    name = serializers.CharField(max_length=150, required=False)
    email = serializers.EmailField(
        max_length=254, required=False, help_text="Sends a confirmation link to the new address; see pending_email."
    )
    password = serializers.CharField(**PASSWORD, required=False, help_text="The current password: required with email.")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if "email" in attrs and not attrs.get("password"):
            raise serializers.ValidationError({"password": ["The current password is required to change the email."]})
        return attrs


class EmailSerializer(StrictSerializer):
    email = serializers.EmailField(max_length=254)


class LoginSerializer(StrictSerializer):
    email = serializers.EmailField(max_length=254)
    password = serializers.CharField(**PASSWORD)


class TokenPairSerializer(StrictSerializer):
    access = serializers.CharField()
    refresh = serializers.CharField()


class RefreshSerializer(StrictSerializer):
    refresh = serializers.CharField(max_length=4096)


class TokenSerializer(StrictSerializer):
    token = serializers.CharField(max_length=2048)


class PasswordSerializer(StrictSerializer):
    password = serializers.CharField(**PASSWORD)


class PasswordChangeSerializer(StrictSerializer):
    old_password = serializers.CharField(**PASSWORD)
    new_password = serializers.CharField(**PASSWORD)


class PasswordResetConfirmSerializer(StrictSerializer):
    token = serializers.CharField(max_length=2048)
    new_password = serializers.CharField(**PASSWORD)


class DetailSerializer(StrictSerializer):
    detail = serializers.CharField()
