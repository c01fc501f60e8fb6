"""Celery tasks for accounts: thin, named after the service each calls, which each imports in its
body (the services import this module to queue them)."""

from __future__ import annotations

import smtplib

from celery import shared_task

from accounts.casdoor import CasdoorError


@shared_task(
    autoretry_for=(CasdoorError,),
    retry_backoff=10,
    retry_backoff_max=30 * 60,
    retry_jitter=True,
    max_retries=12,
)
def user_sync_to_casdoor(user_id: int) -> None:
    """Mirrors one user into Casdoor; retried with backoff while Casdoor is down or refusing."""
    from accounts.services import user_sync_to_casdoor

    user_sync_to_casdoor(user_id=user_id)


@shared_task(
    autoretry_for=(smtplib.SMTPException, OSError),
    retry_backoff=5,
    retry_backoff_max=10 * 60,
    retry_jitter=True,
    max_retries=8,
)
def email_deliver(*, subject: str, body: str, html: str, from_email: str, to: list[str]) -> None:
    from accounts.services import email_deliver

    email_deliver(subject=subject, body=body, html=html, from_email=from_email, to=to)


@shared_task
def sessions_cleanup() -> int:
    from accounts.services import sessions_cleanup

    return sessions_cleanup()


@shared_task
def users_unverified_remove() -> int:
    from accounts.services import users_unverified_remove

    return users_unverified_remove()
