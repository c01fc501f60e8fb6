"""The only code that changes money.

Every function here is atomic and idempotent by `reference`: called twice with the same
reference it changes nothing the second time and returns what the first call recorded. The
database, not Python, decides: balances move by conditional `UPDATE ... WHERE` with `F()`, and
`LedgerEntry.reference` / `Hold.reference` are UNIQUE, so a concurrent duplicate fails its
insert, rolls back its own balance change and returns the winner's row.

After each committed change `wallets.notifications.balance_changed` runs (live balance push,
Casdoor mirror); nothing slow happens while a row is locked.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import ROUND_CEILING, Decimal

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from wallets import notifications
from wallets.models import Hold, LedgerEntry, Wallet

KOPECK = Decimal("0.01")


class InsufficientFunds(Exception):
    """The wallet's available balance (balance - held) cannot cover the amount."""


def round_up_to_kopeck(amount: Decimal) -> Decimal:
    """Charges are rounded up: a fraction of a kopeck is still a kopeck."""
    return Decimal(amount).quantize(KOPECK, rounding=ROUND_CEILING)


def _positive(amount: Decimal) -> Decimal:
    amount = Decimal(amount)
    if amount <= 0 or amount != amount.quantize(KOPECK):
        raise ValueError(f"amount must be a positive number of kopecks, got {amount!r}")
    return amount


def wallet_create(*, user) -> Wallet:
    wallet, _ = Wallet.objects.get_or_create(user=user)
    return wallet


def _announce(user_id: int) -> None:
    transaction.on_commit(lambda: notifications.balance_changed(user_id=user_id))


def _record(
    *,
    user_id: int,
    amount: Decimal,
    kind: str,
    reference: str,
    description: str,
    metadata: dict | None,
    created_by=None,
) -> LedgerEntry:
    """Adds `amount` (signed) to the balance and writes its entry, once per reference."""
    try:
        with transaction.atomic():
            # The row lock orders writers on this wallet; the reference check under it then
            # sees every earlier committed entry.
            Wallet.objects.select_for_update().get(pk=user_id)
            existing = LedgerEntry.objects.filter(reference=reference).first()
            if existing is not None:
                return existing
            wallets = Wallet.objects.filter(pk=user_id)
            if amount < 0:
                # A debit may not touch money reserved by open holds.
                wallets = wallets.filter(balance__gte=F("held") - amount)
            if wallets.update(balance=F("balance") + amount) != 1:
                raise InsufficientFunds
            balance_after = Wallet.objects.values_list("balance", flat=True).get(pk=user_id)
            entry = LedgerEntry.objects.create(
                wallet_id=user_id,
                amount=amount,
                kind=kind,
                reference=reference,
                balance_after=balance_after,
                description=description,
                metadata=metadata or {},
                created_by=created_by,
            )
            _announce(user_id)
            return entry
    except IntegrityError:
        # Another transaction recorded this reference between our check and insert.
        existing = LedgerEntry.objects.filter(reference=reference).first()
        if existing is None:
            raise
        return existing


def wallet_credit(
    *,
    user,
    amount: Decimal,
    reference: str,
    kind: str = LedgerEntry.Kind.TOPUP,
    description: str = "",
    metadata: dict | None = None,
    created_by=None,
) -> LedgerEntry:
    """Adds money to the user's wallet once per `reference`.

    Args:
        user: the wallet's owner (a User or its id).
        amount: positive RUB amount, in whole kopecks.
        reference: idempotency key, e.g. `yookassa:<payment id>`.
        kind: topup, refund, adjustment or bonus.
        created_by: the staff user behind an admin adjustment.
    """
    return _record(
        user_id=getattr(user, "pk", user),
        amount=_positive(amount),
        kind=kind,
        reference=reference,
        description=description,
        metadata=metadata,
        created_by=created_by,
    )


def wallet_debit(
    *,
    user,
    amount: Decimal,
    reference: str,
    kind: str = LedgerEntry.Kind.CHARGE,
    description: str = "",
    metadata: dict | None = None,
    created_by=None,
) -> LedgerEntry:
    """Takes money from the available balance once per `reference`.

    Raises:
        InsufficientFunds: the available balance (balance - held) is below `amount`.
    """
    return _record(
        user_id=getattr(user, "pk", user),
        amount=-_positive(amount),
        kind=kind,
        reference=reference,
        description=description,
        metadata=metadata,
        created_by=created_by,
    )


