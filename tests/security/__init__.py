"""Security suite: the OWASP API Security Top 10 (2023) mapped to the tests that cover each risk.

The map lives in ``tests/security/owasp.py`` (checked by ``test_owasp_map.py``: every test it names
must exist). Summary:

| risk | covered now (foundation) | still to add (owner) |
|---|---|---|
| API1 Broken object level authorization | route matrix: ``other_tenant`` case required for every route; fuzz cross-user pass | each app's ``other_tenant`` tests (projects, assistant, notifications, billing) |
| API2 Broken authentication | ``test_api2_authentication.py`` (forged, unsigned, refresh-as-access, expired, inactive) | accounts: login throttling, refresh rotation/blacklist, password reset tokens |
| API3 Broken object property level authorization | — | serializers: read-only fields (owner, role, plan) not writable; responses without other users' emails |
| API4 Unrestricted resource consumption | ``test_api4_resources.py``; tests/core/test_throttling.py; tests/core/test_pagination.py | projects: file size caps; assistant: token quotas |
| API5 Broken function level authorization | route matrix: ``lower_role`` case required for every route | projects roles; staff console routes |
| API6 Unrestricted access to sensitive business flows | — | accounts: signup/reset throttle scopes; projects: invitation limits; assistant quota |
| API7 Server side request forgery | ``test_api7_api10_outbound.py`` (no client-supplied URLs fetched; redirect origins fixed) | billing: checkout return URLs limited to FRONTEND_ORIGINS |
| API8 Security misconfiguration | ``test_api8_misconfiguration.py``; tests/core/test_errors.py; tests/core/test_settings.py | — |
| API9 Improper inventory management | ``test_route_matrix.py`` (every route walked), ``test_api9_inventory.py`` (every route in the schema, all under /api/v1/) | — |
| API10 Unsafe consumption of APIs | ``test_api7_api10_outbound.py`` (bounded timeouts, Stripe signatures) | billing: webhook replay/duplicates; assistant: upstream errors mapped, model output escaped |
"""
