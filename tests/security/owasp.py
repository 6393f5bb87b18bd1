"""OWASP API Security Top 10 (2023) → the tests covering each risk now, and the ones apps still owe.

``covered`` entries are "module::test" ids checked by test_owasp_map.py; ``todo`` entries are plain
text naming the owner and the test to add. Move an entry from ``todo`` to ``covered`` when it lands.
"""

from __future__ import annotations

OWASP_API_TOP_10_2023: dict[str, dict[str, list[str] | str]] = {
    "API1": {
        "name": "Broken object level authorization",
        "covered": [
            "tests.security.test_route_matrix::test_every_route_has_a_permission_test_for_each_case",
            "tests.fuzz.test_fuzz_bounded::test_bounded_fuzz_run",
        ],
        "todo": [
            "projects: other user's project/member/invitation/file/activity ids → 404 (@covers_route other_tenant)",
            "assistant: other user's conversation/message ids → 404",
            "notifications: other user's notification ids → 404 (read, mark read, delete)",
            "billing: other user's invoice ids → 404",
        ],
    },
    "API2": {
        "name": "Broken authentication",
        "covered": [
            "tests.security.test_api2_authentication::test_a_token_signed_with_another_key_is_rejected",
            "tests.security.test_api2_authentication::test_an_unsigned_token_is_rejected",
            "tests.security.test_api2_authentication::test_a_refresh_token_is_not_an_access_token",
            "tests.security.test_api2_authentication::test_an_expired_token_is_rejected",
            "tests.security.test_api2_authentication::test_a_deactivated_user_is_rejected",
        ],
        "todo": [
            "accounts: login brute force throttled; refresh rotation blacklists the old token; logout",
            "accounts: password reset and verification tokens single-use and expiring",
        ],
    },
    "API3": {
        "name": "Broken object property level authorization",
        "covered": [],
        "todo": [
            "every app: read-only fields (owner, role, plan, usage) ignored or rejected on write",
            "projects: member lists expose no data beyond name/email of co-members",
        ],
    },
    "API4": {
        "name": "Unrestricted resource consumption",
        "covered": [
            "tests.security.test_api4_resources::test_every_api_view_is_throttled",
            "tests.security.test_api4_resources::test_pages_and_request_bodies_are_bounded",
            "tests.security.test_api4_resources::test_an_oversized_body_is_refused_as_json",
            "tests.core.test_throttling::test_burst_gets_429_with_retry_after",
            "tests.core.test_pagination::test_odd_values_are_clamped",
        ],
        "todo": ["projects: upload size caps in the presigned POST", "assistant: token quota per month"],
    },
    "API5": {
        "name": "Broken function level authorization",
        "covered": ["tests.security.test_route_matrix::test_every_route_has_a_permission_test_for_each_case"],
        "todo": ["projects: viewer/editor/owner matrix (@covers_route lower_role)", "staff console: non-staff → 403"],
    },
    "API6": {
        "name": "Unrestricted access to sensitive business flows",
        "covered": [],
        "todo": [
            "accounts: signup, login, password reset scoped throttles",
            "projects: invitation sending limits",
            "assistant: quota enforced atomically under concurrency",
        ],
    },
    "API7": {
        "name": "Server side request forgery",
        "covered": ["tests.security.test_api7_api10_outbound::test_upstream_endpoints_come_from_settings_only"],
        "todo": ["billing: checkout success/cancel URLs must be under FRONTEND_ORIGINS"],
    },
    "API8": {
        "name": "Security misconfiguration",
        "covered": [
            "tests.security.test_api8_misconfiguration::test_security_headers_on_every_route_without_parameters",
            "tests.security.test_api8_misconfiguration::test_debug_is_off_outside_local_development",
            "tests.security.test_api8_misconfiguration::test_cors_never_allows_every_origin_with_credentials",
            "tests.security.test_api8_misconfiguration::test_unknown_methods_and_urls_answer_json_without_details",
            "tests.core.test_errors::test_unexpected_error_is_a_bare_json_500",
            "tests.core.test_settings::test_production_passes_deploy_checks_and_uses_argon2",
        ],
        "todo": [],
    },
    "API9": {
        "name": "Improper inventory management",
        "covered": [
            "tests.security.test_route_matrix::test_every_route_is_named",
            "tests.security.test_route_matrix::test_routes_open_to_anonymous_callers_are_declared_public",
            "tests.security.test_api9_inventory::test_every_api_route_is_in_the_openapi_schema",
            "tests.security.test_api9_inventory::test_every_api_route_is_versioned",
        ],
        "todo": [],
    },
    "API10": {
        "name": "Unsafe consumption of APIs",
        "covered": [
            "tests.security.test_api7_api10_outbound::test_upstream_timeouts_end_before_api_gateway_gives_up",
            "tests.security.test_api7_api10_outbound::test_stripe_webhooks_are_verified_by_signature",
        ],
        "todo": [
            "billing: duplicate/replayed webhook events cause one side effect",
            "assistant: Claude 429/500/timeouts mapped to JSON errors, no quota charged",
        ],
    },
}
