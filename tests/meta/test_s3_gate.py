"""The S3 POST-policy gate of tests/fixtures/moto.py, against each rule it claims to enforce.

The direct-upload tests trust the gate to refuse what S3 refuses (moto accepts any form), so each
rule is tried here with a real form signed by boto3's ``generate_presigned_post`` and posted over
HTTP: the untouched form is stored, and each tampered or out-of-policy one is refused with S3's
status and error code, and stores nothing.
"""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

import boto3
import pytest
import requests
from botocore.config import Config

from tests.fixtures.moto import ACCESS_KEY, REGION, SECRET_KEY, PolicyError, evaluate_post, moto_s3_server  # noqa: F401

pytestmark = pytest.mark.integration

KEY = "projects/p1/f1/report.pdf"
BODY = b"hello world"  # 11 bytes


@pytest.fixture
def bucket(moto_s3_server):  # noqa: F811
    client = moto_s3_server.client()
    name = f"gate-{datetime.now(UTC).strftime('%H%M%S%f')}"
    client.create_bucket(Bucket=name)
    moto_s3_server.gate.refusals.clear()
    return name


def signer(moto_s3_server, *, secret: str = SECRET_KEY, access_key: str = ACCESS_KEY):  # noqa: F811
    return boto3.client(
        "s3",
        endpoint_url=moto_s3_server.endpoint_url,
        region_name=REGION,
        aws_access_key_id=access_key,
        aws_secret_access_key=secret,
        config=Config(signature_version="s3v4"),  # as the app signs (settings: AWS_S3_SIGNATURE_VERSION)
    )


def form(moto_s3_server, bucket, *, size=(11, 11), content_type="application/pdf", expires_in=60, **client):  # noqa: F811
    """A form as projects.storage.presigned_post makes it: exact size, fixed key and content type."""
    return signer(moto_s3_server, **client).generate_presigned_post(
        Bucket=bucket,
        Key=KEY,
        Fields={"Content-Type": content_type},
        Conditions=[{"Content-Type": content_type}, ["content-length-range", *size]],
        ExpiresIn=expires_in,
    )


def post(post_form, *, body=BODY, fields=None, drop=()):
    data = {k: v for k, v in {**post_form["fields"], **(fields or {})}.items() if k not in drop}
    return requests.post(post_form["url"], data=data, files={"file": ("report.pdf", body)}, timeout=10)


def stored(moto_s3_server, bucket) -> list[str]:  # noqa: F811
    listing = moto_s3_server.client().list_objects_v2(Bucket=bucket)
    return [o["Key"] for o in listing.get("Contents", [])]


def assert_refused(response, status, code, moto_s3_server, bucket):  # noqa: F811
    assert response.status_code == status, response.text
    assert f"<Code>{code}</Code>" in response.text, response.text
    assert moto_s3_server.gate.refusals[-1] == code
    assert stored(moto_s3_server, bucket) == []


def test_a_form_within_its_policy_is_stored(moto_s3_server, bucket):  # noqa: F811
    response = post(form(moto_s3_server, bucket))
    assert response.status_code == 204, response.text
    assert stored(moto_s3_server, bucket) == [KEY]
    assert moto_s3_server.client().get_object(Bucket=bucket, Key=KEY)["Body"].read() == BODY
    assert moto_s3_server.gate.refusals == []


# -- size range --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("body", "code", "limit"),
    [(BODY + b"!", "EntityTooLarge", "<MaxSizeAllowed>11<"), (BODY[:-1], "EntityTooSmall", "<MinSizeAllowed>11<")],
)
def test_a_body_outside_the_size_range_is_refused(moto_s3_server, bucket, body, code, limit):  # noqa: F811
    response = post(form(moto_s3_server, bucket), body=body)
    assert_refused(response, 400, code, moto_s3_server, bucket)
    assert limit in response.text


def test_the_size_range_is_inclusive(moto_s3_server, bucket):  # noqa: F811
    assert post(form(moto_s3_server, bucket, size=(1, 11))).status_code == 204


# -- key and content type ------------------------------------------------------------------------
def test_another_key_is_refused(moto_s3_server, bucket):  # noqa: F811
    response = post(form(moto_s3_server, bucket), fields={"key": "projects/p1/f1/../../other.pdf"})
    assert_refused(response, 403, "AccessDenied", moto_s3_server, bucket)
    assert "Policy Condition failed" in response.text and "$key" in response.text


def test_a_starts_with_condition_holds_the_prefix(moto_s3_server, bucket):  # noqa: F811
    post_form = signer(moto_s3_server).generate_presigned_post(
        Bucket=bucket, Key="uploads/${filename}", Conditions=[["starts-with", "$key", "uploads/"]], ExpiresIn=60
    )
    assert post(post_form, fields={"key": "uploads/mine.txt"}).status_code == 204
    response = post(post_form, fields={"key": "elsewhere/mine.txt"})
    assert response.status_code == 403 and "AccessDenied" in response.text
    assert stored(moto_s3_server, bucket) == ["uploads/mine.txt"]


def test_another_content_type_is_refused(moto_s3_server, bucket):  # noqa: F811
    response = post(form(moto_s3_server, bucket), fields={"Content-Type": "text/html"})
    assert_refused(response, 403, "AccessDenied", moto_s3_server, bucket)
    assert "$content-type" in response.text


def test_a_field_the_policy_does_not_cover_is_refused(moto_s3_server, bucket):  # noqa: F811
    response = post(form(moto_s3_server, bucket), fields={"acl": "public-read"})
    assert_refused(response, 403, "AccessDenied", moto_s3_server, bucket)
    assert "Extra input fields: acl" in response.text
    # x-ignore-* fields are the documented exception.
    assert post(form(moto_s3_server, bucket), fields={"x-ignore-note": "anything"}).status_code == 204


