"""The auth API (/api/v1/auth/): thin views over accounts.services."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, cast

from django.conf import settings
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api import validate
from core.schema import error_responses

from . import services, throttles
from .models import User
from .serializers import (
    DetailSerializer,
    EmailSerializer,
    LoginSerializer,
    MeSerializer,
    MeUpdateSerializer,
    PasswordChangeSerializer,
    PasswordResetConfirmSerializer,
    PasswordSerializer,
    RefreshSerializer,
    RegisterSerializer,
    TokenPairSerializer,
    TokenSerializer,
    UserSerializer,
)

# The one body of every "we may have sent you an email" answer, whoever the address belongs to.
EMAIL_SENT_BODY = {"detail": "If this address can receive the email, it is on its way."}
NO_CONTENT = OpenApiResponse(description="Done.")


def _me(request: Request) -> User:
    return cast(User, request.user)  # IsAuthenticated has run


@contextmanager
def _min_duration() -> Iterator[None]:
    """Answer no sooner than ACCOUNTS_MIN_RESPONSE_SECONDS whichever path the service took, so the
    response time does not tell whether an address has an account."""
    started = time.monotonic()
    try:
        yield
    finally:
        remaining = settings.ACCOUNTS_MIN_RESPONSE_SECONDS - (time.monotonic() - started)
        if remaining > 0:
            time.sleep(remaining)


class PublicView(APIView):
    permission_classes = [AllowAny]
    authentication_classes: list = []


class RegisterView(PublicView):
    @extend_schema(request=RegisterSerializer, responses={201: UserSerializer}, summary="Create an account")
    def post(self, request: Request) -> Response:
        data = validate(RegisterSerializer, request.data)
        throttles.check(request, "register", data["email"])
        with _min_duration():
            user, created = services.user_register(
                email=data["email"],
                password=data["password"],
                name=data["name"],
                meta=services.RequestMeta.from_request(request),
            )
        body: dict[str, Any]
        if created:
            body = dict(UserSerializer(user).data)
        else:  # the same shape as a new account: the caller must not learn the address is taken
            body = {"id": str(uuid.uuid4()), "email": user.email, "name": data["name"], "email_verified": False}
        return Response(body, status=status.HTTP_201_CREATED)


class VerifyEmailView(PublicView):
    @extend_schema(
        request=TokenSerializer,
        responses={200: UserSerializer, **error_responses(409)},  # email_taken meanwhile
        summary="Confirm an email address",
    )
    def post(self, request: Request) -> Response:
        data = validate(TokenSerializer, request.data)
        user = services.email_verify(token=data["token"], meta=services.RequestMeta.from_request(request))
        return Response(UserSerializer(user).data)


class EmailRevertView(PublicView):
    @extend_schema(
        request=TokenSerializer,
        responses={200: UserSerializer, **error_responses(409)},  # email_taken meanwhile
        summary="Undo an email change (the link sent to the old address)",
    )
    def post(self, request: Request) -> Response:
        data = validate(TokenSerializer, request.data)
        user = services.email_revert(token=data["token"], meta=services.RequestMeta.from_request(request))
        return Response(UserSerializer(user).data)


class VerifyEmailResendView(PublicView):
    @extend_schema(request=EmailSerializer, responses={202: DetailSerializer}, summary="Send the link again")
    def post(self, request: Request) -> Response:
        data = validate(EmailSerializer, request.data)
        throttles.check(request, "verify_resend", data["email"])
        with _min_duration():
            services.verification_resend(email=data["email"], meta=services.RequestMeta.from_request(request))
        return Response(EMAIL_SENT_BODY, status=status.HTTP_202_ACCEPTED)


class LoginView(PublicView):
    @extend_schema(request=LoginSerializer, responses={200: TokenPairSerializer}, summary="Log in")
    def post(self, request: Request) -> Response:
        data = validate(LoginSerializer, request.data)
        throttles.check(request, "login", data["email"])
        pair = services.login(
            email=data["email"], password=data["password"], meta=services.RequestMeta.from_request(request)
        )
        return Response(pair)


class RefreshView(PublicView):
    @extend_schema(request=RefreshSerializer, responses={200: TokenPairSerializer}, summary="Rotate tokens")
    def post(self, request: Request) -> Response:
        data = validate(RefreshSerializer, request.data)
        pair = services.token_refresh(raw=data["refresh"], meta=services.RequestMeta.from_request(request))
        return Response(pair)


class LogoutView(PublicView):
    @extend_schema(request=RefreshSerializer, responses={204: NO_CONTENT}, summary="Revoke a refresh token")
    def post(self, request: Request) -> Response:
        data = validate(RefreshSerializer, request.data)
        services.logout(raw=data["refresh"], meta=services.RequestMeta.from_request(request))
        return Response(status=status.HTTP_204_NO_CONTENT)


class MeView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses={200: MeSerializer}, summary="Your profile")
    def get(self, request: Request) -> Response:
        return Response(MeSerializer(request.user).data)

    @extend_schema(request=MeUpdateSerializer, responses={200: MeSerializer}, summary="Change name or email")
    def patch(self, request: Request) -> Response:
        data = validate(MeUpdateSerializer, request.data)
        if data.get("email"):  # each change mails a link to an address of the caller's choosing
            throttles.check(request, "verify_resend", data["email"])
            throttles.check_password_attempt(_me(request))
        user = services.profile_update(
            user=_me(request),
            name=data.get("name"),
            email=data.get("email"),
            password=data.get("password"),
            meta=services.RequestMeta.from_request(request),
        )
        return Response(MeSerializer(user).data)

    @extend_schema(request=PasswordSerializer, responses={204: NO_CONTENT}, summary="Delete your account")
    def delete(self, request: Request) -> Response:
        data = validate(PasswordSerializer, request.data)
        throttles.check_password_attempt(_me(request))
        services.user_delete_self(
            user=_me(request), password=data["password"], meta=services.RequestMeta.from_request(request)
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


class ExportView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        responses={
            200: OpenApiResponse(
                response=OpenApiTypes.OBJECT,
                description="All your data, one key per section (each app adds its own: free-form by design).",
            )
        }
    )
    def get(self, request: Request) -> Response:
        return Response(services.user_export(_me(request)))


class PasswordChangeView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(request=PasswordChangeSerializer, responses={204: NO_CONTENT}, summary="Change your password")
    def post(self, request: Request) -> Response:
        data = validate(PasswordChangeSerializer, request.data)
        throttles.check_password_attempt(_me(request))
        services.password_change(
            user=_me(request),
            old_password=data["old_password"],
            new_password=data["new_password"],
            meta=services.RequestMeta.from_request(request),
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


class PasswordResetView(PublicView):
    @extend_schema(request=EmailSerializer, responses={202: DetailSerializer}, summary="Email a reset link")
    def post(self, request: Request) -> Response:
        data = validate(EmailSerializer, request.data)
        throttles.check(request, "password_reset", data["email"])
        with _min_duration():
            services.password_reset_request(email=data["email"], meta=services.RequestMeta.from_request(request))
        return Response(EMAIL_SENT_BODY, status=status.HTTP_202_ACCEPTED)


class PasswordResetConfirmView(PublicView):
    @extend_schema(request=PasswordResetConfirmSerializer, responses={204: NO_CONTENT}, summary="Set a new password")
    def post(self, request: Request) -> Response:
        data = validate(PasswordResetConfirmSerializer, request.data)
        services.password_reset_confirm(
            token=data["token"], new_password=data["new_password"], meta=services.RequestMeta.from_request(request)
        )
        return Response(status=status.HTTP_204_NO_CONTENT)
