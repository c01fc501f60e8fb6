"""Top-ups, the payment state machine, notifications and refunds.

`payment_apply` is the single state machine: the webhook and the missed-webhook poller both
feed it a payment object fetched from YooKassa's API (never a notification body). It acts only
when amount, currency and `metadata.user_id` match our row, never leaves a final state, and
credits the wallet once, through `wallet_credit` with the reference `yookassa:<id>`.

Network calls to YooKassa happen outside any transaction: no row is locked while we wait.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from accounts.models import User
from config.input import json_loads
from payments import yookassa
from payments.models import Payment, PaymentNotification, Refund
from wallets.formatting import format_money
from wallets.models import KOPECK, LedgerEntry
from wallets.services import wallet_credit, wallet_debit

logger = logging.getLogger(__name__)

PAYMENT_EVENTS = {"payment.succeeded", "payment.canceled", "payment.waiting_for_capture"}
REFUND_EVENTS = {"refund.succeeded"}
# The order a payment moves in; it never moves back.
_STATUS_RANK = {
    Payment.Status.PENDING: 0,
    Payment.Status.WAITING_FOR_CAPTURE: 1,
    Payment.Status.SUCCEEDED: 2,
    Payment.Status.CANCELED: 2,
}


class TopupAmountInvalid(ValueError):
    """The amount is not a number of kopecks within TOPUP_MIN_AMOUNT..TOPUP_MAX_AMOUNT."""


class TooManyPendingPayments(Exception):
    """The user already has PAYMENTS_MAX_PENDING unfinished top-ups from the last
    PAYMENTS_PENDING_WINDOW_SECONDS; `retry_after` seconds from now the oldest leaves the window."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(retry_after)
        self.retry_after = retry_after


class PaymentMismatch(Exception):
    """YooKassa's object disagrees with our row (amount, currency or user): never credited."""


class RefundNotAllowed(ValueError):
    """The payment is not succeeded, or the amount exceeds what is left to refund."""


_AMOUNT_TEXT = re.compile(r"(0|[1-9][0-9]*)(\.[0-9]{1,2})?")


# Top-up ----------------------------------------------------------------------------------------
def topup_amount_parse(value) -> Decimal:
    low, high = settings.TOPUP_MIN_AMOUNT, settings.TOPUP_MAX_AMOUNT
    try:
        # A string is written as the page writes it ("500", "500.5"): not " 500", "5e2" or "0500",
        # which Decimal would read (the API's schema describes exactly this).
        if isinstance(value, str) and not _AMOUNT_TEXT.fullmatch(value):
            raise ValueError(value)
        amount = Decimal(str(value))
        # Bounds before the kopeck: quantizing "1e400" raises InvalidOperation (it was a 500).
        valid = amount.is_finite() and low <= amount <= high and amount == amount.quantize(KOPECK)
    except (InvalidOperation, ValueError):
        valid = False
    if not valid:
        raise TopupAmountInvalid(
            _("Сумма пополнения — от %(low)s до %(high)s, с точностью до копейки.")
            % {"low": format_money(low), "high": format_money(high)}
        )
    return amount


def _receipt(*, user, amount: Decimal) -> dict:
    """54-FZ receipt: one service line at the configured VAT code, sent to the user's email
    (or phone: VK and Telegram may give no email)."""
    return {
        "customer": {"email": user.email} if user.email else {"phone": user.phone},
        "items": [
            {
                "description": str(settings.YOOKASSA_RECEIPT_ITEM)[:128],
                "quantity": "1.00",
                "amount": {"value": str(amount), "currency": "RUB"},
                "vat_code": settings.YOOKASSA_RECEIPT_VAT_CODE,
                "payment_subject": "service",
                "payment_mode": "full_payment",
            }
        ],
    }


