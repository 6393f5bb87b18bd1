"""Amazon SNS message signature verification (anymail 15.2's SES webhook does not check it).

https://docs.aws.amazon.com/sns/latest/dg/sns-verify-signature-of-message.html — the signing
certificate is fetched only from a URL matching ``NOTIFICATIONS_SNS_CERT_URL_REGEX``
(``https://sns.<region>.amazonaws.com/...`` in every real environment), without following redirects,
and cached for a day. A message whose signed ``Timestamp`` is more than
``NOTIFICATIONS_SNS_MAX_AGE_SECONDS`` (an hour) away from now is refused, so a captured message cannot
be replayed later.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import re
import urllib.request
from datetime import datetime
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone

_SIGNED_KEYS = {
    "Notification": ["Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"],
    "SubscriptionConfirmation": ["Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type"],
    "UnsubscribeConfirmation": ["Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type"],
}
# SNS SignatureVersion 1 is SHA1withRSA, 2 is SHA256withRSA.
_HASH_NAMES = {"1": "SHA1", "2": "SHA256"}
CERT_CACHE_SECONDS = 24 * 3600


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """The allowlist checks the URL we were given; a redirect would let the allowed host's answer
    choose where the certificate (the key we trust) comes from, so none is followed."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


@functools.cache
def _opener() -> urllib.request.OpenerDirector:
    # Built on first use: its HTTPS handler loads the system CA store (~17 ms), which only this
    # webhook needs — not every Lambda cold start.
    return urllib.request.build_opener(_NoRedirect)


class SnsVerificationError(Exception):
    pass


def string_to_sign(message: dict[str, Any]) -> bytes:
    keys = _SIGNED_KEYS.get(str(message.get("Type")))
    if keys is None:
        raise SnsVerificationError(f"unknown SNS message type {message.get('Type')!r}")
    lines: list[str] = []
    for key in keys:
        if key in message and message[key] is not None:
            lines += [key, str(message[key])]
    return ("\n".join(lines) + "\n").encode()


def _crypto() -> Any:
    """The ``cryptography`` primitives, imported on first use (only the webhook needs them). Where the
    library is missing a message cannot be verified, so it is refused (fail closed) — see
    docs/notifications.md."""
    try:
        from cryptography import exceptions, x509
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import padding
    except ImportError as exc:
        raise SnsVerificationError(f"SNS signatures cannot be checked here (cryptography unavailable: {exc})")
    return exceptions, x509, hashes, padding


def _certificate(url: str) -> Any:
    _, x509, _, _ = _crypto()
    if not re.match(settings.NOTIFICATIONS_SNS_CERT_URL_REGEX, url or ""):
        raise SnsVerificationError(f"SigningCertURL {url!r} is not an Amazon SNS certificate URL")
    cache_key = "notifications:sns-cert:" + hashlib.sha256(url.encode()).hexdigest()
    pem = cache.get(cache_key)
    if pem is None:
        try:
            with _opener().open(url, timeout=5) as response:  # URL checked above; redirects refused
                pem = response.read()
        except OSError as exc:
            raise SnsVerificationError(f"could not fetch the SNS signing certificate: {exc}")
        cache.set(cache_key, pem, CERT_CACHE_SECONDS)
    try:
        certificate = x509.load_pem_x509_certificate(pem)
    except ValueError as exc:
        raise SnsVerificationError(f"unreadable SNS signing certificate: {exc}")
    now = timezone.now()
    if not certificate.not_valid_before_utc <= now <= certificate.not_valid_after_utc:
        raise SnsVerificationError("the SNS signing certificate is not valid now")
    return certificate


def check_timestamp(message: dict[str, Any]) -> None:
    """Refuse a message whose ``Timestamp`` (signed) is missing or too far from now: a replay."""
    try:
        sent = datetime.fromisoformat(str(message.get("Timestamp", "")).replace("Z", "+00:00"))
    except ValueError:
        raise SnsVerificationError("missing or malformed SNS Timestamp")
    if sent.tzinfo is None:
        raise SnsVerificationError("SNS Timestamp without a time zone")
    age = (timezone.now() - sent).total_seconds()
    if abs(age) > settings.NOTIFICATIONS_SNS_MAX_AGE_SECONDS:
        raise SnsVerificationError(f"SNS message sent {age:.0f} s ago: too old (or from the future)")


def verify(message: dict[str, Any]) -> None:
    """Raise ``SnsVerificationError`` unless ``message`` carries a valid SNS signature from an
    allowed topic (``NOTIFICATIONS_SES_TOPIC_ARNS``; empty allows any — production refuses to start
    without it, ``notifications.checks``) and was sent within the last hour."""
    allowed_topics = settings.NOTIFICATIONS_SES_TOPIC_ARNS
    if allowed_topics and message.get("TopicArn") not in allowed_topics:
        raise SnsVerificationError(f"unexpected SNS topic {message.get('TopicArn')!r}")
    check_timestamp(message)
    exceptions, _, hashes, padding = _crypto()
    hash_name = _HASH_NAMES.get(str(message.get("SignatureVersion")))
    if hash_name is None:
        raise SnsVerificationError(f"unsupported SNS SignatureVersion {message.get('SignatureVersion')!r}")
    try:
        signature = base64.b64decode(str(message.get("Signature", "")), validate=True)
    except ValueError:
        raise SnsVerificationError("malformed SNS signature")
    certificate = _certificate(str(message.get("SigningCertURL", "")))
    try:
        algorithm = getattr(hashes, hash_name)()
        certificate.public_key().verify(signature, string_to_sign(message), padding.PKCS1v15(), algorithm)
    except (exceptions.InvalidSignature, TypeError, ValueError):
        raise SnsVerificationError("invalid SNS signature")
