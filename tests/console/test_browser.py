"""End to end in headless Chromium (Debian's, driven by Playwright): log in with TOTP, read the
dashboard's charts, find a user, act on them; a support member cannot reach billing actions.

Needs /usr/bin/chromium (`.ci/run` installs it); skipped where it is absent.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken
from rest_framework_simplejwt.tokens import RefreshToken

from tests.console import stripe_data
from tests.console.conftest import admin_url, staff
from tests.factories import DEFAULT_PASSWORD, UserFactory

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")  # the GitHub workflow points it at its Chrome
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

playwright_api = pytest.importorskip("playwright.sync_api")
pytestmark = [
    pytest.mark.django_db(transaction=True),  # the live server reads what the test writes
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(
        not shutil.which(CHROMIUM), reason=f"needs a Chromium at {CHROMIUM} (.ci/system-deps installs Debian's)"
    ),
]


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    # Playwright's sync API runs an event loop in this thread; the ORM calls the tests make between
    # browser steps are still synchronous, so Django's async-safety guard is lifted here.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with playwright_api.sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield chromium
        chromium.close()
    if previous is None:
        os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.csp_violations = []  # type: ignore[attr-defined]
    page.on(
        "console",
        lambda msg: page.csp_violations.append(msg.text) if "Content Security Policy" in msg.text else None,
    )
    yield page
    context.close()


def _log_in(page: Any, base: str, email: str, otp: str | None = None) -> None:
    page.goto(base + admin_url("login"))
    page.fill("#id_username", email)
    page.fill("#id_password", DEFAULT_PASSWORD)
    if otp is not None:
        page.fill("#id_otp_token", otp)
    page.click("#login-form input[type=submit]")
    page.wait_for_selector("#console-dashboard")


def test_staff_logs_in_with_totp_reads_the_charts_and_revokes_a_users_sessions(
    live_server: Any, settings: Any, page: Any
) -> None:
    settings.ADMIN_REQUIRE_2FA = True
    member = staff(superuser=True, email="ops@stackpro.test", name="Olive Ops")
    device = TOTPDevice.objects.create(user=member, name="phone", confirmed=True)
    ada = UserFactory(email="ada@lovelace.org", name="Ada Lovelace")
    for days_ago in (0, 1, 1, 4, 9, 9, 9, 20):
        UserFactory(date_joined=timezone.now() - timezone.timedelta(days=days_ago))
    RefreshToken.for_user(ada)
    RefreshToken.for_user(ada)
    pro, team = stripe_data.product("Pro"), stripe_data.product("Team")
    for prod, amount in ((pro, 2900), (pro, 2900), (pro, 2900), (team, 9900)):
        stripe_data.subscription(prod=prod, amount=amount)

    code = f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):06d}"
    _log_in(page, live_server.url, member.email, otp=code)

    # the dashboard: 30 bars drawn by the browser, with real heights for the days that had signups
    signups = page.locator('[data-metric="signups_per_day"] svg.console-chart')
    signups.wait_for()
    bars = signups.locator("rect.console-bar")
    assert bars.count() == 30
    heights = [float(bars.nth(i).evaluate("el => el.getBBox().height")) for i in range(30)]
    assert sum(1 for h in heights if h > 0) == 5 and max(heights) > 50
    assert signups.bounding_box()["width"] > 300
    # the stylesheet is served and applied: bars are filled with the admin's primary colour, not black
    fill = bars.nth(29).evaluate("el => getComputedStyle(el).fill")
    assert fill not in ("rgb(0, 0, 0)", "", "none")
    plans = page.locator('[data-metric="active_subscriptions_by_plan"] svg rect.console-bar')
    assert plans.count() == 2
    widths = [float(plans.nth(i).evaluate("el => el.getBBox().width")) for i in range(2)]
    assert widths[0] == pytest.approx(3 * widths[1], rel=0.01)  # Pro (3) is three times Team (1)
    assert "186.00" in page.inner_text('[data-metric="mrr"]')  # 3 × 29 + 99
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "dashboard.png"), full_page=True)

    # find Ada by name, open her page, revoke her sessions
    page.goto(live_server.url + admin_url("accounts_user_changelist"))
    page.fill("#searchbar", "lovelace")
    page.press("#searchbar", "Enter")
    page.click("text=ada@lovelace.org")
    page.wait_for_selector('[data-panel="usage"]')
    assert "Free" in page.inner_text('[data-panel="plan"]')
    page.screenshot(path=str(ARTIFACTS / "user.png"), full_page=True)
    page.click('button[data-action="revoke_sessions"]')
    page.wait_for_selector(".messagelist")
    assert "ada@lovelace.org: 2 session(s) revoked." in page.inner_text(".messagelist")
    assert BlacklistedToken.objects.filter(token__user=ada).count() == 2
    assert page.csp_violations == []


def test_support_member_cannot_reach_billing_actions(live_server: Any, page: Any) -> None:
    member = staff(groups=("support",), email="sam@stackpro.test", name="Sam Support")
    customer = UserFactory(email="cus@example.com", email_verified=False)
    _log_in(page, live_server.url, member.email)
    assert page.locator('[data-metric="signups_per_day"] rect.console-bar').count() == 30
    assert page.locator('[data-metric="mrr"]').count() == 0

    page.goto(live_server.url + admin_url("accounts_user_change", customer.pk))
    page.wait_for_selector('[data-panel="usage"]')
    actions = page.locator(".console-actions [data-action]")
    names = {actions.nth(i).get_attribute("data-action") for i in range(actions.count())}
    assert names == {"revoke_sessions", "resend_verification"}
    # typed URLs are refused too
    erase = page.goto(live_server.url + admin_url("accounts_user_console_action", customer.pk, "erase"))
    assert erase.status == 403
    webhooks = page.goto(live_server.url + admin_url("djstripe_webhookeventtrigger_changelist"))
    assert webhooks.status == 403
    assert page.csp_violations == []
