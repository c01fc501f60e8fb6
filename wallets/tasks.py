"""Celery tasks for wallets: thin, named after the service each calls, which each imports in its
body (the services import this module to queue them)."""

from __future__ import annotations

import logging

from celery import shared_task
from django.utils import timezone

logger = logging.getLogger(__name__)


@shared_task(bind=True, max_retries=12)
def balance_push(self, user_id: int) -> str | None:
    """Mirrors the user's current balance into Casdoor.

    Casdoor down, slow, refusing or answering garbage (or another push for the user under way:
    PushInProgress) is retried with backoff up to about a day; then the push gives up, logged,
    and the user's next balance change or the daily reconciliation (which reports Casdoor's
    mismatches) takes over. Money never waits on it.
    """
    from wallets.casdoor_mirror import balance_push

    try:
        return balance_push(user_id=user_id)
    except Exception as exc:
        if self.request.retries < self.max_retries:
            countdown = min(5 * 2**self.request.retries, 30 * 60)
            logger.info(
                "Casdoor balance push for user %s failed (%r); retrying in %s s", user_id, exc, countdown
            )
            raise self.retry(exc=exc, countdown=countdown) from exc
        logger.error(
            "Casdoor balance push for user %s gave up after %s tries: %r", user_id, self.max_retries, exc
        )
        return None


@shared_task
def holds_expire() -> int:
    """Releases holds left open by crashed requests (Celery beat, every few minutes)."""
    from wallets.services import holds_expire

    released = holds_expire()
    if released:
        logger.warning("Released %s expired holds", released)
    return released


@shared_task
def balances_reconcile() -> int:
    """The daily check of every wallet against its ledger, holds and Casdoor; logs mismatches."""
    from wallets.reconciliation import balances_reconcile

    result = balances_reconcile(now=timezone.now(), check_casdoor=True)
    for mismatch in result.mismatches:
        logger.error("Wallet mismatch: %s", mismatch)
    if result.casdoor_skipped:
        logger.warning("Reconciliation did not compare Casdoor: %s", result.casdoor_skipped)
    logger.info("Reconciled %s wallets: %s mismatches", result.wallets, len(result.mismatches))
    return len(result.mismatches)
