"""Top-ups through YooKassa, the notifications it sends us, and refunds made from admin.

A `Payment` row exists before YooKassa hears of it: its UUID is the `Idempotence-Key`, so a
retried create never makes a second payment. The wallet is credited once, on the transition to
`succeeded`, through `wallets.services.wallet_credit` with the reference `yookassa:<id>`; the
ledger's unique reference makes a second credit impossible whatever arrives twice.
"""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from wallets.formatting import format_money
from wallets.models import MONEY, LedgerEntry


class Payment(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("ожидает оплаты")
        WAITING_FOR_CAPTURE = "waiting_for_capture", _("ожидает подтверждения")
        SUCCEEDED = "succeeded", _("оплачен")
        CANCELED = "canceled", _("отменён")

    FINAL = (Status.SUCCEEDED, Status.CANCELED)

    # Sent to YooKassa as the Idempotence-Key: a retried create returns the same payment.
    id = models.UUIDField("ID", primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="payments",
        verbose_name=_("пользователь"),
    )
    # Null until YooKassa has answered the create; NULLs never collide under UNIQUE.
    yookassa_payment_id = models.CharField(
        _("ID в ЮKassa"), max_length=64, unique=True, null=True, blank=True
    )
    amount = models.DecimalField(_("сумма"), **MONEY)
    currency = models.CharField(_("валюта"), max_length=3, default="RUB")
    status = models.CharField(_("состояние"), max_length=32, choices=Status.choices, default=Status.PENDING)
    description = models.CharField(_("описание"), max_length=128, blank=True)
    # The last payment object fetched from YooKassa's API (never a notification body).
    provider_object = models.JSONField(_("объект ЮKassa"), default=dict, blank=True)
    error = models.TextField(_("ошибка"), blank=True)
    credited_entry = models.OneToOneField(
        LedgerEntry,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="payment",
        verbose_name=_("запись о зачислении"),
    )
    created_at = models.DateTimeField(_("создан"), auto_now_add=True)
    updated_at = models.DateTimeField(_("изменён"), auto_now=True)

    class Meta:
        verbose_name = _("платёж")
        verbose_name_plural = _("платежи")
        indexes = [
            # The history page: one user's payments, newest first.
            models.Index(fields=["user", "-created_at"], name="payments_user_history"),
            # The missed-webhook poller: unfinished payments older than a few minutes.
            models.Index(
                fields=["created_at"],
                condition=Q(status__in=["pending", "waiting_for_capture"]),
                name="payments_unfinished",
            ),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="payments_amount_positive"),
            # Money arrives only with success: a credited payment is a succeeded one.
            models.CheckConstraint(
                condition=Q(credited_entry__isnull=True) | Q(status="succeeded"),
                name="payments_credited_only_when_succeeded",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.amount} {self.currency} — {self.get_status_display()} ({self.yookassa_payment_id or self.id})"

    @property
    def confirmation_token(self) -> str:
        return (self.provider_object.get("confirmation") or {}).get("confirmation_token", "")


class PaymentNotification(models.Model):
    """Every webhook call that passed the address check, stored with what we made of it."""

    class Outcome(models.TextChoices):
        RECEIVED = "received", _("получено")
        PROCESSED = "processed", _("обработано")
        IGNORED = "ignored", _("пропущено")
        MISMATCH = "mismatch", _("не совпадает с платежом")
        MALFORMED = "malformed", _("некорректное")
        FAILED = "failed", _("ошибка")

    event = models.CharField(_("событие"), max_length=64, blank=True)
    object_id = models.CharField(_("ID объекта"), max_length=64, blank=True, db_index=True)
    source_ip = models.GenericIPAddressField(_("адрес отправителя"), null=True, blank=True)
    body = models.TextField(_("тело запроса"), blank=True)
    outcome = models.CharField(
        _("результат"), max_length=16, choices=Outcome.choices, default=Outcome.RECEIVED
    )
    error = models.TextField(_("ошибка"), blank=True)
    received_at = models.DateTimeField(_("получено"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("уведомление ЮKassa")
        verbose_name_plural = _("уведомления ЮKassa")

    def __str__(self) -> str:
        return f"{self.event or '?'} {self.object_id} — {self.get_outcome_display()}"


class Refund(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("в обработке")
        SUCCEEDED = "succeeded", _("выполнен")
        CANCELED = "canceled", _("отменён")

    FINAL = (Status.SUCCEEDED, Status.CANCELED)

    # Sent to YooKassa as the Idempotence-Key: resubmitting never refunds twice.
    id = models.UUIDField("ID", primary_key=True, default=uuid.uuid4, editable=False)
    payment = models.ForeignKey(
        Payment, on_delete=models.PROTECT, related_name="refunds", verbose_name=_("платёж")
    )
    amount = models.DecimalField(_("сумма"), **MONEY)
    yookassa_refund_id = models.CharField(_("ID в ЮKassa"), max_length=64, unique=True, null=True, blank=True)
    status = models.CharField(_("состояние"), max_length=16, choices=Status.choices, default=Status.PENDING)
    provider_object = models.JSONField(_("объект ЮKassa"), default=dict, blank=True)
    error = models.TextField(_("ошибка"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("кем создан"),
    )
    created_at = models.DateTimeField(_("создан"), auto_now_add=True)
    updated_at = models.DateTimeField(_("изменён"), auto_now=True)

    class Meta:
        verbose_name = _("возврат")
        verbose_name_plural = _("возвраты")
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="payments_refund_amount_positive"),
        ]

    def __str__(self) -> str:
        return f"{format_money(self.amount)} — {self.get_status_display()}"
