"""The one way the product tells a person something: ``notify`` (in-app + email by preference)
and ``send_transactional_email`` (verification, reset, invitations: ignores preferences).

Every app calls these; nothing else sends mail. Every email is first written to the outbox
(``EmailDelivery``, unique ``idempotency_key``) and its send task is queued after the surrounding
transaction commits, so a rolled-back change sends nothing and a retried task never sends twice.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core import signing
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.template.loader import select_template
from django.urls import reverse
from django.utils import timezone
from django.utils.html import conditional_escape

from core.errors import InvalidInput, NotFound

from .models import (
    Category,
    Channel,
    DigestFrequency,
    EmailDelivery,
    Notification,
    NotificationPreference,
    NotificationSettings,
    SuppressedAddress,
)

logger = logging.getLogger(__name__)

# (in_app, email) for a category the user never changed.
DEFAULTS: dict[str, tuple[bool, bool]] = {
    Category.SECURITY: (True, True),
    Category.PROJECT: (True, True),
    Category.BILLING: (True, True),
    Category.ASSISTANT: (True, True),
    Category.PRODUCT: (True, False),
}
# Categories whose channels cannot be turned off (a PUT that tries is a 400 `preference_locked`),
# and whose email is sent even to a suppressed address: a bounce (real or forged) must never silence
# the notice that an account changed hands.
LOCKED: frozenset[str] = frozenset({Category.SECURITY})
# The pseudo-category of unsubscribe tokens that turn the digest off.
DIGEST = "digest"
UNSUBSCRIBE_SALT = "notifications.unsubscribe"


class PreferenceLocked(InvalidInput):
    code = "preference_locked"
    message = "Security notifications cannot be turned off."


class UnsubscribeTokenInvalid(InvalidInput):
    code = "unsubscribe_token_invalid"
    message = "This unsubscribe link is invalid."


def normalize_email(email: str) -> str:
    return (email or "").strip().lower()


# ------------------------------------------------------------------------------------------------
# Preferences
# ------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class CategoryPreference:
    category: str
    in_app: bool
    email: bool
    locked: bool


def preference_for(*, user: Any, category: str) -> CategoryPreference:
    """The effective preference of one category (one query; security is always on)."""
    if category in LOCKED:
        return CategoryPreference(category, True, True, True)
    row = NotificationPreference.objects.filter(user=user, category=category).values("in_app", "email").first()
    in_app, email = (row["in_app"], row["email"]) if row else DEFAULTS[category]
    return CategoryPreference(category, in_app, email, False)


def preferences_get(*, user: Any) -> dict[str, Any]:
    """Every category's channels and the digest frequency (two queries)."""
    rows = {p.category: p for p in NotificationPreference.objects.filter(user=user)}
    categories: dict[str, dict[str, bool]] = {}
    for category in Category.values:
        if category in LOCKED:
            in_app, email = True, True
        elif category in rows:
            in_app, email = rows[category].in_app, rows[category].email
        else:
            in_app, email = DEFAULTS[category]
        categories[category] = {Channel.IN_APP: in_app, Channel.EMAIL: email, "locked": category in LOCKED}
    frequency = (
        NotificationSettings.objects.filter(user=user).values_list("digest_frequency", flat=True).first()
        or DigestFrequency.OFF
    )
    return {"categories": categories, "digest_frequency": frequency}


@transaction.atomic
def preferences_update(
    *, user: Any, categories: dict[str, dict[str, bool]] | None = None, digest_frequency: str | None = None
) -> dict[str, Any]:
    """Change some channels of some categories and/or the digest frequency; others are kept.

    Turning a channel of a locked category (security) off raises ``PreferenceLocked`` (400) and
    changes nothing; sending ``true`` for it is accepted and ignored.
    """
    categories = categories or {}
    for category, channels in categories.items():
        if category in LOCKED and not all(channels.values()):
            raise PreferenceLocked(fields={f"categories.{category}": ["Security notifications are always on."]})
    current = preferences_get(user=user)["categories"]
    for category, channels in categories.items():
        if category in LOCKED or not channels:
            continue
        values = {
            "in_app": channels.get(Channel.IN_APP, current[category][Channel.IN_APP]),
            "email": channels.get(Channel.EMAIL, current[category][Channel.EMAIL]),
        }
        NotificationPreference.objects.update_or_create(user=user, category=category, defaults=values)
    if digest_frequency is not None:
        NotificationSettings.objects.update_or_create(user=user, defaults={"digest_frequency": digest_frequency})
    return preferences_get(user=user)


