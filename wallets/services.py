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

import json
from datetime import timedelta
from decimal import ROUND_CEILING, Decimal

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext_lazy

from wallets import notifications
from wallets.models import KOPECK, Hold, LedgerEntry, Wallet


class InsufficientFunds(Exception):
    """The wallet's available balance (balance - held) cannot cover the amount."""

    # What the user reads wherever a paid request stops for lack of money (HTTP 402).
    message = gettext_lazy("Недостаточно средств: пополните баланс.")


class ReferenceConflict(ValueError):
    """A reference already names a different operation (another wallet, amount or kind).

    Returning the earlier row would tell the caller its operation happened when it did not;
    a reused key is a bug in the caller, so it fails loudly instead.
    """


def round_up_to_kopeck(amount: Decimal) -> Decimal:
    """Charges are rounded up: a fraction of a kopeck is still a kopeck."""
    if isinstance(amount, float):
        # Decimal(0.1) is 0.1000000000000000055..., which would round up to 0.11.
        raise TypeError("money must be a Decimal or an int, not a float")
    return Decimal(amount).quantize(KOPECK, rounding=ROUND_CEILING)


def _positive(amount: Decimal) -> Decimal:
    if isinstance(amount, float):
        raise TypeError("money must be a Decimal or an int, not a float")
    amount = Decimal(amount)
    if amount <= 0 or amount != amount.quantize(KOPECK):
        raise ValueError(f"amount must be a positive number of kopecks, got {amount!r}")
    return amount


def wallet_create(*, user) -> Wallet:
    wallet, _ = Wallet.objects.get_or_create(user=user)
    return wallet


def _announce(user_id: int, *, balance_moved: bool = True, wallet: Wallet | None = None) -> None:
    """After commit: push the wallet to the user's pages; mirror the balance if it moved.
    `wallet`: the row as the change left it, when the change returned it (saves reading it)."""
    transaction.on_commit(
        lambda: notifications.balance_changed(user_id=user_id, mirror_to_casdoor=balance_moved, wallet=wallet)
    )


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
                return _same_entry(existing, user_id=user_id, amount=amount, kind=kind)
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
        # Another wallet's transaction recorded this reference between our check and insert
        # (writers on the same wallet are already ordered by its row lock).
        existing = LedgerEntry.objects.filter(reference=reference).first()
        if existing is None:
            raise
        return _same_entry(existing, user_id=user_id, amount=amount, kind=kind)


def _same_entry(entry: LedgerEntry, *, user_id: int, amount: Decimal, kind: str) -> LedgerEntry:
    if (entry.wallet_id, entry.amount, entry.kind) != (user_id, amount, kind):
        raise ReferenceConflict(
            f"reference {entry.reference!r} already records {entry.amount} ({entry.kind}) "
            f"on wallet {entry.wallet_id}"
        )
    return entry


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
    now = timezone.now()
    fields = {
        "wallet_id": user_id,
        "amount": amount,
        "reference": reference,
        "description": description,
        "metadata": metadata or {},
        "expires_at": now + ttl,
    }
    try:
        if connection.vendor == "postgresql" and not connection.in_atomic_block:
            # One statement, atomic by itself: no transaction, no savepoint (the chat's path
            # to its first token runs it).
            hold = _hold_insert_reserving(now=now, **fields)
        else:
            with transaction.atomic():
                hold = _hold_insert_reserving(now=now, **fields)
    except IntegrityError:
        hold = None
    if hold is not None:
        # No push here: a hold moves no money the header shows, and this is on the paid
        # request's path to its first token (a channel-layer send costs a Redis round trip
        # and more). Its settle or release, after the request, pushes the whole wallet.
        return hold
    # Refused, or a hold under this reference already exists: that was the first call's result
    # (our own reservation rolled back with the failed insert).
    existing = Hold.objects.filter(reference=reference).first()
    if existing is None:
        raise InsufficientFunds
    if (existing.wallet_id, existing.amount) != (user_id, amount):
        raise ReferenceConflict(
            f"hold {reference!r} already reserves {existing.amount} on wallet {existing.wallet_id}"
        )
    return existing


# PostgreSQL runs a hold's reservation and its row as one statement (one round trip): the
# conditional UPDATE decides, and the INSERT happens only where it reserved. A duplicate
# reference fails the INSERT and with it the whole statement, the reservation included.
_HOLD_PLACE_SQL = """
WITH reserved AS (
    UPDATE wallets_wallet SET held = held + %(amount)s
    WHERE user_id = %(wallet_id)s AND balance >= held + %(amount)s
    RETURNING user_id
)
INSERT INTO wallets_hold (wallet_id, amount, reference, status, charged, entry_id, description,
                          metadata, created_at, expires_at, closed_at)
SELECT user_id, %(amount)s, %(reference)s, 'open', NULL, NULL, %(description)s,
       %(metadata)s::jsonb, %(now)s, %(expires_at)s, NULL
FROM reserved
RETURNING id
"""


