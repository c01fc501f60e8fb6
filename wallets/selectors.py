"""Reads of wallets from our own database: balances, the user's statement, open holds.

Ledger metadata the statement understands (written by the code that charges): `chat_id`,
`model` and `model_name` (the catalog's display name at charge time) on chat messages,
`generation` (true) with `model` and `model_name` on image/video generations, `payment_id` on
top-ups and refunds.
"""

from __future__ import annotations

from decimal import Decimal

from django.db.models import QuerySet

from wallets.models import Hold, LedgerEntry, Wallet


def wallet_of(*, user_id: int) -> Wallet:
    return Wallet.objects.get(pk=user_id)


def balance_of(*, user_id: int) -> Decimal:
    """The user's balance; zero for a user without a wallet yet."""
    return Wallet.objects.filter(pk=user_id).values_list("balance", flat=True).first() or Decimal(0)


def available_of(*, user_id: int) -> Decimal:
    """What the user can spend now: the balance less what open holds reserve."""
    # Subtracted here, not in SQL: SQLite computes decimals as floats.
    row = Wallet.objects.filter(pk=user_id).values_list("balance", "held").first()
    return row[0] - row[1] if row else Decimal(0)


def statement_entries(*, user) -> QuerySet[LedgerEntry]:
    """The user's own ledger, newest first (served by the `wallets_entry_statement` index)."""
    return LedgerEntry.objects.filter(wallet_id=user.pk).order_by("-created_at", "-id")


def open_holds(*, user) -> QuerySet[Hold]:
    return Hold.objects.filter(wallet_id=user.pk, status=Hold.Status.OPEN).order_by("-created_at")