@transaction.atomic
def _pending_payment_create(*, user, amount: Decimal, description: str) -> Payment:
    """Our row, unless the user already has PAYMENTS_MAX_PENDING unfinished top-ups in the
    window (each one a YooKassa call and a row; an abandoned widget leaves one behind, which
    YooKassa cancels in time, so only the window's count). The user's row is locked: parallel
    creates count one after another."""
    User.objects.select_for_update().filter(pk=user.pk).first()
    since = timezone.now() - timedelta(seconds=settings.PAYMENTS_PENDING_WINDOW_SECONDS)
    open_ones = Payment.objects.filter(user=user, created_at__gte=since).exclude(status__in=Payment.FINAL)
    created = sorted(open_ones.values_list("created_at", flat=True))
    if len(created) >= settings.PAYMENTS_MAX_PENDING:
        oldest_leaves = created[-settings.PAYMENTS_MAX_PENDING] - since
        raise TooManyPendingPayments(retry_after=max(1, int(oldest_leaves.total_seconds()) + 1))
    return Payment.objects.create(user=user, amount=amount, description=description)


def payment_create(*, user, amount: Decimal) -> Payment:
    """Creates our row, then the YooKassa payment for the embedded widget.

    The body is the seed's: amount in RUB, `confirmation: {type: embedded}` and never
    `payment_method_data` (the widget chooses card or SBP itself; passing it makes YooKassa
    refuse the embedded confirmation), `capture: true`, `metadata.user_id`. Our UUID is the
    Idempotence-Key. If YooKassa refuses or does not answer, the row is marked canceled and
    the error is raised: without a confirmation token nobody can pay it.

    Raises:
        TopupAmountInvalid, TooManyPendingPayments, yookassa.YooKassaNotConfigured,
        YooKassaUnavailable, YooKassaRefused.
    """
    amount = topup_amount_parse(amount)
    if not yookassa.is_configured():
        raise yookassa.YooKassaNotConfigured(_("Оплата не настроена: обратитесь в поддержку."))
    # The seed's description; people who signed up without an email are named by their id.
    description = f"Пополнение {user.email or user.casdoor_id}"[:128]
    payment = _pending_payment_create(user=user, amount=amount, description=description)
    body = {
        "amount": {"value": str(amount), "currency": "RUB"},
        "confirmation": {"type": "embedded"},
        "capture": True,
        "description": description,
        "metadata": {"user_id": user.casdoor_id},
    }
    if settings.YOOKASSA_RECEIPT_ENABLED and (user.email or user.phone):
        body["receipt"] = _receipt(user=user, amount=amount)
    try:
        provider_object = yookassa.payment_create(body=body, idempotence_key=str(payment.id))
    except (yookassa.YooKassaUnavailable, yookassa.YooKassaRefused) as exc:
        Payment.objects.filter(pk=payment.pk).update(
            status=Payment.Status.CANCELED, error=str(exc), updated_at=timezone.now()
        )
        raise
    payment.yookassa_payment_id = provider_object["id"]
    payment.provider_object = provider_object
    payment.save(update_fields=["yookassa_payment_id", "provider_object", "updated_at"])
    return payment


# The state machine -----------------------------------------------------------------------------
def _mismatch(payment: Payment, provider_object: dict) -> str:
    amount = provider_object.get("amount") or {}
    try:
        value = Decimal(str(amount.get("value")))
    except InvalidOperation:
        value = None
    user_id = (provider_object.get("metadata") or {}).get("user_id")
    problems = []
    if value != payment.amount:
        problems.append(f"amount {amount.get('value')!r} != {payment.amount}")
    if amount.get("currency") != payment.currency:
        problems.append(f"currency {amount.get('currency')!r} != {payment.currency}")
    if user_id != payment.user.casdoor_id:
        problems.append(f"metadata.user_id {user_id!r} != {payment.user.casdoor_id}")
    return "; ".join(problems)


