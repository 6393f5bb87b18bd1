"""Enumeration resistance and throttles (per client IP and per target email, shared cache)."""

import os
import subprocess
import sys

import pytest
from django.conf import settings as django_settings
from django.core import mail

from accounts.models import User
from tests.accounts.conftest import STRONG_PASSWORD
from tests.security.route_matrix import covers_route
from tests.support import assert_api_error, wait_for_fresh_window
from tests.timing import alternating_samples, median_gap

pytestmark = pytest.mark.django_db

REGISTER = "/api/v1/auth/register/"
LOGIN = "/api/v1/auth/token/"
RESEND = "/api/v1/auth/verify-email/resend/"
RESET = "/api/v1/auth/password/reset/"


# ------------------------------------------------------------------------------------------------
# Enumeration
# ------------------------------------------------------------------------------------------------
@covers_route("accounts:register", "anonymous", methods=("post",))
def test_register_of_an_existing_email_looks_like_a_new_account(call, api_client, user):
    known = call(api_client, "post", REGISTER, {"email": user.email, "password": STRONG_PASSWORD, "name": "X Y"})
    new = call(api_client, "post", REGISTER, {"email": "fresh@example.com", "password": STRONG_PASSWORD, "name": "X Y"})
    assert known.status_code == new.status_code == 201
    assert set(known.json()) == set(new.json())
    assert known.json()["email_verified"] is new.json()["email_verified"] is False
    assert known.json()["id"] != str(user.pk)
    # the existing owner hears about it, the caller learns nothing; the account is untouched
    owner_mail = [m for m in mail.outbox if m.to == [user.email]]
    assert len(owner_mail) == 1 and "already have" in owner_mail[0].subject
    assert "token=" not in owner_mail[0].body
    user.refresh_from_db()
    assert user.name != "X Y" and not user.check_password(STRONG_PASSWORD)
    assert User.objects.filter(email=user.email).count() == 1


def test_register_of_an_existing_email_still_validates_the_password(call, api_client, user):
    response = call(api_client, "post", REGISTER, {"email": user.email, "password": "short", "name": "X"})
    assert_api_error(response, 400, "weak_password")


@covers_route("accounts:password-reset", "anonymous", methods=("post",))
@covers_route("accounts:verify-email-resend", "anonymous", methods=("post",))
@pytest.mark.parametrize("url", [RESET, RESEND])
def test_reset_and_resend_answer_the_same_for_known_and_unknown_addresses(call, api_client, url):
    from tests.factories import UserFactory

    known = UserFactory(email_verified=False)
    a = call(api_client, "post", url, {"email": known.email})
    b = call(api_client, "post", url, {"email": "nobody-here@example.com"})
    assert a.status_code == b.status_code == 202
    assert a.content == b.content
    assert len(mail.outbox) == 1 and mail.outbox[0].to == [known.email]


SAMPLES = 3


@pytest.mark.parametrize("url", [RESET, RESEND, REGISTER])
def test_anonymous_email_endpoints_take_the_same_minimum_time(
    api_client, settings, url, django_capture_on_commit_callbacks
):
    from tests.factories import UserFactory

    # The floor must exceed the real work of either path, even on a loaded CI machine.
    settings.ACCOUNTS_MIN_RESPONSE_SECONDS = 0.6
    warm_up = UserFactory(email_verified=False)  # the first request of a process imports and compiles
    with django_capture_on_commit_callbacks(execute=True):
        api_client.post(url, {"email": warm_up.email, "password": STRONG_PASSWORD, "name": "Some One"}, format="json")
    # Addresses used once each (the per-address throttle allows 3 an hour); the two paths alternate so
    # load that comes and goes falls on both, and their medians are compared, not one pair.
    known = iter(UserFactory(email_verified=False).email for _ in range(SAMPLES))
    unknown = iter(f"nobody-{n}@example.com" for n in range(SAMPLES))

    def request(emails):
        def call():
            # Timed: the response. Not run: the email queued after commit (a broker publish in
            # production, which this test would otherwise run inline).
            with django_capture_on_commit_callbacks(execute=False):
                response = api_client.post(
                    url, {"email": next(emails), "password": STRONG_PASSWORD, "name": "Some One"}, format="json"
                )
            assert response.status_code in (201, 202), response.content  # answered, not throttled

        return call

    times_known, times_unknown = alternating_samples(request(known), request(unknown), samples=SAMPLES)
    assert min(times_known + times_unknown) >= 0.6
    assert median_gap(times_known, times_unknown) < 0.2, (times_known, times_unknown)


# ------------------------------------------------------------------------------------------------
# Throttles
# ------------------------------------------------------------------------------------------------
def attempt_login(client, email, ip="10.1.1.1"):
    return client.post(LOGIN, {"email": email, "password": "wrong-password"}, format="json", REMOTE_ADDR=ip)


def test_login_is_throttled_per_email_across_ips(api_client, user, settings):
    settings.THROTTLE_LOGIN = "3/5m"
    for n in range(3):
        assert attempt_login(api_client, user.email, ip=f"10.0.0.{n}").status_code == 401
    response = attempt_login(api_client, user.email.upper(), ip="10.0.0.99")
    assert_api_error(response, 429, "throttled")
    assert 1 <= int(response["Retry-After"]) <= 300
    # the right password does not get through either while the limit holds
    ok = api_client.post(LOGIN, {"email": user.email, "password": "correct-horse-battery-staple"}, format="json")
    assert ok.status_code == 429
    # another address is not affected
    assert attempt_login(api_client, "someone-else@example.com", ip="10.0.0.99").status_code == 401