# ------------------------------------------------------------------------------------------------
# Unsubscribe tokens (signed, no login): user id + category
# ------------------------------------------------------------------------------------------------
def unsubscribe_token(*, user: Any, category: str) -> str:
    return signing.dumps({"u": str(user.pk), "c": category}, salt=UNSUBSCRIBE_SALT)


def _unsubscribe_load(token: str) -> tuple[Any, str]:
    from django.contrib.auth import get_user_model

    try:
        payload = signing.loads(token, salt=UNSUBSCRIBE_SALT)
        user_id, category = str(payload["u"]), str(payload["c"])
        uuid.UUID(user_id)
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        raise UnsubscribeTokenInvalid()
    if category != DIGEST and (category not in Category.values or category in LOCKED):
        raise UnsubscribeTokenInvalid()
    user = get_user_model().objects.filter(pk=user_id, is_active=True).first()
    if user is None:
        raise UnsubscribeTokenInvalid()
    return user, category


def _unsubscribe_state(user: Any, category: str) -> dict[str, Any]:
    if category == DIGEST:
        frequency = preferences_get(user=user)["digest_frequency"]
        return {"category": DIGEST, "subscribed": frequency != DigestFrequency.OFF, "email": _mask(user.email)}
    return {
        "category": category,
        "subscribed": preference_for(user=user, category=category).email,
        "email": _mask(user.email),
    }


def _mask(email: str) -> str:
    local, _, domain = email.partition("@")
    return f"{local[:1]}***@{domain}"


def unsubscribe_describe(*, token: str) -> dict[str, Any]:
    """What the token would unsubscribe from, and whether it still applies. Changes nothing."""
    user, category = _unsubscribe_load(token)
    return _unsubscribe_state(user, category)


def unsubscribe_apply(*, token: str) -> dict[str, Any]:
    """Turn the token's category email (or the digest) off. Idempotent."""
    user, category = _unsubscribe_load(token)
    if category == DIGEST:
        preferences_update(user=user, digest_frequency=DigestFrequency.OFF)
    else:
        preferences_update(user=user, categories={category: {Channel.EMAIL: False}})
    logger.info("unsubscribed", extra={"user": str(user.pk), "category": category})
    return _unsubscribe_state(user, category)


def unsubscribe_api_url(token: str) -> str:
    """The RFC 8058 one-click URL (List-Unsubscribe): the API endpoint itself."""
    path = reverse("notifications:unsubscribe", kwargs={"token": token})
    return f"{settings.NOTIFICATIONS_PUBLIC_API_URL}{path}"


def unsubscribe_page_url(token: str) -> str:
    """The link in the footer: a frontend page that shows the GET answer and POSTs on confirm."""
    return settings.NOTIFICATIONS_UNSUBSCRIBE_PAGE_URL.format(token=token)


# ------------------------------------------------------------------------------------------------
# Suppressed addresses
# ------------------------------------------------------------------------------------------------
def address_is_suppressed(email: str) -> bool:
    return SuppressedAddress.objects.filter(email=normalize_email(email)).exists()


def address_suppress(*, email: str, reason: str, description: str = "", event_id: str = "") -> SuppressedAddress:
    """Mark an address undeliverable (bounce or complaint). Idempotent; the latest event wins."""
    address, _ = SuppressedAddress.objects.update_or_create(
        email=normalize_email(email),
        defaults={"reason": reason, "description": description[:300], "event_id": event_id[:200]},
    )
    logger.warning("email address suppressed", extra={"reason": reason, "event_id": event_id})
    return address


# ------------------------------------------------------------------------------------------------
# Rendering and the outbox
# ------------------------------------------------------------------------------------------------
def _base_context() -> dict[str, Any]:
    return {
        "product_name": settings.PRODUCT_NAME,
        "frontend_url": settings.FRONTEND_URL,
        "preferences_url": f"{settings.FRONTEND_URL}{settings.NOTIFICATIONS_PREFERENCES_PATH}",
    }


def absolute_link(link: str) -> str:
    if not link or link.startswith(("http://", "https://")):
        return link
    return f"{settings.FRONTEND_URL}/{link.lstrip('/')}"


def _render(names: list[str], context: dict[str, Any]) -> tuple[str, str, str]:
    """(subject, text, html) from the first template stem in ``names`` that exists."""
    subject_tpl = select_template([f"emails/{n}.subject.txt" for n in names])
    text_tpl = select_template([f"emails/{n}.txt" for n in names])
    html_tpl = select_template([f"emails/{n}.html" for n in names])
    subject = " ".join(subject_tpl.render(context).split())[:300]
    return subject, text_tpl.render(context), html_tpl.render(context)