# -- expiry --------------------------------------------------------------------------------------
def test_an_expired_form_is_refused(moto_s3_server, bucket):  # noqa: F811
    response = post(form(moto_s3_server, bucket, expires_in=-1))
    assert_refused(response, 403, "AccessDenied", moto_s3_server, bucket)
    assert "Policy expired" in response.text


def test_expiry_is_judged_at_the_second_it_passes():
    """The rule itself, on the clock of the caller: valid until, not at, the expiration."""
    post_form = boto3.client(
        "s3",
        region_name=REGION,
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY,
        config=Config(signature_version="s3v4"),
    ).generate_presigned_post(Bucket="b", Key=KEY, ExpiresIn=60)
    fields = {k.lower(): v for k, v in post_form["fields"].items()}
    expiration = json.loads(base64.b64decode(fields["policy"]))["expiration"]
    expires = datetime.strptime(expiration, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    kwargs = {"bucket": "b", "fields": fields, "file_bytes": BODY, "secret": SECRET_KEY}
    evaluate_post(**kwargs, now=expires - timedelta(seconds=1))
    with pytest.raises(PolicyError) as refused:
        evaluate_post(**kwargs, now=expires)
    assert (refused.value.status, refused.value.code) == (403, "AccessDenied")


# -- signature -----------------------------------------------------------------------------------
def test_a_tampered_signature_is_refused(moto_s3_server, bucket):  # noqa: F811
    post_form = form(moto_s3_server, bucket)
    signature = post_form["fields"]["x-amz-signature"]
    forged = ("0" if signature[0] != "0" else "1") + signature[1:]
    response = post(post_form, fields={"x-amz-signature": forged})
    assert_refused(response, 403, "SignatureDoesNotMatch", moto_s3_server, bucket)


def test_a_policy_rewritten_under_its_signature_is_refused(moto_s3_server, bucket):  # noqa: F811
    """Raising the size limit in the policy breaks the signature over it."""
    post_form = form(moto_s3_server, bucket)
    policy = json.loads(base64.b64decode(post_form["fields"]["policy"]))
    policy["conditions"] = [
        c if not (isinstance(c, list) and c[0] == "content-length-range") else ["content-length-range", 0, 10**9]
        for c in policy["conditions"]
    ]
    rewritten = base64.b64encode(json.dumps(policy).encode()).decode()
    response = post(post_form, fields={"policy": rewritten}, body=BODY * 100)
    assert_refused(response, 403, "SignatureDoesNotMatch", moto_s3_server, bucket)


def test_a_form_signed_with_another_secret_is_refused(moto_s3_server, bucket):  # noqa: F811
    response = post(form(moto_s3_server, bucket, secret="not-the-secret-key"))
    assert_refused(response, 403, "SignatureDoesNotMatch", moto_s3_server, bucket)


def test_a_form_of_an_unknown_access_key_is_refused(moto_s3_server, bucket):  # noqa: F811
    response = post(form(moto_s3_server, bucket, access_key="AKIAUNKNOWN"))
    assert_refused(response, 403, "InvalidAccessKeyId", moto_s3_server, bucket)


@pytest.mark.parametrize("missing", ["policy", "x-amz-signature", "x-amz-credential"])
def test_a_form_missing_its_policy_or_signature_is_refused(moto_s3_server, bucket, missing):  # noqa: F811
    response = post(form(moto_s3_server, bucket), drop=(missing,))
    assert response.status_code in (400, 403), response.text
    assert stored(moto_s3_server, bucket) == []
    assert moto_s3_server.gate.refusals  # the gate answered, not moto


def test_a_policy_that_is_no_document_is_refused_not_crashed_on(moto_s3_server, bucket):  # noqa: F811
    """A policy the gate cannot read is S3's 400 InvalidPolicyDocument, never an exception in the
    gate's thread (which would fail this test: tests/fakes/server.py)."""
    garbage = base64.b64encode(b"{not json").decode()
    post_form = signer(moto_s3_server).generate_presigned_post(Bucket=bucket, Key=KEY, ExpiresIn=60)
    fields = {k.lower(): v for k, v in post_form["fields"].items()}
    with pytest.raises(PolicyError) as refused:
        evaluate_post(
            bucket=bucket,
            fields={**fields, "policy": garbage},
            file_bytes=BODY,
            secret=SECRET_KEY,
            now=datetime.now(UTC),
        )
    assert refused.value.code == "SignatureDoesNotMatch"  # the signature covers the policy's bytes
    # Signed garbage gets past the signature and is refused as a document.
    import hashlib
    import hmac

    from tests.fixtures.moto import _signing_key

    _akid, date, region, service, _ = fields["x-amz-credential"].split("/")
    signature = hmac.new(_signing_key(SECRET_KEY, date, region, service), garbage.encode(), hashlib.sha256).hexdigest()
    response = post(post_form, fields={"policy": garbage, "x-amz-signature": signature})
    assert_refused(response, 400, "InvalidPolicyDocument", moto_s3_server, bucket)


# -- everything else goes to moto as it is ---------------------------------------------------------
def test_requests_other_than_form_posts_pass_through(moto_s3_server, bucket):  # noqa: F811
    client = moto_s3_server.client()
    client.put_object(Bucket=bucket, Key="direct.txt", Body=b"via the SDK")
    assert client.head_object(Bucket=bucket, Key="direct.txt")["ContentLength"] == 11
    assert client.get_object(Bucket=bucket, Key="direct.txt")["Body"].read() == b"via the SDK"
    client.delete_object(Bucket=bucket, Key="direct.txt")
    assert stored(moto_s3_server, bucket) == []
    assert moto_s3_server.gate.refusals == []
