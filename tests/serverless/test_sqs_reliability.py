"""Tasks on SQS on Lambda: nothing lost, nothing stuck.

Real Celery messages are published through kombu's SQS transport to a moto server, received back
and handed to ``stackpro.lambda_tasks.handle_sqs`` as Lambda would. What goes through Zappa's own
handler (an unmapped queue) is in test_packaged_reliability.py.
"""

from __future__ import annotations

import base64
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime
from datetime import time as clock
from decimal import Decimal

import pytest
from django.db import connection
from kombu.message import Message

from stackpro import lambda_tasks
from stackpro.celery import app
from tests.serverless.test_lambda_tasks import queue, sqs_event  # noqa: F401 (the fixture)
from tests.support.tcp_proxy import FaultyProxy

pytestmark = [pytest.mark.integration]

SEEN: list = []
ATTEMPTS: list[int] = []


@app.task(name="tests.serverless.typed")
def typed(*args, **kwargs):
    """Remembers exactly what it was called with."""
    SEEN.append((args, kwargs))


@app.task(name="tests.serverless.flaky", bind=True, max_retries=3)
def flaky(self):
    """Asks for a retry every time; remembers the retry count it was given."""
    ATTEMPTS.append(self.request.retries)
    raise self.retry(countdown=5)


@app.task(name="tests.serverless.autoretried", autoretry_for=(ConnectionError,), max_retries=6, retry_backoff=30)
def autoretried():
    """An upstream that is down, retried the way the email task is (autoretry_for)."""
    ATTEMPTS.append(-1)
    raise ConnectionError("SES is down")


@app.task(name="tests.serverless.count_users")
def count_users():
    from django.contrib.auth import get_user_model

    SEEN.append(get_user_model().objects.count())


class Context:
    """A Lambda context: ``remaining`` ms left, less ``per_task_ms`` each time it is asked (as if
    every task took that long), so what the handler does near the deadline is deterministic."""

    def __init__(self, remaining_ms: int, per_task_ms: int = 0) -> None:
        self.remaining_ms, self.per_task_ms = remaining_ms, per_task_ms

    def get_remaining_time_in_millis(self) -> int:
        remaining, self.remaining_ms = self.remaining_ms, self.remaining_ms - self.per_task_ms
        return remaining


@pytest.fixture(autouse=True)
def _clean():
    SEEN.clear()
    ATTEMPTS.clear()


@pytest.mark.django_db
def test_kombu_types_reach_the_task_as_a_worker_would_get_them(queue):  # noqa: F811
    sqs, url, arn, publisher = queue
    values = {
        "at": datetime(2026, 11, 26, 7, 0, 1, 250000, tzinfo=UTC),
        "day": date(2026, 11, 26),
        "clock": clock(7, 30, 15),
        "price": Decimal("19.99"),
        "id": uuid.UUID("12345678-1234-5678-1234-567812345678"),
    }
    publisher.send_task("tests.serverless.typed", args=[values["at"], values["price"]], kwargs=values)
    event = sqs_event(sqs, url, arn, 1)

    assert lambda_tasks.handle_sqs(event, Context(30_000)) == {"batchItemFailures": []}

    (args, kwargs), *_ = SEEN
    assert args == (values["at"], values["price"]) and kwargs == values
    assert {k: type(v) for k, v in kwargs.items()} == {k: type(v) for k, v in values.items()}
    # What a worker decodes from the same message: kombu's own Message.decode().
    envelope = lambda_tasks._json_or_base64_json(event["Records"][0]["body"])
    worker_view = Message(
        body=base64.b64decode(envelope["body"]),
        content_type=envelope["content-type"],
        content_encoding=envelope["content-encoding"],
    ).decode()
    assert worker_view[0] == list(args) and worker_view[1] == kwargs


@pytest.mark.django_db
def test_a_retry_is_a_batch_item_failure_and_the_receive_count_is_the_retry_count(queue):  # noqa: F811
    sqs, url, arn, publisher = queue
    publisher.send_task("tests.serverless.flaky")
    publisher.send_task("tests.serverless.typed", args=[1])
    event = sqs_event(sqs, url, arn, 2)
    flaky_record = next(
        r for r in event["Records"] if "flaky" in lambda_tasks._json_or_base64_json(r["body"])["headers"]["task"]
    )

    started = time.monotonic()
    response = lambda_tasks.handle_sqs(event, Context(30_000))

    # Ran once (not max_retries + 1 times at once inside the invocation), handed back to SQS.
    assert ATTEMPTS == [0] and time.monotonic() - started < 5
    assert response == {"batchItemFailures": [{"itemIdentifier": flaky_record["messageId"]}]}
    assert SEEN == [((1,), {})]  # the healthy message of the batch is done, not redelivered

    # The fourth receive is retry 3 = max_retries: the task fails for good (still a batch failure,
    # so the queue's redrive policy, not this invocation, moves it to the dead-letter queue).
    ATTEMPTS.clear()
    flaky_record["attributes"]["ApproximateReceiveCount"] = "4"
    response = lambda_tasks.handle_sqs({"Records": [flaky_record]}, Context(30_000))
    assert ATTEMPTS == [3]
    assert response == {"batchItemFailures": [{"itemIdentifier": flaky_record["messageId"]}]}