def _list_unsubscribe_headers(token: str) -> dict[str, str]:
    targets = [f"<{unsubscribe_api_url(token)}>"]
    if settings.NOTIFICATIONS_UNSUBSCRIBE_MAILTO:
        targets.append(f"<mailto:{settings.NOTIFICATIONS_UNSUBSCRIBE_MAILTO}?subject=unsubscribe>")
    return {"List-Unsubscribe": ", ".join(targets), "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}


def _queue(delivery: EmailDelivery) -> None:
    """Queue the send task after commit. ``robust``: a broker outage must not fail the request —
    the row stays pending and ``jobs.requeue_stalled_deliveries`` picks it up."""
    from .tasks import send_email_delivery_task

    delivery_id = str(delivery.pk)
    transaction.on_commit(lambda: send_email_delivery_task.delay(delivery_id), robust=True)


def _create_delivery(**fields: Any) -> EmailDelivery:
    delivery = EmailDelivery(**fields)
    delivery.full_clean(exclude=["user", "notification"], validate_unique=False)
    delivery.save(force_insert=True)
    return delivery


def notify(
    *,
    user: Any,
    category: str,
    title: str,
    body: str = "",
    link: str = "",
    data: dict[str, Any] | None = None,
) -> Notification | None:
    """Create the in-app notification and, where preferences allow, queue its email after commit.

    Returns the notification, or None when the user turned the category's in-app channel off.
    Security is always both. The email is skipped when the user's address is suppressed (bounce,
    complaint), except for security (``LOCKED``). Rendering happens now; the send happens in ``send_email_delivery_task``.
    """
    if category not in Category.values:
        raise ValueError(f"unknown notification category {category!r}")
    preference = preference_for(user=user, category=category)
    with transaction.atomic():
        notification = None
        if preference.in_app:
            notification = Notification(
                user=user, category=category, title=title, body=body, link=link, data=data or {}
            )
            notification.full_clean(exclude=["user"], validate_unique=False)
            notification.save(force_insert=True)
        if preference.email and user.email and (category in LOCKED or not address_is_suppressed(user.email)):
            context = {
                **_base_context(),
                "user": user,
                "category": category,
                "category_label": Category(category).label,
                "title": title,
                "body": body,
                "link_url": absolute_link(link),
                "data": data or {},
                "locked": category in LOCKED,
            }
            headers: dict[str, str] = {}
            if category not in LOCKED:
                token = unsubscribe_token(user=user, category=category)
                context["unsubscribe_url"] = unsubscribe_page_url(token)
                headers = _list_unsubscribe_headers(token)
            subject, text, html = _render([f"notifications_{category}", "notifications_default"], context)
            delivery = _create_delivery(
                idempotency_key=f"notification:{notification.pk if notification else uuid.uuid4()}",
                kind=EmailDelivery.Kind.NOTIFICATION,
                category=category,
                template=f"notifications_{category}",
                user=user,
                notification=notification,
                to_email=normalize_email(user.email),
                subject=subject,
                text_body=text,
                html_body=html,
                headers=headers,
            )
            _queue(delivery)
    return notification


def redacted(name: str) -> str:
    """What the outbox holds in place of the secret context value ``name`` (HTML-safe text)."""
    return f"[{name} redacted]"


def _unredact(delivery: EmailDelivery) -> tuple[str, str]:
    """The text and HTML bodies to send: each ``redacted(name)`` replaced by its secret."""
    text, html = delivery.text_body, delivery.html_body
    for name, value in (delivery.secrets or {}).items():
        text = text.replace(redacted(name), value)
        html = html.replace(redacted(name), conditional_escape(value))
    return text, html


def send_transactional_email(
    *,
    to: str,
    template: str,
    context: dict[str, Any],
    secrets: dict[str, str] | None = None,
    erase_after_send: bool = False,
) -> EmailDelivery:
    """Render ``templates/emails/<template>.{subject.txt,txt,html}`` and send it after commit.

    Transactional mail (verification, reset, invitations) ignores preferences and is sent even to
    a suppressed address: the person just asked for it, and SES's own suppression list still
    protects the sender reputation. It carries no List-Unsubscribe header. ``erase_after_send``:
    the outbox row is deleted once the message is sent (or refused for good).

    ``secrets`` are context values that must never be readable in the outbox (links carrying a
    live token): the bodies are rendered and stored with ``redacted(name)`` in their place, the
    values are kept in ``EmailDelivery.secrets`` (never shown in the admin), put back only in the
    message being sent — a retry sends the same working link — and cleared once the row is sent
    or skipped.
    """
    secrets = secrets or {}
    full_context = {**_base_context(), **context, **{name: redacted(name) for name in secrets}}
    subject, text, html = _render([template], full_context)
    with transaction.atomic():
        delivery = _create_delivery(
            idempotency_key=f"transactional:{uuid.uuid4()}",
            kind=EmailDelivery.Kind.TRANSACTIONAL,
            template=template[:100],
            to_email=normalize_email(to),
            subject=subject,
            text_body=text,
            html_body=html,
            erase_after_send=erase_after_send,
            secrets=secrets,
        )
        _queue(delivery)
    return delivery


def digest_fan_out(*, first_id: str, last_id: str, frequency: str, period_key: str, since: Any) -> int:
    """Publish a ``digest_queue_chunk_task`` per ``NOTIFICATIONS_DIGEST_CHUNK_SIZE`` active users of
    ``frequency`` whose id is in ``first_id``..``last_id``; returns the chunks published."""
    from core.tasks import enqueue

    from .tasks import digest_queue_chunk_task

    ids = [
        str(pk)
        for pk in NotificationSettings.objects.filter(
            digest_frequency=frequency, user__is_active=True, user_id__gte=first_id, user_id__lte=last_id
        )
        .order_by("user_id")
        .values_list("user_id", flat=True)
    ]
    size = settings.NOTIFICATIONS_DIGEST_CHUNK_SIZE
    for start in range(0, len(ids), size):
        enqueue(
            digest_queue_chunk_task,
            user_ids=ids[start : start + size],
            frequency=frequency,
            period_key=period_key,
            since=since,
        )
    return -(-len(ids) // size)


def digest_queue_for_users(*, user_ids: list[str], frequency: str, period_key: str, since: Any) -> int:
    """``digest_queue`` for each active user of ``user_ids`` whose digest is still ``frequency``
    (a preference changed since the job ran counts now); returns how many digests were queued."""
    from django.contrib.auth import get_user_model

    users = get_user_model().objects.filter(
        pk__in=user_ids, is_active=True, notification_settings__digest_frequency=frequency
    )
    return sum(
        1
        for user in users.order_by("pk")
        if digest_queue(user=user, frequency=frequency, period_key=period_key, since=since)
    )


def digest_queue(*, user: Any, frequency: str, period_key: str, since: Any) -> EmailDelivery | None:
    """Queue one digest of ``user``'s unread notifications created since ``since``.

    Idempotent per period: the outbox key ``digest:<frequency>:<user>:<period_key>`` is unique, so
    a second run in the same period queues nothing. Returns None when nothing is to be sent.
    """
    key = f"digest:{frequency}:{user.pk}:{period_key}"
    if (
        not user.email
        or address_is_suppressed(user.email)
        or EmailDelivery.objects.filter(idempotency_key=key).exists()
    ):
        return None
    unread = Notification.objects.filter(user=user, read_at__isnull=True, created_at__gte=since)
    total = unread.count()
    if not total:
        return None
    items = [
        {
            "title": n.title,
            "body": n.body,
            "category_label": Category(n.category).label,
            "link_url": absolute_link(n.link),
        }
        for n in unread.order_by("-created_at")[: settings.NOTIFICATIONS_DIGEST_MAX_ITEMS]
    ]
    token = unsubscribe_token(user=user, category=DIGEST)
    context = {
        **_base_context(),
        "user": user,
        "frequency": frequency,
        "items": items,
        "total": total,
        "more": total - len(items),
        "inbox_url": f"{settings.FRONTEND_URL}{settings.NOTIFICATIONS_INBOX_PATH}",
        "unsubscribe_url": unsubscribe_page_url(token),
    }
    subject, text, html = _render(["notifications_digest"], context)
    try:
        with transaction.atomic():
            delivery = _create_delivery(
                idempotency_key=key,
                kind=EmailDelivery.Kind.DIGEST,
                template="notifications_digest",
                user=user,
                to_email=normalize_email(user.email),
                subject=subject,
                text_body=text,
                html_body=html,
                headers=_list_unsubscribe_headers(token),
            )
            _queue(delivery)
    except IntegrityError:  # a concurrent run queued it first
        return None
    return delivery


# ------------------------------------------------------------------------------------------------
# Sending (called by the task)
# ------------------------------------------------------------------------------------------------
def email_delivery_send(*, delivery_id: str) -> str:
    """Send one outbox row at most once; return what happened.

    The row is claimed with a conditional UPDATE (pending/failed → sending, or a ``sending`` claim
    older than ``NOTIFICATIONS_SEND_CLAIM_TIMEOUT`` whose worker died). Whoever does not win the
    claim — a duplicate delivery of the task, a retry after success — sends nothing. A failure
    marks the row ``failed`` with the error and re-raises so the task retries with backoff.
    (If a worker dies between the provider accepting the mail and the row being marked sent, the
    stale claim is retried: that one window is at-least-once.)
    """
    now = timezone.now()
    stale = now - timedelta(seconds=settings.NOTIFICATIONS_SEND_CLAIM_TIMEOUT)
    claimable = Q(status__in=[EmailDelivery.Status.PENDING, EmailDelivery.Status.FAILED]) | Q(
        status=EmailDelivery.Status.SENDING, claimed_at__lt=stale
    )
    claimed = EmailDelivery.objects.filter(claimable, pk=delivery_id).update(
        status=EmailDelivery.Status.SENDING, claimed_at=now, attempts=F("attempts") + 1
    )
    if not claimed:
        return "not_claimed"
    delivery = EmailDelivery.objects.get(pk=delivery_id)
    suppressible = delivery.kind != EmailDelivery.Kind.TRANSACTIONAL and delivery.category not in LOCKED
    if suppressible and address_is_suppressed(delivery.to_email):
        _finish(delivery_id, status=EmailDelivery.Status.SKIPPED, last_error="address suppressed", secrets={})
        return "skipped"

    text, html = _unredact(delivery)
    message = EmailMultiAlternatives(
        subject=delivery.subject,
        body=text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[delivery.to_email],
        headers=delivery.headers or None,
    )
    message.attach_alternative(html, "text/html")
    # Anymail: tag and metadata come back in SES events (unused by the bounce handler, handy in logs).
    message.tags = [delivery.kind]  # type: ignore[attr-defined]
    message.metadata = {"delivery_id": str(delivery.pk)}  # type: ignore[attr-defined]
    try:
        message.send()
    except Exception as exc:
        from anymail.exceptions import AnymailRecipientsRefused

        if isinstance(exc, AnymailRecipientsRefused):  # permanent: retrying cannot help
            _finish(
                delivery_id, status=EmailDelivery.Status.SKIPPED, last_error=f"recipient refused: {exc}", secrets={}
            )
            return "refused"
        _finish(delivery_id, status=EmailDelivery.Status.FAILED, last_error=f"{type(exc).__name__}: {exc}")
        raise
    status = getattr(message, "anymail_status", None)
    _finish(
        delivery_id,
        status=EmailDelivery.Status.SENT,
        last_error="",
        secrets={},  # the live links leave with the message
        sent_at=timezone.now(),
        provider_message_id=(getattr(status, "message_id", None) or "")[:200] if status else "",
    )
    return "sent"


def _finish(delivery_id: str, **fields: Any) -> None:
    if "last_error" in fields:
        fields["last_error"] = fields["last_error"][:2000]
    done = fields.get("status") in (EmailDelivery.Status.SENT, EmailDelivery.Status.SKIPPED)
    if done and EmailDelivery.objects.filter(pk=delivery_id, erase_after_send=True).delete()[0]:
        return
    EmailDelivery.objects.filter(pk=delivery_id).update(**fields)


# ------------------------------------------------------------------------------------------------
# The inbox
# ------------------------------------------------------------------------------------------------
def notification_mark_read(*, user: Any, notification_id: Any) -> Notification:
    """Mark one of ``user``'s notifications read (idempotent); another user's id is a 404."""
    notification = Notification.objects.filter(user=user, pk=notification_id).first()
    if notification is None:
        raise NotFound()
    if notification.read_at is None:
        notification.read_at = timezone.now()
        notification.save(update_fields=["read_at"])
    return notification


def notifications_mark_all_read(*, user: Any, category: str | None = None) -> int:
    """Mark all (or one category's) unread notifications read; returns how many changed."""
    queryset = Notification.objects.filter(user=user, read_at__isnull=True)
    if category:
        queryset = queryset.filter(category=category)
    return queryset.update(read_at=timezone.now())


def notification_delete(*, user: Any, notification_id: Any) -> None:
    deleted, _ = Notification.objects.filter(user=user, pk=notification_id).delete()
    if not deleted:
        raise NotFound()
