"""Errors of the accounts app (each a stable ``code``; see docs/accounts.md)."""

from __future__ import annotations

from core.errors import ApiError, Conflict, InvalidInput, PermissionDenied


class InvalidCredentials(ApiError):
    status_code = 401
    code = "invalid_credentials"
    message = "No active account found with the given credentials."


class RefreshTokenInvalid(ApiError):
    """A refresh token that is malformed, forged, expired, blacklisted or whose user is gone."""

    status_code = 401
    code = "token_not_valid"
    message = "The refresh token is invalid or expired."


class AccountInactive(ApiError):
    status_code = 401
    code = "account_inactive"
    message = "This account is deactivated."


class TokenInvalid(InvalidInput):
    code = "token_invalid"
    message = "This link is invalid or has already been used."

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message, fields={"token": [message or self.message]})


class TokenExpired(InvalidInput):
    code = "token_expired"
    message = "This link has expired. Please ask for a new one."

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message, fields={"token": [message or self.message]})


class WrongPassword(InvalidInput):
    code = "wrong_password"
    message = "The password is not correct."

    def __init__(self, field: str = "password") -> None:
        super().__init__(fields={field: [self.message]})


class EmailTaken(Conflict):
    code = "email_taken"
    message = "Another account already uses this email address."


class EmailNotVerified(PermissionDenied):
    """A feature that spends money or mails third parties was asked for by an unverified account."""

    code = "email_not_verified"
    message = "Verify your email address to use this feature."
