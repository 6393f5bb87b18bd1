"""Without the cryptography library (as in the Lambda package) SNS messages are refused, not trusted."""

import sys
from datetime import UTC, datetime

import pytest

from notifications import sns


def test_verification_fails_closed_without_cryptography(monkeypatch):
    for name in [m for m in sys.modules if m == "cryptography" or m.startswith("cryptography.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "cryptography", None)  # makes ``import cryptography`` fail
    message = {
        "Type": "Notification",
        "MessageId": "1",
        "TopicArn": "arn:aws:sns:us-east-1:123456789012:ses",
        "Message": "{}",
        "Timestamp": datetime.now(UTC).isoformat(),
        "SignatureVersion": "1",
        "Signature": "AAAA",
        "SigningCertURL": "https://sns.us-east-1.amazonaws.com/cert.pem",
    }
    with pytest.raises(sns.SnsVerificationError, match="cryptography unavailable"):
        sns.verify(message)