def payment_apply(*, provider_object: dict) -> Payment | None:
    """Moves our payment to the state YooKassa's API reports, crediting once on success.

    Args:
        provider_object: the payment as fetched from YooKassa's API by id.

    Returns the payment, or None when the id is not one of ours. Repeated and out-of-order
    objects are harmless: a final state (succeeded, canceled) is never left, a status never
    moves back, and the credit's ledger reference is unique.

    Raises:
        PaymentMismatch: amount, currency or metadata.user_id differ from our row (logged).
    """
    provider_id = str(provider_object.get("id") or "")
    status = provider_object.get("status")
    with transaction.atomic():
        # The row lock serialises every delivery of this payment's notifications.
        payment = (
            Payment.objects.select_for_update(of=("self",))
            .select_related("user")
            .filter(yookassa_payment_id=provider_id)
            .first()
        )
        if payment is None:
            logger.info("YooKassa payment %s is not ours; ignored", provider_id)
            return None
        problems = _mismatch(payment, provider_object)
        if problems:
            logger.error(
                "YooKassa payment %s does not match payment %s: %s", provider_id, payment.pk, problems
            )
            raise PaymentMismatch(problems)
        if status not in _STATUS_RANK:
            logger.warning("YooKassa payment %s has unknown status %r; ignored", provider_id, status)
            return payment
        if payment.status in Payment.FINAL or _STATUS_RANK[status] < _STATUS_RANK[payment.status]:
            if status != payment.status:
                logger.warning(
                    "YooKassa payment %s reported %s after %s; kept %s",
                    provider_id,
                    status,
                    payment.status,
                    payment.status,
                )
            return payment
        if status == Payment.Status.SUCCEEDED:
            payment.credited_entry = wallet_credit(
                user=payment.user_id,
                amount=payment.amount,
                reference=f"yookassa:{provider_id}",
                kind=LedgerEntry.Kind.TOPUP,
                # Ledger texts stay in the site's language; the statement translates them.
                description=gettext_noop("Пополнение через ЮKassa"),
                metadata={"payment_id": str(payment.pk), "yookassa_payment_id": provider_id},
            )
        payment.status = status
        payment.provider_object = provider_object
        payment.save(update_fields=["status", "provider_object", "credited_entry", "updated_at"])
        return payment


def payments_sync(*, older_than: timedelta | None = None) -> int:
    """Asks YooKassa about payments still unfinished after `older_than` and applies the answer,
    then resubmits or re-asks about pending refunds.

    The safety net for lost webhooks and unanswered calls; returns how many payments reached
    a final state.
    """
    older_than = (
        older_than if older_than is not None else timedelta(seconds=settings.PAYMENTS_SYNC_AFTER_SECONDS)
    )
    cutoff = timezone.now() - older_than
    unfinished = Payment.objects.filter(
        status__in=[Payment.Status.PENDING, Payment.Status.WAITING_FOR_CAPTURE],
        yookassa_payment_id__isnull=False,
        created_at__lte=cutoff,
    ).values_list("yookassa_payment_id", flat=True)
    finished = 0
    for provider_id in list(unfinished):
        try:
            payment = payment_apply(provider_object=yookassa.payment_find(provider_id))
        except Exception:
            # Whatever one payment's answer is (garbage, a refusal, a mismatch, a bug), the
            # others are still asked; this one is asked again on the next run.
            logger.exception("Could not sync YooKassa payment %s", provider_id)
            continue
        if payment is not None and payment.status in Payment.FINAL:
            finished += 1
    for refund_id in list(Refund.objects.filter(status=Refund.Status.PENDING).values_list("pk", flat=True)):
        try:
            refund_submit(refund_id=refund_id)
        except Exception:
            logger.exception("Could not sync refund %s", refund_id)
    return finished


# Notifications ---------------------------------------------------------------------------------
@dataclass
class NotificationResult:
    status_code: int
    outcome: str


def _parse_notification(body: bytes) -> tuple[str, str]:
    data = json_loads(body)
    if not isinstance(data, dict) or data.get("type") != "notification":
        raise ValueError("not a YooKassa notification")
    event, obj = data.get("event"), data.get("object")
    if (
        not isinstance(event, str)
        or not isinstance(obj, dict)
        or not isinstance(obj.get("id"), str)
        or not obj["id"]
    ):
        raise ValueError("event or object.id missing")
    return event, obj["id"]


def _record_outcome(notification: PaymentNotification, outcome: str, error: str = "") -> None:
    notification.outcome = outcome
    notification.error = error
    notification.save(update_fields=["outcome", "error"])


