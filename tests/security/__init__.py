"""Security suite: the OWASP API Security Top 10 (2023) mapped to the tests that cover each risk.

The map lives in ``tests/security/owasp.py`` (checked by ``test_owasp_map.py``: every test it names
must exist). Summary:

| risk | covered by |
|---|---|
| API1 Broken object level authorization | route matrix (``other_tenant`` for every route); projects' role matrix and foreign-id tests; assistant, notifications, billing and accounts tenancy tests; fuzz cross-user pass |
| API2 Broken authentication | ``test_api2_authentication.py``; accounts: forged/tampered/expired tokens, refresh rotation and blacklist, logout, login throttles, single-use expiring reset and verification tokens; ``test_anonymous_routes.py`` (401 on every protected method) |
| API3 Broken object property level authorization | mass-assignment tests (register, me, projects, files); strict JSON types; responses without secrets or other users' data |
| API4 Unrestricted resource consumption | ``test_api4_resources.py``; throttles; pagination caps; projects' plan limits on projects, file size and storage (S3 enforces the size); assistant token quota, send rate, message size |
| API5 Broken function level authorization | route matrix (``lower_role``); projects' role × method matrix; ``test_api5_function_level.py`` (non-staff get no admin page; no staff-only API view) |
| API6 Unrestricted access to sensitive business flows | sign-up/reset/resend throttles and enumeration resistance; invitation rules; plan and quota limits under concurrency; one Stripe customer per user; Idempotency-Key |
| API7 Server side request forgery | upstream URLs from settings only; checkout/portal redirect URLs limited to FRONTEND_ORIGINS; SNS certificate URLs must be Amazon's |
| API8 Security misconfiguration | ``test_api8_misconfiguration.py``; core error/headers tests; production settings and deploy checks; docs access; SES webhook auth check |
| API9 Improper inventory management | ``test_route_matrix.py`` (every route walked), ``test_anonymous_routes.py``, ``test_api9_inventory.py`` (every route in the schema, all under /api/v1/) |
| API10 Unsafe consumption of APIs | Stripe signatures, duplicate/out-of-order/retried webhooks, Stripe errors and timeouts mapped; SNS signatures and topic; Anthropic timeouts, 5xx, 429, 400 mapped with nothing charged |
"""