def _hold_insert_reserving(*, now, **fields) -> Hold | None:
    """The open hold, its amount reserved; None when the available balance cannot cover it.

    Raises:
        IntegrityError: a hold with this reference exists (nothing was reserved).
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                _HOLD_PLACE_SQL, {**fields, "metadata": json.dumps(fields["metadata"]), "now": now}
            )
            row = cursor.fetchone()
        if row is None:
            return None
        return _loaded(Hold(id=row[0], status=Hold.Status.OPEN, created_at=now, **fields))
    reserved = Wallet.objects.filter(
        pk=fields["wallet_id"], balance__gte=F("held") + fields["amount"]
    ).update(held=F("held") + fields["amount"])
    if reserved != 1:
        return None
    return Hold.objects.create(**fields)


def _loaded(instance):
    """A model instance built from a row our own SQL returned, marked as saved."""
    instance._state.adding = False
    instance._state.db = connection.alias
    return instance


def _close(
    *,
    reference: str,
    charge: Decimal,
    status: str,
    description: str | None = None,
    metadata: dict | None = None,
    expired_before=None,
) -> tuple[Hold, bool]:
    """Closes an open hold: charges `charge` (capped by the hold) and releases the reservation.

    Takes the hold's row lock, so a settle racing a release or an expiry closes it exactly
    once; the second comes back with the hold as the first closed it. With `expired_before`,
    closes the hold only if it expired before then (the sweep must not release a hold whose
    deadline was extended or that is not its to close).
    Returns the hold and whether this call closed it.
    """
    closing = _close_pg if connection.vendor == "postgresql" else _close_orm
    closed = closing(
        reference=reference,
        charge=charge,
        status=status,
        description=description,
        metadata=metadata or {},
        expired_before=expired_before,
    )
    if closed is None:
        return Hold.objects.get(reference=reference), False
    hold, wallet = closed
    hold.wallet = wallet
    _announce(hold.wallet_id, balance_moved=hold.charged > 0, wallet=wallet)
    return hold, True


# On PostgreSQL the whole close is one statement (one round trip, atomic by itself): lock the
# open hold, move the money, write the charge's entry (when there is a charge) and close the
# hold. `held >= hold.amount` and `balance >= held` hold while the hold is open, so neither
# wallet constraint can fail: the charge comes out of money reserved for it.
_CLOSE_SQL = """
WITH closing AS (
    SELECT id, wallet_id, amount, LEAST(%(charge)s, amount) AS charge, description, metadata
    FROM wallets_hold
    WHERE reference = %(reference)s AND status = 'open'
      AND (%(expired_before)s::timestamptz IS NULL OR expires_at < %(expired_before)s::timestamptz)
    FOR UPDATE
), moved AS (
    UPDATE wallets_wallet w SET balance = w.balance - c.charge, held = w.held - c.amount
    FROM closing c WHERE w.user_id = c.wallet_id
    RETURNING w.balance, w.held, w.updated_at, c.id AS hold_id, c.charge,
              COALESCE(%(description)s, c.description) AS description,
              c.metadata || %(metadata)s::jsonb AS metadata
), entry AS (
    INSERT INTO wallets_ledgerentry (wallet_id, amount, kind, reference, balance_after, description,
                                     metadata, created_by_id, created_at)
    SELECT c.wallet_id, -m.charge, 'charge', %(reference)s, m.balance, m.description, m.metadata,
           NULL, %(now)s
    FROM moved m JOIN closing c ON c.id = m.hold_id
    WHERE m.charge > 0
    RETURNING id
)
UPDATE wallets_hold h
SET status = %(status)s, charged = m.charge, entry_id = (SELECT id FROM entry), closed_at = %(now)s
FROM moved m
WHERE h.id = m.hold_id
RETURNING h.id, h.wallet_id, h.amount, h.description, h.metadata, h.created_at, h.expires_at,
          h.charged, h.entry_id, m.balance, m.held, m.updated_at, m.description, m.metadata
