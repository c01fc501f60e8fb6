"""Celery tasks for accounts: thin, they take ids or plain data and call a service."""

from __future__ import annotations

import smtplib

from celery import shared_task

from accounts import services
from accounts.casdoor import CasdoorError


@shared_task(
    autoretry_for=(CasdoorError,),
    retry_backoff=10,
    retry_backoff_max=30 * 60,
    retry_jitter=True,
    max_retries=12,
)
def sync_user_to_casdoor(user_id: int) -> None:
    """Mirrors one user into Casdoor; retried with backoff while Casdoor is down or refusing."""
    services.user_sync_to_casdoor(user_id=user_id)


@shared_task(
    autoretry_for=(smtplib.SMTPException, OSError),
    retry_backoff=5,
    retry_backoff_max=10 * 60,
    retry_jitter=True,
    max_retries=8,
)
def send_email(*, subject: str, body: str, html: str, from_email: str, to: list[str]) -> None:
    services.email_deliver(subject=subject, body=body, html=html, from_email=from_email, to=to)


@shared_task
def cleanup_sessions() -> int:
    return services.sessions_cleanup()
