"""The suite's API clients are schema-checked (tests/openapi.py): no test builds a bare APIClient."""

import re
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]


def test_no_test_builds_an_unchecked_api_client() -> None:
    offenders = [
        f"{path.relative_to(TESTS)}:{number}"
        for path in sorted(TESTS.rglob("*.py"))
        if path.name != "openapi.py"
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if re.search(r"\bAPIClient\(", line)
    ]
    assert offenders == [], "use tests.openapi.SchemaCheckedClient (or the api_client/client_for fixtures)"