def notification_process(*, body: bytes, source_ip: str | None) -> NotificationResult:
    """Stores a webhook call from YooKassa's addresses and acts on the object it names.

    The body only tells us which object to look at: the object itself is fetched from the
    API by id. Answers 200 to what must not be retried (unknown ids and events, mismatches),
    400 to malformed bodies, 502 when YooKassa's API cannot be asked (YooKassa retries).
    """
    # Stored as text PostgreSQL accepts, whatever arrived: a NUL byte becomes U+FFFD too.
    text = body.decode("utf-8", errors="replace").replace("\x00", "\ufffd")
    try:
        event, object_id = _parse_notification(body)
    except ValueError as exc:  # InputRejected (config.input) included
        PaymentNotification.objects.create(
            source_ip=source_ip, body=text, outcome=PaymentNotification.Outcome.MALFORMED, error=str(exc)
        )
        return NotificationResult(400, PaymentNotification.Outcome.MALFORMED)
    fields = {"event": event[:64], "object_id": object_id[:64], "source_ip": source_ip, "body": text}

    def ignored(reason: str) -> NotificationResult:
        # Stored with its outcome in one INSERT (one commit): nothing is acted on, so there is
        # no step between arriving and being decided that the row would need to record.
        PaymentNotification.objects.create(
            **fields, outcome=PaymentNotification.Outcome.IGNORED, error=reason
        )
        return NotificationResult(200, PaymentNotification.Outcome.IGNORED)

    is_payment = event in PAYMENT_EVENTS
    if not is_payment and event not in REFUND_EVENTS:
        return ignored(f"event {event!r} is not handled")
    ours = (
        Payment.objects.filter(yookassa_payment_id=object_id)
        if is_payment
        else Refund.objects.filter(yookassa_refund_id=object_id)
    )
    status = ours.values_list("status", flat=True).first()
    if status is None:
        logger.info("YooKassa notification %s for unknown object %s; ignored", event, object_id)
        return ignored("unknown object id")
    if status in (Payment.FINAL if is_payment else Refund.FINAL):
        # Nothing can change a finished payment or refund (YooKassa re-sends until it hears
        # 200, sometimes twice at once): no need to ask YooKassa again.
        return ignored(f"already {status}")
    # Stored before YooKassa is asked and money moves: a crash from here on leaves the row.
    notification = PaymentNotification.objects.create(**fields)
    try:
        if is_payment:
            payment_apply(provider_object=yookassa.payment_find(object_id))
        else:
            refund_apply(provider_object=yookassa.refund_find(object_id))
    except PaymentMismatch as exc:
        _record_outcome(notification, PaymentNotification.Outcome.MISMATCH, str(exc))
        return NotificationResult(200, PaymentNotification.Outcome.MISMATCH)
    except (yookassa.YooKassaUnavailable, yookassa.YooKassaRefused, yookassa.YooKassaNotConfigured) as exc:
        logger.warning("Could not fetch YooKassa object %s for %s: %s", object_id, event, exc)
        _record_outcome(notification, PaymentNotification.Outcome.FAILED, str(exc))
        return NotificationResult(502, PaymentNotification.Outcome.FAILED)
    _record_outcome(notification, PaymentNotification.Outcome.PROCESSED)
    return NotificationResult(200, PaymentNotification.Outcome.PROCESSED)


# Refunds ---------------------------------------------------------------------------------------
def refundable_amount(*, payment: Payment) -> Decimal:
    """What is left to refund of a succeeded payment (canceled refunds gave theirs back)."""
    refunded = payment.refunds.exclude(status=Refund.Status.CANCELED).aggregate(total=Sum("amount"))["total"]
    return payment.amount - (refunded or Decimal(0))