"""


def _close_pg(*, reference, charge, status, description, metadata, expired_before):
    now = timezone.now()
    params = {
        "reference": reference,
        "charge": charge,
        "status": status,
        "description": description,
        "metadata": json.dumps(metadata),
        "expired_before": expired_before,
        "now": now,
    }
    with connection.cursor() as cursor:
        cursor.execute(_CLOSE_SQL, params)
        row = cursor.fetchone()
    if row is None:
        return None
    (hold_id, wallet_id, amount, hold_description, hold_metadata, created_at, expires_at, charged, entry_id,
     balance, held, updated_at, entry_description, entry_metadata) = row  # fmt: skip
    entry = None
    if entry_id is not None:
        entry = _loaded(
            LedgerEntry(
                id=entry_id,
                wallet_id=wallet_id,
                amount=-charged,
                kind=LedgerEntry.Kind.CHARGE,
                reference=reference,
                balance_after=balance,
                description=entry_description,
                metadata=_json(entry_metadata),
                created_at=now,
            )
        )
    hold = _loaded(
        Hold(
            id=hold_id,
            wallet_id=wallet_id,
            amount=amount,
            reference=reference,
            status=status,
            charged=charged,
            entry=entry,
            description=hold_description,
            metadata=_json(hold_metadata),
            created_at=created_at,
            expires_at=expires_at,
            closed_at=now,
        )
    )
    return hold, _loaded(Wallet(user_id=wallet_id, balance=balance, held=held, updated_at=updated_at))


def _json(value):
    """A jsonb column read by our own SQL (Django's psycopg setup leaves it a string)."""
    return json.loads(value) if isinstance(value, str) else value


def _close_orm(*, reference, charge, status, description, metadata, expired_before):
    """`_CLOSE_SQL` in steps, under the hold's row lock (SQLite)."""
    with transaction.atomic():
        hold = Hold.objects.select_for_update().get(reference=reference)
        if hold.status != Hold.Status.OPEN:
            return None
        if expired_before is not None and hold.expires_at >= expired_before:
            return None
        charge = min(charge, hold.amount)
        Wallet.objects.filter(pk=hold.wallet_id).update(
            balance=F("balance") - charge, held=F("held") - hold.amount
        )
        wallet = Wallet.objects.get(pk=hold.wallet_id)
        if charge > 0:
            hold.entry = LedgerEntry.objects.create(
                wallet_id=hold.wallet_id,
                amount=-charge,
                kind=LedgerEntry.Kind.CHARGE,
                reference=hold.reference,
                balance_after=wallet.balance,
                description=description if description is not None else hold.description,
                metadata={**hold.metadata, **metadata},
            )
        hold.status = status
        hold.charged = charge
        hold.closed_at = timezone.now()
        hold.save(update_fields=["status", "charged", "entry", "closed_at"])
        return hold, wallet


def hold_settle(
    *, reference: str, amount: Decimal, description: str | None = None, metadata: dict | None = None
) -> Hold:
    """Charges the actual cost of a held request and releases the rest of the hold.

    The charge is rounded up to the kopeck and capped by the hold: never more than was
    reserved. A zero cost settles without a ledger entry. Settling a closed hold changes
    nothing and returns it as it was closed.
    """
    charge = round_up_to_kopeck(max(Decimal(amount), Decimal(0)))
    hold, _ = _close(
        reference=reference,
        charge=charge,
        status=Hold.Status.SETTLED,
        description=description,
        metadata=metadata,
    )
    return hold


def hold_release(*, reference: str) -> Hold:
    """Gives the whole hold back, charging nothing (the request failed or never ran)."""
    hold, _ = _close(reference=reference, charge=Decimal(0), status=Hold.Status.RELEASED)
    return hold


def holds_expire(*, now=None) -> int:
    """Releases holds left open past their deadline (a crashed request); returns how many.

    Each hold is closed in its own short transaction, so one slow or locked hold does not
    hold up the sweep, and a settle arriving at the same moment wins or loses cleanly.
    """
    now = now or timezone.now()
    expired = Hold.objects.filter(status=Hold.Status.OPEN, expires_at__lt=now).values_list(
        "reference", flat=True
    )
    released = 0
    for reference in list(expired):
        _, closed = _close(
            reference=reference, charge=Decimal(0), status=Hold.Status.RELEASED, expired_before=now
        )
        released += closed
    return released


def wallet_adjust(*, user, amount: Decimal, reason: str, staff, reference: str) -> LedgerEntry:
    """A staff correction of the user's balance, recorded as an `adjustment` entry.

    Args:
        user: the wallet's owner (a User or its id).
        amount: signed RUB amount in whole kopecks; a negative one may take at most the
            available balance (money reserved by open holds stays untouched).
        reason: why, shown on the statement and in admin; required.
        staff: the staff user making it, recorded as `created_by`.
        reference: idempotency key (the admin form sends one per rendered form, so a
            double submit records one adjustment).

    Raises:
        InsufficientFunds: a negative adjustment larger than the available balance.
    """
    reason = reason.strip()
    if not reason:
        raise ValueError("an adjustment needs a reason")
    if isinstance(amount, float):
        raise TypeError("money must be a Decimal or an int, not a float")
    amount = Decimal(amount)
    record = wallet_credit if amount > 0 else wallet_debit
    return record(
        user=user,
        amount=abs(amount),
        reference=reference,
        kind=LedgerEntry.Kind.ADJUSTMENT,
        description=reason,
        created_by=staff,
    )
