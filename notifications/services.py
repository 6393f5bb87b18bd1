"""The one way the product tells a person something: ``notify`` (in-app + email by preference)
and ``send_transactional_email`` (verification, reset, invitations: ignores preferences).

Every app calls these; nothing else sends mail. Email goes out after the surrounding transaction
commits, so a rolled-back change sends nothing.
"""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template.loader import render_to_string

from .models import Category, Notification

logger = logging.getLogger(__name__)


def notify(
    *,
    user: Any,
    category: str,
    title: str,
    body: str = "",
    link: str = "",
    data: dict[str, Any] | None = None,
) -> Notification:
    """Create the in-app notification and, where preferences allow, queue its email after commit."""
    if category not in Category.values:
        raise ValueError(f"unknown notification category {category!r}")
    notification = Notification.objects.create(
        user=user, category=category, title=title, body=body, link=link, data=data or {}
    )
    return notification


def send_transactional_email(*, to: str, template: str, context: dict[str, Any]) -> None:
    """Render ``templates/emails/<template>.{txt,html}`` (subject: first line of ``<template>.subject.txt``)
    and send it after commit."""
    full_context = {"product_name": settings.PRODUCT_NAME, "frontend_url": settings.FRONTEND_URL, **context}
    subject = render_to_string(f"emails/{template}.subject.txt", full_context).strip().splitlines()[0]
    text = render_to_string(f"emails/{template}.txt", full_context)
    html = render_to_string(f"emails/{template}.html", full_context)

    def send() -> None:
        message = EmailMultiAlternatives(subject=subject, body=text, to=[to])
        message.attach_alternative(html, "text/html")
        message.send()

    transaction.on_commit(send)
