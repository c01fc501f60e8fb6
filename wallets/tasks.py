"""Celery tasks for wallets: thin, they take ids and call a service."""

from __future__ import annotations

import logging

from celery import shared_task
from django.utils import timezone

from accounts.casdoor import CasdoorError
from wallets import casdoor_mirror, selectors, services

logger = logging.getLogger(__name__)


@shared_task(
    autoretry_for=(CasdoorError, casdoor_mirror.PushInProgress),
    retry_backoff=5,
    retry_backoff_max=30 * 60,
    retry_jitter=True,
    max_retries=12,
)
def push_balance_to_casdoor(user_id: int) -> str | None:
    """Mirrors the user's current balance into Casdoor; retried while Casdoor is down."""
    return casdoor_mirror.balance_push(user_id=user_id)


@shared_task
def expire_holds() -> int:
    """Releases holds left open by crashed requests (Celery beat, every few minutes)."""
    released = services.holds_expire()
    if released:
        logger.warning("Released %s expired holds", released)
    return released


@shared_task
def reconcile_balances() -> int:
    """The daily check of every wallet against its ledger, holds and Casdoor; logs mismatches."""
    result = selectors.wallet_mismatches(now=timezone.now(), check_casdoor=True)
    for mismatch in result.mismatches:
        logger.error("Wallet mismatch: %s", mismatch)
    if result.casdoor_skipped:
        logger.warning("Reconciliation did not compare Casdoor: %s", result.casdoor_skipped)
    logger.info("Reconciled %s wallets: %s mismatches", result.wallets, len(result.mismatches))
    return len(result.mismatches)
