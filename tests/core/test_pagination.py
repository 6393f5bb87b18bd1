"""Pagination: defaults, clamping, and never a 500 from odd limit/offset values."""

import pytest

from tests.factories import UserFactory

pytestmark = [pytest.mark.urls("tests.core.urls"), pytest.mark.django_db]


@pytest.fixture
def users():
    return UserFactory.create_batch(105)


def test_default_page_is_20_with_envelope(api_client, users):
    body = api_client.get("/api/v1/test/users/").json()
    assert set(body) == {"count", "next", "previous", "results"}
    assert body["count"] == 105
    assert len(body["results"]) == 20
    assert body["previous"] is None and "offset=20" in body["next"]


@pytest.mark.parametrize(
    ("query", "expected_len"),
    [
        ("limit=100", 100),
        ("limit=101", 100),
        ("limit=36893488147419103232", 100),
        ("limit=-5", 20),
        ("limit=abc", 20),
        ("limit=0", 20),
        ("offset=-10", 20),
        ("offset=xyz", 20),
        ("offset=36893488147419103232", 0),
        ("offset=100&limit=10", 5),
    ],
)
def test_odd_values_are_clamped(api_client, users, query, expected_len):
    response = api_client.get(f"/api/v1/test/users/?{query}")
    assert response.status_code == 200, response.content
    assert len(response.json()["results"]) == expected_len


def test_query_count_is_constant_whatever_the_page_size(api_client, users, django_assert_num_queries):
    for limit in (1, 50, 100):
        with django_assert_num_queries(2):  # count + page
            api_client.get(f"/api/v1/test/users/?limit={limit}")
