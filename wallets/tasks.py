"""Celery tasks for wallets: thin, named after the service each calls, which each imports in its
body (the services import this module to queue them)."""

from __future__ import annotations

import logging

from celery import shared_task
from django.utils import timezone

from accounts.casdoor import CasdoorError

logger = logging.getLogger(__name__)


@shared_task(
    # PushInProgress (another push for the user is talking to Casdoor) is a CasdoorError.
    autoretry_for=(CasdoorError,),
    retry_backoff=5,
    retry_backoff_max=30 * 60,
    retry_jitter=True,
    max_retries=12,
)
def balance_push(user_id: int) -> str | None:
    """Mirrors the user's current balance into Casdoor; retried while Casdoor is down."""
    from wallets.casdoor_mirror import balance_push

    return balance_push(user_id=user_id)


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
