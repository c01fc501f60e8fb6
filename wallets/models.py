"""The wallet, its append-only ledger and its holds.

Invariants, enforced by the database where it can:
- `Wallet.balance` is never negative and `0 <= held <= balance` (named CHECK constraints).
- `Wallet.balance` equals the sum of its `LedgerEntry.amount`s, always: only
  `wallets.services` changes a balance, and it writes the entry in the same transaction.
- Every entry has a unique `reference` (`yookassa:<payment id>`, `msg:<message id>`, ...): the
  idempotency key that makes "credit this payment" safe to run twice.
- A `Hold` reserves money before a paid request (`held += amount`); settling it charges the
  actual cost (never more than the hold) and releases the rest. `held` equals the sum of
  the open holds.
"""

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

# KOPECK, the smallest amount of money (every amount is a whole number of kopecks), lives with
# the money format; the rest of the code imports it from here.
from wallets.formatting import KOPECK as KOPECK
from wallets.formatting import format_money

MONEY = {"max_digits": 14, "decimal_places": 2}


class Wallet(models.Model):
    # The user's id is the wallet's id: services that know the user reach the wallet row
    # directly, without a lookup on the hot path (the chat's hold).
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        primary_key=True,
        related_name="wallet",
        verbose_name=_("пользователь"),
    )
    balance = models.DecimalField(_("баланс, ₽"), default=Decimal("0.00"), **MONEY)
    held = models.DecimalField(_("зарезервировано, ₽"), default=Decimal("0.00"), **MONEY)
    updated_at = models.DateTimeField(_("изменён"), auto_now=True)

    class Meta:
        verbose_name = _("кошелёк")
        verbose_name_plural = _("кошельки")
        constraints = [
            # The wallet can never go below zero, whatever runs in parallel.
            models.CheckConstraint(condition=Q(balance__gte=0), name="wallets_balance_non_negative"),
            # Reserved money is part of the balance: a hold can never spend what is not there.
            models.CheckConstraint(
                condition=Q(held__gte=0) & Q(held__lte=F("balance")), name="wallets_held_within_balance"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} — {format_money(self.balance)}"

    @property
    def available(self) -> Decimal:
        return self.balance - self.held


class LedgerEntry(models.Model):
    class Kind(models.TextChoices):
        TOPUP = "topup", _("пополнение")
        CHARGE = "charge", _("списание")
        REFUND = "refund", _("возврат")
        ADJUSTMENT = "adjustment", _("корректировка")
        BONUS = "bonus", _("бонус")

    wallet = models.ForeignKey(
        Wallet, on_delete=models.PROTECT, related_name="entries", verbose_name=_("кошелёк")
    )
    amount = models.DecimalField(_("сумма, ₽"), **MONEY)
    kind = models.CharField(_("вид"), max_length=16, choices=Kind.choices)
    # The idempotency key: the same operation can never be recorded twice.
    reference = models.CharField(_("ключ"), max_length=200, unique=True)
    balance_after = models.DecimalField(_("баланс после, ₽"), **MONEY)
    description = models.CharField(_("описание"), max_length=500, blank=True)
    # What the statement links to (chat id, model, payment id); never used for money.
    metadata = models.JSONField(_("данные"), default=dict, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("кем создана"),
    )
    created_at = models.DateTimeField(_("время"), auto_now_add=True)

    class Meta:
        verbose_name = _("запись журнала")
        verbose_name_plural = _("журнал операций")
        indexes = [
            # The statement page: one wallet's entries, newest first.
            models.Index(fields=["wallet", "-created_at", "-id"], name="wallets_entry_statement"),
        ]
        constraints = [
            models.CheckConstraint(condition=~Q(amount=0), name="wallets_entry_amount_non_zero"),
            models.CheckConstraint(
                condition=Q(balance_after__gte=0), name="wallets_entry_balance_after_non_negative"
            ),
            # Top-ups and bonuses only add money and charges only take it, so a sign error in a
            # caller fails loudly instead of silently paying the user. Refunds (money returned
            # to a card, or a charge given back) and staff adjustments go either way.
            models.CheckConstraint(
                condition=~Q(kind__in=["topup", "bonus"]) | Q(amount__gt=0),
                name="wallets_entry_credit_kinds_positive",
            ),
            models.CheckConstraint(
                condition=~Q(kind="charge") | Q(amount__lt=0), name="wallets_entry_charge_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.reference}: {format_money(self.amount)}"


class Hold(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", _("открыт")
        SETTLED = "settled", _("списан")
        RELEASED = "released", _("снят")

    wallet = models.ForeignKey(
        Wallet, on_delete=models.PROTECT, related_name="holds", verbose_name=_("кошелёк")
    )
    amount = models.DecimalField(_("сумма, ₽"), **MONEY)
    # Idempotency key of the hold itself; the charge entry uses it as its reference too.
    reference = models.CharField(_("ключ"), max_length=200, unique=True)
    status = models.CharField(_("состояние"), max_length=16, choices=Status.choices, default=Status.OPEN)
    charged = models.DecimalField(_("списано, ₽"), null=True, blank=True, **MONEY)
    entry = models.OneToOneField(
        LedgerEntry,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="hold",
        verbose_name=_("запись"),
    )
    description = models.CharField(_("описание"), max_length=500, blank=True)
    metadata = models.JSONField(_("данные"), default=dict, blank=True)
    created_at = models.DateTimeField(_("создан"), auto_now_add=True)
    expires_at = models.DateTimeField(_("истекает"))
    closed_at = models.DateTimeField(_("закрыт"), null=True, blank=True)

    class Meta:
        verbose_name = _("резерв")
        verbose_name_plural = _("резервы")
        indexes = [
            # The expiry sweep: open holds past their deadline.
            models.Index(fields=["expires_at"], condition=Q(status="open"), name="wallets_hold_open_expiry"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="wallets_hold_amount_positive"),
            models.CheckConstraint(
                condition=Q(charged__isnull=True) | (Q(charged__gte=0) & Q(charged__lte=F("amount"))),
                name="wallets_hold_charge_within_amount",
            ),
            # An open hold has charged nothing yet; a closed one records what it charged and
            # when, so `held == sum(open holds)` can be checked from the rows alone.
            models.CheckConstraint(
                condition=Q(status="open", charged__isnull=True, closed_at__isnull=True)
                | (~Q(status="open") & Q(charged__isnull=False, closed_at__isnull=False)),
                name="wallets_hold_closed_consistently",
            ),
            # Only a settled hold has a charge entry.
            models.CheckConstraint(
                condition=Q(entry__isnull=True) | Q(status="settled"),
                name="wallets_hold_entry_only_when_settled",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.reference}: {format_money(self.amount)} ({self.get_status_display()})"