def refund_create(*, payment: Payment, amount: Decimal, created_by) -> Refund:
    """Refunds part or all of a succeeded payment, bounded by the wallet's available balance.

    The wallet is debited first (reference `refund:<refund id>`, in the same transaction as the
    refund row), so the money cannot be spent meanwhile; then YooKassa is asked, outside the
    transaction, with the refund's UUID as Idempotence-Key.

    Raises:
        RefundNotAllowed: the payment is not succeeded or `amount` exceeds what is refundable.
        wallets.services.InsufficientFunds: the user's available balance is below `amount`.
    """
    amount = Decimal(amount)
    if amount <= 0 or amount != amount.quantize(KOPECK):
        raise RefundNotAllowed(_("Сумма возврата должна быть положительной, с точностью до копейки."))
    with transaction.atomic():
        # Locked: two refunds of one payment cannot both fit into what is left.
        payment = Payment.objects.select_for_update().get(pk=payment.pk)
        if payment.status != Payment.Status.SUCCEEDED:
            raise RefundNotAllowed(_("Вернуть можно только оплаченный платёж."))
        if amount > refundable_amount(payment=payment):
            raise RefundNotAllowed(
                _("Можно вернуть не больше %(amount)s.")
                % {"amount": format_money(refundable_amount(payment=payment))}
            )
        refund = Refund.objects.create(payment=payment, amount=amount, created_by=created_by)
        wallet_debit(
            user=payment.user_id,
            amount=amount,
            reference=f"refund:{refund.pk}",
            kind=LedgerEntry.Kind.REFUND,
            description=gettext_noop("Возврат платежа"),
            metadata={"payment_id": str(payment.pk), "refund_id": str(refund.pk)},
            created_by=created_by,
        )
    return refund_submit(refund_id=refund.pk)


def refund_submit(*, refund_id) -> Refund:
    """Sends a pending refund to YooKassa (or asks about one already sent) and applies the answer.

    Safe to repeat: the Idempotence-Key is the refund's UUID. A refusal cancels the refund and
    gives the money back; no answer leaves it pending for `payments_sync` to retry.
    """
    refund = Refund.objects.select_related("payment").get(pk=refund_id)
    if refund.status != Refund.Status.PENDING:
        return refund
    try:
        if refund.yookassa_refund_id:
            provider_object = yookassa.refund_find(refund.yookassa_refund_id)
        else:
            provider_object = yookassa.refund_create(
                payment_id=refund.payment.yookassa_payment_id,
                amount=refund.amount,
                idempotence_key=str(refund.pk),
            )
    except yookassa.YooKassaRefused as exc:
        logger.error("YooKassa refused refund %s: %s", refund.pk, exc)
        return _refund_close(
            refund_id=refund.pk, status=Refund.Status.CANCELED, provider_object={}, error=str(exc)
        )
    except (yookassa.YooKassaUnavailable, yookassa.YooKassaNotConfigured) as exc:
        Refund.objects.filter(pk=refund.pk).update(error=str(exc), updated_at=timezone.now())
        raise
    Refund.objects.filter(pk=refund.pk, yookassa_refund_id__isnull=True).update(
        yookassa_refund_id=provider_object["id"]
    )
    return refund_apply(provider_object=provider_object) or Refund.objects.get(pk=refund.pk)


def refund_apply(*, provider_object: dict) -> Refund | None:
    """Records YooKassa's refund state; a canceled refund gives the debited money back once."""
    refund = Refund.objects.filter(yookassa_refund_id=str(provider_object.get("id") or "")).first()
    if refund is None:
        logger.info("YooKassa refund %s is not ours; ignored", provider_object.get("id"))
        return None
    status = provider_object.get("status")
    if status not in (Refund.Status.SUCCEEDED, Refund.Status.CANCELED):
        return refund
    return _refund_close(refund_id=refund.pk, status=status, provider_object=provider_object)


def _refund_close(*, refund_id, status: str, provider_object: dict, error: str = "") -> Refund:
    with transaction.atomic():
        refund = Refund.objects.select_for_update().select_related("payment").get(pk=refund_id)
        if refund.status != Refund.Status.PENDING:
            return refund
        if status == Refund.Status.CANCELED:
            wallet_credit(
                user=refund.payment.user_id,
                amount=refund.amount,
                reference=f"refund-canceled:{refund.pk}",
                kind=LedgerEntry.Kind.ADJUSTMENT,
                description=gettext_noop("Возврат отменён: деньги снова на балансе"),
                metadata={"payment_id": str(refund.payment_id), "refund_id": str(refund.pk)},
            )
        refund.status = status
        refund.provider_object = provider_object or refund.provider_object
        refund.error = error
        refund.save(update_fields=["status", "provider_object", "error", "updated_at"])
        return refund
