"""OWASP API Security Top 10 (2023) → the tests covering each risk.

``covered`` entries are "module::test" ids checked by test_owasp_map.py (each must exist); ``todo``
entries are plain text for what is still owed, naming the owner. Move an entry from ``todo`` to
``covered`` when its test lands. A ``todo`` is never left where a real test exists.
"""

from __future__ import annotations

OWASP_API_TOP_10_2023: dict[str, dict[str, list[str] | str]] = {
    "API1": {
        "name": "Broken object level authorization",
        "covered": [
            # every route has an other-tenant test (or a reason), and the fuzzer probes every object
            "tests.security.test_route_matrix::test_every_route_and_method_has_a_permission_test_for_each_case",
            "tests.fuzz.test_fuzz_bounded::test_bounded_fuzz_run",
            "tests.fuzz.test_fuzz_bounded::test_the_harness_passes_scoped_objects_and_catches_a_leak",
            # projects: another tenant's project, file, member, invitation ids → 404
            "tests.projects.test_permissions::test_role_matrix",
            "tests.projects.test_permissions::test_unknown_or_malformed_ids_are_404",
            "tests.projects.test_bola_and_activity::test_foreign_ids_under_my_project_are_404",
            "tests.projects.test_bola_and_activity::test_their_project_is_404_for_every_verb",
            "tests.projects.test_bola_and_activity::test_a_member_of_two_projects_cannot_cross_ids",
            "tests.projects.test_projects_api::test_list_shows_owned_and_member_projects_with_roles",
            # assistant: conversations, messages, project context, cache, usage
            "tests.assistant.test_conversations::test_another_users_conversation_is_404_everywhere",
            "tests.assistant.test_send::test_a_project_the_user_can_no_longer_read_never_reaches_the_prompt",
            "tests.assistant.test_cache::test_another_user_never_gets_my_cached_answer",
            "tests.security.test_assistant_routes::test_another_tenants_conversations_and_projects_stay_out_of_reach",
            "tests.security.test_assistant_routes::test_usage_counts_only_the_callers_tokens",
            # notifications: inbox ids, counts, read-all, preferences, unsubscribe tokens
            "tests.notifications.test_api::test_another_users_ids_are_404",
            "tests.notifications.test_api::test_read_all_optionally_by_category",
            "tests.notifications.test_preferences::test_preferences_are_per_user",
            "tests.notifications.test_unsubscribe::test_token_edited_to_another_user_is_rejected",
            "tests.notifications.test_unsubscribe::test_each_token_only_touches_its_own_user",
            # billing: invoices, subscription, checkout and portal are the caller's customer only
            "tests.billing.test_sync_invoices_erasure::test_invoices_are_listed_newest_first_and_scoped",
            "tests.billing.test_route_tenancy::test_subscription_shows_only_the_callers",
            "tests.billing.test_route_tenancy::test_checkout_uses_the_callers_own_customer",
            "tests.billing.test_route_tenancy::test_portal_opens_the_callers_own_customer",
            "tests.billing.test_checkout_portal::test_each_user_gets_their_own_customer",
            # accounts: the account is the token's user, never an id from the request
            "tests.security.test_accounts_routes::test_me_reads_changes_and_deletes_only_the_callers_account",
            "tests.security.test_accounts_routes::test_password_change_changes_only_the_callers_password",
            "tests.accounts.test_gdpr::test_export_is_only_the_requesters",
            "tests.resilience.test_idempotency::test_keys_are_per_user",
        ],
        "todo": [],
    },
    "API2": {
        "name": "Broken authentication",
        "covered": [
            "tests.security.test_api2_authentication::test_a_token_signed_with_another_key_is_rejected",
            "tests.security.test_api2_authentication::test_an_unsigned_token_is_rejected",
            "tests.security.test_api2_authentication::test_a_refresh_token_is_not_an_access_token",
            "tests.security.test_api2_authentication::test_an_expired_token_is_rejected",
            "tests.security.test_api2_authentication::test_a_deactivated_user_is_rejected",
            "tests.security.test_anonymous_routes::test_anonymous_callers_get_401_and_change_nothing",
            # tokens: forged, tampered, expired, rotated, blacklisted
            "tests.accounts.test_tokens::test_alg_none_access_token_is_refused",
            "tests.accounts.test_tokens::test_alg_none_refresh_token_is_refused",
            "tests.accounts.test_tokens::test_tampered_claims_break_the_signature",
            "tests.accounts.test_tokens::test_tampered_signature_is_refused",
            "tests.accounts.test_tokens::test_token_signed_with_another_key_is_refused",
            "tests.accounts.test_tokens::test_access_token_lifetime_is_short",
            "tests.accounts.test_tokens::test_access_token_expires",
            "tests.accounts.test_tokens::test_refresh_token_expires",
            "tests.accounts.test_tokens::test_an_access_token_is_not_a_refresh_token",
            "tests.accounts.test_tokens::test_refresh_rotates_and_blacklists_the_old_token",
            "tests.accounts.test_tokens::test_logout_blacklists_that_refresh_token",
            "tests.accounts.test_tokens::test_deactivated_user_cannot_refresh_or_use_access",
            "tests.accounts.test_tokens::test_deactivate_service_revokes_refresh_tokens",
            "tests.accounts.test_tokens::test_login_failures_share_one_answer",
            # credential stuffing and brute force
            "tests.accounts.test_abuse::test_login_is_throttled_per_email_across_ips",
            "tests.accounts.test_abuse::test_login_is_throttled_per_ip_across_emails",
            "tests.accounts.test_abuse::test_spoofed_forwarded_for_does_not_escape_the_ip_limit",
            "tests.accounts.test_abuse::test_current_password_checks_are_throttled_per_user",
            # password change and reset, email verification: single-use, expiring, revoking sessions
            "tests.accounts.test_me_and_passwords::test_password_change_revokes_every_refresh_token",
            "tests.accounts.test_me_and_passwords::test_password_change_with_wrong_old_password",
            "tests.accounts.test_me_and_passwords::test_reset_flow_sets_the_password_and_revokes_sessions",
            "tests.accounts.test_me_and_passwords::test_reset_link_dies_when_the_password_changes_otherwise",
            "tests.accounts.test_me_and_passwords::test_reset_token_expires",
            "tests.accounts.test_me_and_passwords::test_forged_or_cross_purpose_reset_tokens_are_refused",
            "tests.accounts.test_register_verify::test_verify_email_marks_verified_once",
            "tests.accounts.test_register_verify::test_verify_token_expires",
            "tests.accounts.test_register_verify::test_forged_verification_tokens_are_refused",
            "tests.core.test_settings::test_production_passes_deploy_checks_and_uses_argon2",
            # staff console: throttled login, TOTP second factor on in production
            "tests.console.test_login::test_login_is_throttled_per_account",
            "tests.console.test_login::test_login_is_throttled_per_ip",
            "tests.console.test_login::test_a_password_only_session_is_not_enough_once_2fa_is_on",
            "tests.console.test_login::test_2fa_is_on_in_production_settings",
            # abuse paths (docs/security.md)
            "tests.security.test_idempotency_scope::test_a_stored_answer_is_not_replayed_to_a_user_who_can_no_longer_authenticate",
            "tests.security.test_idempotency_scope::test_token_refresh_is_never_replayed",
        ],
        "todo": [],
    },
    "API3": {
        "name": "Broken object property level authorization",
        "covered": [
            # mass assignment: privileged or server-set fields in a body are ignored
            "tests.accounts.test_register_verify::test_register_ignores_privileged_fields",
            "tests.accounts.test_me_and_passwords::test_patch_ignores_privileged_fields",
            "tests.projects.test_projects_api::test_create_ignores_mass_assigned_fields",
            "tests.projects.test_projects_api::test_update_renames_and_archives_with_activity",
            "tests.projects.test_files_local::test_mass_assigned_file_fields_are_ignored",
            "tests.resilience.test_schema_contract::test_json_values_of_the_wrong_type_are_rejected",
            # excessive data exposure: responses carry no secrets or other users' data
            "tests.accounts.test_me_and_passwords::test_me_returns_own_profile_only",
            "tests.accounts.test_abuse::test_register_of_an_existing_email_looks_like_a_new_account",
            "tests.accounts.test_gdpr::test_export_contains_profile_auth_events_and_every_registered_section",
            "tests.projects.test_invitations::test_invite_new_address_sends_email_and_accept_after_registering",
            "tests.projects.test_bola_and_activity::test_gdpr_export_lists_projects_with_file_metadata",
            "tests.notifications.test_unsubscribe::test_get_describes_and_changes_nothing",
        ],
        "todo": [],
    },
    "API4": {
        "name": "Unrestricted resource consumption",
        "covered": [
            "tests.security.test_api4_resources::test_every_api_view_is_throttled",
            "tests.security.test_api4_resources::test_pages_and_request_bodies_are_bounded",
            "tests.security.test_api4_resources::test_an_oversized_body_is_refused_as_json",
            "tests.core.test_throttling::test_burst_gets_429_with_retry_after",
            "tests.core.test_throttling::test_x_forwarded_for_cannot_pick_a_new_identity",
            "tests.core.test_pagination::test_odd_values_are_clamped",
            # projects: plan limits on projects, file size, storage; S3 enforces the size it was told
            "tests.projects.test_projects_api::test_project_count_is_limited_by_plan",
            "tests.projects.test_files_local::test_file_size_limit_is_the_plans",
            "tests.projects.test_files_local::test_storage_limit_spans_all_the_owners_projects",
            "tests.projects.test_files_local::test_direct_upload_limits",
            "tests.projects.test_files_s3::test_s3_refuses_an_oversized_body",
            "tests.projects.test_files_s3::test_complete_rechecks_storage_and_discards_over_the_limit",
            # assistant: monthly token quota, per-user send rate, message and history size
            "tests.assistant.test_quota::test_over_quota_is_402_and_the_message_is_not_sent",
            "tests.assistant.test_send::test_sends_are_rate_limited_per_user",
            "tests.assistant.test_send::test_message_too_long_is_a_clear_400",
            "tests.assistant.test_send::test_history_is_trimmed_oldest_first",
            "tests.assistant.test_prompting::test_max_tokens_is_clamped",
            "tests.notifications.test_api::test_list_is_paginated",
            # abuse paths (docs/security.md)
            "tests.projects.test_abuse::test_start_delete_post_loop_cannot_store_unbounded_bytes",
            "tests.assistant.test_email_verified::test_unverified_user_cannot_send_or_start_conversations",
        ],
        "todo": [],
    },
    "API5": {
        "name": "Broken function level authorization",
        "covered": [
            "tests.security.test_route_matrix::test_every_route_and_method_has_a_permission_test_for_each_case",
            "tests.projects.test_permissions::test_role_matrix",
            "tests.projects.test_permissions::test_a_member_may_leave_but_not_remove_others",
            "tests.projects.test_permissions::test_the_owner_can_neither_leave_nor_be_demoted",
            "tests.projects.test_bola_and_activity::test_a_member_of_two_projects_cannot_cross_ids",
            "tests.security.test_api5_function_level::test_a_signed_in_user_who_is_not_staff_gets_no_admin_page",
            # every admin route and method: outsiders (non-staff, staff JWT, deactivated, pre-TOTP) go to the login form
            "tests.security.test_admin_routes::test_anonymous_callers_are_sent_to_the_login_form_and_change_nothing",
            "tests.security.test_admin_routes::test_signed_in_outsiders_are_sent_to_the_login_form_and_change_nothing",
            "tests.security.test_admin_routes::test_staff_groups_cannot_add_change_or_delete_through_any_model_admin",
            "tests.security.test_api5_function_level::test_no_api_view_relies_on_a_staff_flag",
            # the staff console (the admin): staff groups see and do only what their role allows
            "tests.console.test_login::test_non_staff_cannot_log_in",
            "tests.console.test_roles::test_support_reads_users_but_cannot_edit_or_run_billing_actions",
            "tests.console.test_roles::test_support_cannot_open_webhook_events_billing_can_but_not_edit",
            "tests.console.test_roles::test_staff_without_a_group_sees_nothing",
        ],
        "todo": [],
    },
    "API6": {
        "name": "Unrestricted access to sensitive business flows",
        "covered": [
            # sign-up, reset and verification mails: throttled per address and IP, no enumeration
            "tests.accounts.test_abuse::test_email_endpoints_are_throttled_per_email",
            "tests.accounts.test_abuse::test_email_endpoints_are_throttled_per_ip",
            "tests.accounts.test_abuse::test_email_change_requests_are_throttled",
            "tests.accounts.test_abuse::test_reset_and_resend_answer_the_same_for_known_and_unknown_addresses",
            "tests.accounts.test_abuse::test_anonymous_email_endpoints_take_the_same_minimum_time",
            "tests.accounts.test_me_and_passwords::test_email_change_to_a_taken_address_fails_only_at_confirmation",
            # invitations: only the invited, verified address joins; single use, expiring, revocable
            "tests.projects.test_invitations::test_accept_requires_the_invited_verified_email",
            "tests.projects.test_invitations::test_accept_refuses_expired_revoked_and_unknown_tokens",
            "tests.projects.test_invitations::test_reinviting_replaces_the_pending_invitation",
            # limits hold under concurrency (MariaDB)
            "tests.projects.test_quota_races::test_concurrent_project_creation_stops_at_the_plan_limit",
            "tests.projects.test_quota_races::test_concurrent_invitations_stop_at_the_member_limit",
            "tests.projects.test_quota_races::test_concurrent_direct_uploads_do_not_overshoot_storage",
            "tests.assistant.test_quota::test_twenty_concurrent_sends_when_the_quota_covers_one",
            # billing: one customer, one subscription, retried clicks replayed
            "tests.billing.test_checkout_portal::test_concurrent_first_checkouts_share_one_customer",
            "tests.billing.test_checkout_portal::test_checkout_with_an_active_subscription_is_a_conflict",
            "tests.billing.test_checkout_portal::test_client_idempotency_key_is_forwarded",
            "tests.resilience.test_idempotency::test_concurrent_requests_with_one_key_do_the_work_once",
            # abuse paths (docs/security.md)
            "tests.projects.test_abuse::test_invite_revoke_loop_is_capped_per_recipient",
            "tests.projects.test_abuse::test_invite_revoke_loop_is_capped_per_inviter",
            "tests.projects.test_abuse::test_unverified_owner_cannot_invite",
            "tests.projects.test_abuse::test_names_in_invitation_emails_cannot_render_as_links",
            "tests.billing.test_abuse::test_unverified_user_cannot_start_a_checkout",
            "tests.billing.test_abuse::test_test_mode_subscription_grants_nothing_in_live_mode",
        ],
        "todo": [],
    },
    "API7": {
        "name": "Server side request forgery",
        "covered": [
            "tests.security.test_api7_api10_outbound::test_certificate_urls_off_the_allowlist_are_never_fetched",
            # redirects handed to Stripe stay on the frontend's origins
            "tests.billing.test_checkout_portal::test_redirects_off_the_frontend_origins_are_refused",
            "tests.billing.test_checkout_portal::test_portal_refuses_foreign_return_url",
            "tests.billing.test_checkout_portal::test_checkout_default_urls_are_on_the_frontend",
            # the one URL taken from a request and fetched (SNS SigningCertURL) must be Amazon's
            "tests.notifications.test_bounces::test_certificate_must_come_from_amazon",
            "tests.notifications.test_bounces::test_production_regex_accepts_real_amazon_certificate_urls",
            "tests.notifications.test_concurrency_and_ops::test_system_check_refuses_a_non_amazon_certificate_url",
        ],
        "todo": [],
    },
    "API8": {
        "name": "Security misconfiguration",
        "covered": [
            "tests.security.test_api8_misconfiguration::test_security_headers_on_every_route_without_parameters",
            "tests.security.test_api8_misconfiguration::test_cors_never_allows_every_origin_with_credentials",
            "tests.security.test_api8_misconfiguration::test_cors_never_allows_every_origin_with_credentials",
            "tests.security.test_api8_misconfiguration::test_unknown_methods_and_urls_answer_json_without_details",
            "tests.core.test_errors::test_unexpected_error_is_a_bare_json_500",
            "tests.core.test_errors::test_security_headers_on_every_response",
            "tests.core.test_settings::test_production_passes_deploy_checks_and_uses_argon2",
            "tests.core.test_settings::test_production_refuses_to_start_without_secret_key",
            "tests.core.test_settings::test_production_refuses_to_start_without_allowed_hosts",
            "tests.core.test_schema::test_staff_access_opens_to_an_admin_session_only",
            "tests.core.test_schema::test_off_refuses_everyone_staff_included",
            "tests.notifications.test_concurrency_and_ops::test_deploy_check_refuses_an_unauthenticated_or_unpinned_ses_webhook",
            # abuse paths (docs/security.md)
            "tests.core.test_settings::test_each_missing_or_unsafe_production_variable_is_an_error",
            "tests.notifications.test_bounce_abuse::test_a_replayed_message_older_than_an_hour_is_refused",
            "tests.notifications.test_bounce_abuse::test_a_bounce_never_suppresses_security_mail",
        ],
        "todo": [],
    },
    "API9": {
        "name": "Improper inventory management",
        "covered": [
            "tests.security.test_route_matrix::test_every_route_outside_the_admin_is_named",
            "tests.security.test_route_matrix::test_the_walk_finds_every_route_including_admin_docs_and_webhooks",
            "tests.security.test_route_matrix::test_methods_come_from_the_views",
            "tests.security.test_route_matrix::test_a_viewset_is_enumerated_by_its_actions",
            "tests.security.test_route_matrix::test_routes_open_to_anonymous_callers_are_declared_public",
            "tests.security.test_route_matrix::test_declarations_name_existing_routes_methods_and_tests",
            "tests.security.test_route_matrix::test_a_new_route_without_permission_tests_fails_the_check",
            "tests.security.test_anonymous_routes::test_every_protected_api_route_is_listed",
            "tests.security.test_api9_inventory::test_every_api_route_is_in_the_openapi_schema",
            "tests.security.test_api9_inventory::test_every_api_route_is_versioned",
            "tests.core.test_schema::test_schema_generates_without_warnings",
        ],
        "todo": [],
    },
    "API10": {
        "name": "Unsafe consumption of APIs",
        "covered": [
            "tests.security.test_api7_api10_outbound::test_upstream_timeouts_end_before_api_gateway_gives_up",
            "tests.security.test_api7_api10_outbound::test_stripe_webhooks_are_verified_by_signature",
            # Stripe: signed webhooks, duplicates and retries with one side effect, errors mapped
            "tests.billing.test_webhooks::test_bad_signatures_are_400_and_nothing_is_processed",
            "tests.billing.test_webhooks::test_replayed_event_has_one_side_effect",
            "tests.billing.test_webhooks::test_concurrent_duplicates_have_one_side_effect",
            "tests.billing.test_webhooks::test_failure_returns_5xx_and_the_retry_does_not_double",
            "tests.billing.test_webhooks::test_out_of_order_events_end_in_stripes_current_state",
            "tests.billing.test_checkout_portal::test_stripe_errors_are_mapped",
            "tests.billing.test_checkout_portal::test_stripe_unreachable_is_503",
            "tests.billing.test_checkout_portal::test_stripe_timeout_is_503",
            "tests.billing.test_checkout_portal::test_timeout_is_clamped_to_ten_seconds",
            # SES/SNS: signed bounce notifications, Amazon certificates, expected topic
            "tests.notifications.test_bounces::test_tampered_message_fails_the_signature_check",
            "tests.notifications.test_bounces::test_unsigned_message_is_rejected",
            "tests.notifications.test_bounces::test_missing_or_wrong_basic_auth_is_rejected",
            "tests.notifications.test_bounces::test_unexpected_topic_is_rejected",
            # Anthropic: timeouts, 5xx, 429 and 400 mapped to JSON errors, nothing charged
            "tests.assistant.test_send::test_timeout_is_504_within_the_deadline_and_charges_nothing",
            "tests.assistant.test_send::test_upstream_errors_are_502_after_one_retry",
            "tests.assistant.test_send::test_upstream_rate_limit_is_429_with_retry_after_and_no_retry",
            "tests.assistant.test_send::test_upstream_bad_request_is_502_without_retry",
            "tests.assistant.test_prompting::test_default_time_budget_fits_api_gateway",
        ],
        "todo": [],
    },
}