def test_login_is_throttled_per_ip_across_emails(api_client, settings):
    settings.THROTTLE_LOGIN_IP = "3/5m"
    for n in range(3):
        assert attempt_login(api_client, f"victim{n}@example.com").status_code == 401
    assert_api_error(attempt_login(api_client, "victim9@example.com"), 429, "throttled")
    assert attempt_login(api_client, "victim9@example.com", ip="10.2.2.2").status_code == 401


def test_spoofed_forwarded_for_does_not_escape_the_ip_limit(api_client, settings):
    settings.THROTTLE_LOGIN_IP = "2/5m"
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 0}
    for n in range(2):
        api_client.post(LOGIN, {"email": f"v{n}@example.com", "password": "x"}, HTTP_X_FORWARDED_FOR=f"1.1.1.{n}")
    response = api_client.post(LOGIN, {"email": "v9@example.com", "password": "x"}, HTTP_X_FORWARDED_FOR="9.9.9.9")
    assert response.status_code == 429


@pytest.mark.parametrize(
    ("url", "setting", "payload", "accepted"),
    [
        (REGISTER, "THROTTLE_REGISTER", {"password": STRONG_PASSWORD, "name": "Some One"}, 201),
        (RESET, "THROTTLE_PASSWORD_RESET", {}, 202),
        (RESEND, "THROTTLE_VERIFY_RESEND", {}, 202),
    ],
)
def test_email_endpoints_are_throttled_per_email(call, api_client, settings, url, setting, payload, accepted):
    setattr(settings, setting, "2/h")
    for n in range(2):
        response = call(api_client, "post", url, {"email": "target@example.com", **payload}, REMOTE_ADDR=f"10.3.0.{n}")
        # A second registration of one address is answered like the first (no enumeration).
        assert response.status_code == accepted
    response = call(api_client, "post", url, {"email": "Target@example.com", **payload}, REMOTE_ADDR="10.3.0.9")
    assert_api_error(response, 429, "throttled")
    assert int(response["Retry-After"]) >= 1


@pytest.mark.parametrize(
    ("url", "setting", "payload", "accepted"),
    [
        (REGISTER, "THROTTLE_REGISTER_IP", {"password": STRONG_PASSWORD, "name": "Some One"}, 201),
        (RESET, "THROTTLE_PASSWORD_RESET_IP", {}, 202),
        (RESEND, "THROTTLE_VERIFY_RESEND_IP", {}, 202),
    ],
)
def test_email_endpoints_are_throttled_per_ip(call, api_client, settings, url, setting, payload, accepted):
    setattr(settings, setting, "2/h")
    for n in range(2):
        assert call(api_client, "post", url, {"email": f"t{n}@example.com", **payload}).status_code == accepted
    assert_api_error(call(api_client, "post", url, {"email": "t9@example.com", **payload}), 429, "throttled")


def test_current_password_checks_are_throttled_per_user(call, auth_client, settings):
    settings.THROTTLE_PASSWORD_CHECK = "2/5m"
    for _ in range(2):
        response = call(
            auth_client, "post", "/api/v1/auth/password/change/", {"old_password": "x", "new_password": "y"}
        )
        assert response.status_code == 400
    response = call(auth_client, "delete", "/api/v1/auth/me/", {"password": "x"})
    assert_api_error(response, 429, "throttled")


@pytest.mark.slow
@pytest.mark.redis
@pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="needs REDIS_URL")
def test_login_limit_holds_across_processes_sharing_redis(api_client):
    """Two other processes and this one count against one per-email login limit in Redis."""
    assert "redis" in django_settings.CACHES["default"]["BACKEND"].lower()
    limit = 10
    code = (
        "import django, os; os.environ['DJANGO_SETTINGS_MODULE']='stackpro.settings.test'; django.setup();"
        "from django.test import RequestFactory; from core.errors import RateLimited; from accounts import throttles\n"
        "ok = 0\n"
        "for _ in range(6):\n"
        "    try:\n"
        "        throttles.check(RequestFactory().post('/'), 'login', 'shared@example.com'); ok += 1\n"
        "    except RateLimited:\n"
        "        pass\n"
        "print(ok)"
    )
    env = {**os.environ, "THROTTLE_LOGIN": f"{limit}/5m", "THROTTLE_LOGIN_IP": "1000/5m"}
    wait_for_fresh_window(300, needed_seconds=30)
    procs = [
        subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True, env=env) for _ in range(2)
    ]
    outs = [p.communicate(timeout=60)[0] for p in procs]
    assert all(p.returncode == 0 for p in procs)
    allowed_elsewhere = sum(int(out.strip().splitlines()[-1]) for out in outs)
    statuses = [attempt_login(api_client, "shared@example.com").status_code for _ in range(6)]
    allowed_here = sum(s != 429 for s in statuses)
    assert allowed_elsewhere + allowed_here == limit, (allowed_elsewhere, statuses)


def test_email_change_requests_are_throttled(call, auth_client, settings, password):
    settings.THROTTLE_VERIFY_RESEND_IP = "2/h"
    for n in range(2):
        assert (
            call(
                auth_client, "patch", "/api/v1/auth/me/", {"email": f"new{n}@example.com", "password": password}
            ).status_code
            == 200
        )
    response = call(auth_client, "patch", "/api/v1/auth/me/", {"email": "new9@example.com", "password": password})
    assert_api_error(response, 429, "throttled")
    assert call(auth_client, "patch", "/api/v1/auth/me/", {"name": "Only A Name"}).status_code == 200