def hold_place(
    *,
    user,
    amount: Decimal,
    reference: str,
    description: str = "",
    metadata: dict | None = None,
    ttl: timedelta | None = None,
) -> Hold:
    """Reserves `amount` before a paid request, once per `reference`.

    One conditional UPDATE decides: it raises `held` only where `balance - held >= amount`,
    so parallel holds can never reserve more than the wallet has, on PostgreSQL and SQLite.

    Raises:
        InsufficientFunds: the available balance cannot cover `amount`.
    """
    user_id = getattr(user, "pk", user)
    amount = _positive(amount)
    ttl = ttl if ttl is not None else timedelta(seconds=settings.WALLET_HOLD_TTL_SECONDS)
    try:
        with transaction.atomic():
            reserved = Wallet.objects.filter(pk=user_id, balance__gte=F("held") + amount).update(
                held=F("held") + amount
            )
            if reserved != 1:
                raise InsufficientFunds
            return Hold.objects.create(
                wallet_id=user_id,
                amount=amount,
                reference=reference,
                description=description,
                metadata=metadata or {},
                expires_at=timezone.now() + ttl,
            )
    except (IntegrityError, InsufficientFunds):
        # A hold under this reference already exists: that was the first call's result.
        existing = Hold.objects.filter(reference=reference).first()
        if existing is None:
            raise
        return existing


def _close(
    *, reference: str, charge: Decimal, status: str, description: str | None, metadata: dict | None
) -> Hold:
    """Closes an open hold: charges `charge` (<= hold) and releases the whole reservation.

    Takes the hold's row lock (SELECT FOR UPDATE), so a settle racing a release or an
    expiry closes it exactly once.
    """
    with transaction.atomic():
        hold = Hold.objects.select_for_update().get(reference=reference)
        if hold.status != Hold.Status.OPEN:
            return hold
        charge = min(charge, hold.amount)
        Wallet.objects.filter(pk=hold.wallet_id).update(
            balance=F("balance") - charge, held=F("held") - hold.amount
        )
        if charge > 0:
            hold.entry = LedgerEntry.objects.create(
                wallet_id=hold.wallet_id,
                amount=-charge,
                kind=LedgerEntry.Kind.CHARGE,
                reference=hold.reference,
                balance_after=Wallet.objects.values_list("balance", flat=True).get(pk=hold.wallet_id),
                description=description if description is not None else hold.description,
                metadata={**hold.metadata, **(metadata or {})},
            )
        hold.status = status
        hold.charged = charge
        hold.closed_at = timezone.now()
        hold.save(update_fields=["status", "charged", "entry", "closed_at"])
        _announce(hold.wallet_id)
        return hold


def hold_settle(
    *, reference: str, amount: Decimal, description: str | None = None, metadata: dict | None = None
) -> Hold:
    """Charges the actual cost of a held request and releases the rest of the hold.

    The charge is rounded up to the kopeck and capped by the hold: never more than was
    reserved. A zero cost settles without a ledger entry. Settling a closed hold changes
    nothing and returns it as it was closed.
    """
    charge = round_up_to_kopeck(max(Decimal(amount), Decimal(0)))
    return _close(
        reference=reference,
        charge=charge,
        status=Hold.Status.SETTLED,
        description=description,
        metadata=metadata,
    )


def hold_release(*, reference: str) -> Hold:
    """Gives the whole hold back, charging nothing (the request failed or never ran)."""
    return _close(
        reference=reference, charge=Decimal(0), status=Hold.Status.RELEASED, description=None, metadata=None
    )


def holds_expire(*, now=None) -> int:
    """Releases holds left open past their deadline (a crashed request); returns how many."""
    now = now or timezone.now()
    references = Hold.objects.filter(status=Hold.Status.OPEN, expires_at__lt=now).values_list(
        "reference", flat=True
    )
    released = 0
    for reference in list(references):
        if hold_release(reference=reference).closed_at >= now:
            released += 1
    return released
