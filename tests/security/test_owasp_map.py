"""The OWASP map names real tests only, and covers all ten risks."""

import importlib

from tests.security.owasp import OWASP_API_TOP_10_2023


def test_the_map_covers_the_ten_risks():
    assert list(OWASP_API_TOP_10_2023) == [f"API{n}" for n in range(1, 11)]
    for risk in OWASP_API_TOP_10_2023.values():
        assert risk["name"] and (risk["covered"] or risk["todo"])


def test_every_covering_test_exists():
    for risk_id, risk in OWASP_API_TOP_10_2023.items():
        for test_id in risk["covered"]:
            module, _, name = test_id.partition("::")
            assert callable(getattr(importlib.import_module(module), name, None)), (risk_id, test_id)
