"""The daily digest's fan-out at scale: how long the scheduled job takes for N daily-digest users,
and how long one of its page tasks and one chunk task take through the Lambda SQS handler.

    .venv/bin/python bench/digest_fanout.py [--users 100000] [--page-size 5000] [--chunk-size 50]
        [--database-url mysql://root:@127.0.0.1:3306/stackpro_bench_digest]

The database is migrated on the first run (about 1.5 min on MariaDB) and filled with ``--users``
users whose digest is daily (kept for later runs); the users of the first chunk get one unread
notification each, so that chunk renders and queues a digest email per user (the heavy path).
Celery publishes through kombu's SQS transport to an in-process moto server, as on Lambda.
Prints the job's time (it publishes the pages), a page's time (it publishes its chunks) and a
chunk's time (it renders a digest per user and publishes its email task).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--page-size", type=int, default=5000)
    parser.add_argument("--chunk-size", type=int, default=50)
    parser.add_argument("--database-url", default="mysql://root:@127.0.0.1:3306/stackpro_bench_digest")
    return parser.parse_args()


def fill(users: int) -> None:
    from django.contrib.auth import get_user_model
    from django.db import transaction

    from notifications.models import NotificationSettings

    have = NotificationSettings.objects.filter(digest_frequency="daily").count()
    User = get_user_model()
    started = time.perf_counter()
    while have < users:
        batch = min(5000, users - have)
        with transaction.atomic():
            made = User.objects.bulk_create(
                User(id=uuid.uuid4(), email=f"bench-{uuid.uuid4().hex}@example.com", password="!") for _ in range(batch)
            )
            NotificationSettings.objects.bulk_create(
                NotificationSettings(user_id=user.pk, digest_frequency="daily") for user in made
            )
        have += batch
    print(f"{have} daily-digest users in the database (filled in {time.perf_counter() - started:.1f} s)")


def main() -> None:
    args = parse()
    os.environ.update(DJANGO_SETTINGS_MODULE="stackpro.settings.test", DATABASE_URL=args.database_url)
    os.environ.pop("REDIS_URL", None)
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        os.environ[key] = "bench"
    os.environ["AWS_DEFAULT_REGION"] = "us-east-1"
    from tests.servers import ensure_mysql_database

    ensure_mysql_database(args.database_url)
    import logging

    import boto3
    import django
    from django.core.management import call_command
    from moto.server import ThreadedMotoServer

    django.setup()
    logging.disable(logging.WARNING)
    from django.conf import settings
    from django.contrib.auth import get_user_model

    call_command("migrate", verbosity=0)
    fill(args.users)
    settings.NOTIFICATIONS_DIGEST_PAGE_SIZE = args.page_size
    settings.NOTIFICATIONS_DIGEST_CHUNK_SIZE = args.chunk_size

    from tests.servers import free_port

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        sqs = boto3.client("sqs", endpoint_url=f"http://127.0.0.1:{port}")
        url = sqs.create_queue(QueueName=f"digest-bench-{uuid.uuid4().hex[:8]}")["QueueUrl"]
        from stackpro.celery import app

        app.conf.update(
            task_always_eager=False,
            broker_url=f"sqs://@127.0.0.1:{port}",
            broker_transport_options={"region": "us-east-1", "predefined_queues": {"celery": {"url": url}}},
        )
        from notifications.jobs import send_daily_digests
        from notifications.models import Notification, NotificationSettings

        first_chunk = list(
            NotificationSettings.objects.filter(digest_frequency="daily")
            .order_by("user_id")
            .values_list("user_id", flat=True)[: settings.NOTIFICATIONS_DIGEST_CHUNK_SIZE]
        )
        Notification.objects.filter(user_id__in=first_chunk).delete()
        Notification.objects.bulk_create(
            Notification(user_id=pk, category="project", title="Bench", body="One unread notification")
            for pk in first_chunk
        )
        from notifications.models import EmailDelivery

        EmailDelivery.objects.filter(user_id__in=first_chunk).delete()  # so the chunk queues its digests again

        started = time.perf_counter()
        pages = send_daily_digests()
        job_seconds = time.perf_counter() - started
        users = get_user_model().objects.count()
        print(
            f"job send_daily_digests: {users} users: {pages} page tasks "
            f"({settings.NOTIFICATIONS_DIGEST_PAGE_SIZE} users each) published in {job_seconds:.2f} s"
        )

        from stackpro.lambda_tasks import handle_sqs

        def receive_one() -> dict:
            message = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=1, AttributeNames=["All"])["Messages"][0]
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
            return {
                "messageId": message["MessageId"],
                "body": message["Body"],
                "attributes": message["Attributes"],
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:bench",
            }

        sqs.purge_queue(QueueUrl=url)
        from django.utils import timezone

        from notifications.tasks import digest_page_task

        first_page = first_chunk[:1] + list(
            NotificationSettings.objects.filter(digest_frequency="daily")
            .order_by("user_id")
            .values_list("user_id", flat=True)[
                settings.NOTIFICATIONS_DIGEST_PAGE_SIZE - 1 : settings.NOTIFICATIONS_DIGEST_PAGE_SIZE
            ]
        )
        digest_page_task.delay(
            first_id=str(first_page[0]), last_id=str(first_page[-1]), frequency="daily",
            period_key=timezone.now().date().isoformat(), since=timezone.now() - timedelta(days=1),
        )  # fmt: skip
        record = receive_one()
        started = time.perf_counter()
        result = handle_sqs({"Records": [record]})
        page_seconds = time.perf_counter() - started
        chunks = int(
            sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]["ApproximateNumberOfMessages"]
        )
        print(
            f"one page through stackpro.lambda_tasks.handle_sqs: {chunks} chunk tasks "
            f"({settings.NOTIFICATIONS_DIGEST_CHUNK_SIZE} users each) published in {page_seconds:.2f} s "
            f"(failures: {result['batchItemFailures']})"
        )
        record = receive_one()  # the first chunk: its users have an unread notification each
        size_kib = len(record["body"]) / 1024
        started = time.perf_counter()
        result = handle_sqs({"Records": [record]})
        chunk_seconds = time.perf_counter() - started
        digests = EmailDelivery.objects.filter(user_id__in=first_chunk, kind="digest").count()
        print(
            f"one chunk ({size_kib:.1f} KiB) through handle_sqs: {digests} digests rendered and their email tasks "
            f"published in {chunk_seconds:.2f} s (task budget {settings.LAMBDA_TASK_TIME_BUDGET_SECONDS:.0f} s; "
            f"failures: {result['batchItemFailures']})"
        )
    finally:
        server.stop()


if __name__ == "__main__":
    main()
