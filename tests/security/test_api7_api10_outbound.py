"""API7 Server-side request forgery and API10 Unsafe consumption of APIs: outbound calls go only to
configured services, with bounded time, and what comes back is verified before it is trusted."""

from django.conf import settings

API_GATEWAY_TIMEOUT = 29  # seconds: any upstream wait must end well before it


def test_upstream_timeouts_end_before_api_gateway_gives_up():
    assert 0 < settings.STRIPE_TIMEOUT_SECONDS < API_GATEWAY_TIMEOUT
    assert 0 < settings.ANTHROPIC_TIMEOUT_SECONDS < API_GATEWAY_TIMEOUT
    for option in ("connect_timeout", "read_timeout", "write_timeout"):
        value = settings.DATABASES["default"].get("OPTIONS", {}).get(option)
        assert value is None or value < API_GATEWAY_TIMEOUT


def test_stripe_webhooks_are_verified_by_signature():
    assert settings.DJSTRIPE_WEBHOOK_VALIDATION == "verify_signature"


def test_upstream_endpoints_come_from_settings_only():
    # Base URLs are deployment settings (for local fakes), never request input: nothing in the API
    # fetches a URL a client supplies. Redirect targets are limited to the frontend's origins.
    for name in ("STRIPE_API_BASE", "ANTHROPIC_BASE_URL", "AWS_S3_ENDPOINT_URL"):
        assert hasattr(settings, name)
    assert settings.FRONTEND_ORIGINS and all(o.startswith(("http://", "https://")) for o in settings.FRONTEND_ORIGINS)