@pytest.mark.django_db
def test_autoretry_for_runs_once_per_invocation(queue):  # noqa: F811
    sqs, url, arn, publisher = queue
    publisher.send_task("tests.serverless.autoretried")
    event = sqs_event(sqs, url, arn, 1)
    response = lambda_tasks.handle_sqs(event, Context(30_000))
    assert ATTEMPTS == [-1]
    assert response == {"batchItemFailures": [{"itemIdentifier": event["Records"][0]["messageId"]}]}


@pytest.mark.django_db
def test_tasks_start_only_within_the_time_budget(queue, settings):  # noqa: F811
    sqs, url, arn, publisher = queue
    settings.LAMBDA_TASK_TIME_BUDGET_SECONDS = 15
    for n in range(3):
        publisher.send_task("tests.serverless.typed", args=[n])
    event = sqs_event(sqs, url, arn, 3)

    # 14 s left: not one task may start (one could run past the function's timeout).
    response = lambda_tasks.handle_sqs(event, Context(14_000))
    assert SEEN == []
    assert [f["itemIdentifier"] for f in response["batchItemFailures"]] == [r["messageId"] for r in event["Records"]]

    # 16.5 s left and each task takes 1 s: two run, then 14.5 s is left and the third goes back.
    response = lambda_tasks.handle_sqs(event, Context(16_500, per_task_ms=1_000))
    assert SEEN == [((0,), {}), ((1,), {})]
    assert response == {"batchItemFailures": [{"itemIdentifier": event["Records"][2]["messageId"]}]}


@pytest.fixture
def database_proxy() -> Iterator[FaultyProxy]:
    """The default connection goes through a fault proxy for the test (the settings are restored after)."""
    settings_dict = connection.settings_dict
    original = settings_dict["HOST"], settings_dict["PORT"]
    proxy = FaultyProxy(settings_dict["HOST"] or "127.0.0.1", int(settings_dict["PORT"] or 3306)).start()
    connection.close()
    settings_dict["HOST"], settings_dict["PORT"] = "127.0.0.1", proxy.port
    try:
        yield proxy
    finally:
        connection.close()
        settings_dict["HOST"], settings_dict["PORT"] = original
        proxy.stop()


def freeze(proxy: FaultyProxy) -> None:
    """The container froze and the server dropped its connections; the database is reachable again."""
    proxy.set_mode(FaultyProxy.HANG)  # drops every open connection...
    proxy.set_mode(FaultyProxy.FORWARD)  # ...and the database is reachable again
    time.sleep(float(connection.settings_dict.get("HEALTH_CHECK_IDLE_SECONDS") or 0) + 0.1)


@pytest.mark.skipif(not connection.vendor == "mysql", reason="needs MariaDB")
@pytest.mark.django_db(transaction=True)
def test_a_connection_killed_between_invocations_is_replaced(queue, database_proxy):  # noqa: F811
    """The container froze, the server dropped its connection: the next batch reconnects."""
    sqs, url, arn, publisher = queue
    publisher.send_task("tests.serverless.count_users")
    assert lambda_tasks.handle_sqs(sqs_event(sqs, url, arn, 1), Context(30_000)) == {"batchItemFailures": []}
    assert connection.connection is not None  # kept for the next invocation (CONN_MAX_AGE)

    freeze(database_proxy)

    publisher.send_task("tests.serverless.count_users")
    assert lambda_tasks.handle_sqs(sqs_event(sqs, url, arn, 1), Context(30_000)) == {"batchItemFailures": []}
    assert SEEN == [0, 0]


@pytest.mark.skipif(not connection.vendor == "mysql", reason="needs MariaDB")
@pytest.mark.django_db(transaction=True)
def test_a_scheduled_job_after_a_killed_connection_runs(user, database_proxy):
    assert lambda_tasks.flush_expired_tokens({}, None) == 0
    freeze(database_proxy)
    assert lambda_tasks.flush_expired_tokens({}, None) == 0
