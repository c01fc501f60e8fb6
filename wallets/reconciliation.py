"""Reconciliation: every wallet checked against its own ledger and holds, and against what
Casdoor shows of its balance.

The database part is one query over all wallets; the Casdoor part asks Casdoor about each user
(one HTTP call per user, through wallets.casdoor_mirror), so it is skipped when Casdoor is not
configured or unreachable and says why. Run by `manage.py reconcile_balances` and by Celery
beat's daily `wallets.tasks.balances_reconcile`.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, DecimalField, OuterRef, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce

from accounts import casdoor
from wallets import casdoor_mirror
from wallets.models import Hold, LedgerEntry, Wallet

ZERO = Value(Decimal(0), output_field=DecimalField(max_digits=14, decimal_places=2))


@dataclass(frozen=True)
class Mismatch:
    user: str
    check: str
    expected: Decimal | int | None
    actual: Decimal | int | None


@dataclass(frozen=True)
class Reconciliation:
    mismatches: list[Mismatch]
    wallets: int
    # Why Casdoor was not compared (unreachable, not configured, not asked); None if it was.
    casdoor_skipped: str | None


def _sum(queryset: QuerySet, field: str) -> Coalesce:
    total = queryset.values("wallet").annotate(total=Sum(field)).values("total")
    return Coalesce(Subquery(total), ZERO)


def balances_reconcile(*, now, check_casdoor: bool) -> Reconciliation:
    """Checks every wallet: balance == sum(entries), held == sum(open holds), no open hold past
    its deadline, and (with `check_casdoor`, when reachable) Casdoor shows the balance.

    Casdoor's mirror lags a committed change by the push delay; run this when it is quiet.
    """
    entries = LedgerEntry.objects.filter(wallet=OuterRef("pk"))
    holds = Hold.objects.filter(wallet=OuterRef("pk"), status=Hold.Status.OPEN)
    expired = holds.filter(expires_at__lt=now).values("wallet").annotate(n=Count("pk")).values("n")
    wallets = Wallet.objects.annotate(
        entries_total=_sum(entries, "amount"),
        held_total=_sum(holds, "amount"),
        expired_holds=Coalesce(Subquery(expired), 0),
    )
    mismatches = []
    # Compared in Python, not in SQL: SQLite sums decimals as floats, and Django's converters
    # quantize them back to kopecks only on the way out.
    for wallet in wallets.select_related("user").order_by("pk").iterator(chunk_size=2000):
        user = wallet.user.casdoor_id
        if wallet.balance != wallet.entries_total:
            mismatches.append(Mismatch(user, "balance = sum(entries)", wallet.entries_total, wallet.balance))
        if wallet.held != wallet.held_total:
            mismatches.append(Mismatch(user, "held = sum(open holds)", wallet.held_total, wallet.held))
        if wallet.expired_holds:
            mismatches.append(Mismatch(user, "open holds past expiry", 0, wallet.expired_holds))

    skipped = _casdoor_mismatches(mismatches) if check_casdoor else "not asked"
    return Reconciliation(mismatches=mismatches, wallets=Wallet.objects.count(), casdoor_skipped=skipped)


def _casdoor_mismatches(mismatches: list[Mismatch]) -> str | None:
    if not casdoor.is_configured():
        return "Casdoor is not configured"
    balances = dict(Wallet.objects.values_list("user__casdoor_id", "balance").order_by("pk"))
    try:
        shown = casdoor_mirror.mirrored_balances(names=list(balances))
    except casdoor.CasdoorError as error:
        return f"Casdoor is unreachable: {error}"
    for name, balance in balances.items():
        mirror = shown[name]
        if mirror is None:
            mismatches.append(Mismatch(name, "user in Casdoor", balance, None))
            continue
        column, value = mirror
        expected = balance if column == "balance" else Decimal(int(balance))
        if value != expected:
            mismatches.append(Mismatch(name, f"Casdoor {column}", expected, value))
    return None
