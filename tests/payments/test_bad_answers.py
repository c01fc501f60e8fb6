"""A YooKassa answer that is not the payment asked for (a page under HTTP 200, a 500, no answer
in time, JSON of another shape, another payment's id, an amount that is not money) moves no
money and is asked again: the webhook answers 502 so YooKassa re-sends, the poller tries on its
next run. Once YooKassa answers properly, the payment is credited exactly once."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from payments import services
from payments.models import Payment, PaymentNotification
from tests.fakes.yookassa import YOOKASSA_IP
from tests.helpers import balance, ledger_mismatches
from wallets.models import LedgerEntry

pytestmark = pytest.mark.django_db

ANSWERS = ["html", "error", "hang", "list", "another-id", "no-amount"]


@pytest.fixture
def paid(alice, yookassa, create_payment, settings):
    """A 500 ₽ payment YooKassa holds as succeeded, created ten minutes ago."""
    settings.YOOKASSA_TIMEOUT = 0.3
    payment = create_payment(alice, "500.00")
    Payment.objects.filter(pk=payment.pk).update(created_at=timezone.now() - timedelta(minutes=10))
    yookassa.succeed(payment.yookassa_payment_id)
    return payment


@pytest.mark.parametrize("answer", ANSWERS)
def test_the_webhook_moves_no_money_on_a_bad_answer_and_credits_once_on_redelivery(
    alice, yookassa, paid, post_notification, answer
):
    notification = yookassa.notification("payment.succeeded", paid.yookassa_payment_id)
    yookassa.find_answer = answer

    response = post_notification(notification, remote_addr=YOOKASSA_IP)

    assert response.status_code == 502
    assert PaymentNotification.objects.get().outcome == PaymentNotification.Outcome.FAILED
    assert balance(alice) == 0
    paid.refresh_from_db()
    assert paid.status == Payment.Status.PENDING

    yookassa.find_answer = None
    for _ in range(2):
        assert post_notification(notification, remote_addr=YOOKASSA_IP).status_code == 200
    assert balance(alice) == Decimal("500.00")
    assert LedgerEntry.objects.filter(reference=f"yookassa:{paid.yookassa_payment_id}").count() == 1
    assert ledger_mismatches() == []


@pytest.mark.parametrize("answer", ANSWERS)
def test_the_poller_survives_a_bad_answer_and_credits_once_when_yookassa_recovers(
    alice, bob, yookassa, paid, create_payment, answer
):
    yookassa.find_answer = answer

    assert services.payments_sync() == 0

    assert balance(alice) == 0
    yookassa.find_answer = None
    assert services.payments_sync() == 1
    assert services.payments_sync() == 0
    assert balance(alice) == Decimal("500.00")
    assert ledger_mismatches() == []


def test_a_created_payment_without_a_confirmation_token_is_not_offered(alice, alice_client, yookassa):
    """YooKassa's create answered without the widget's token: the top-up says payments are down."""
    yookassa.create_without_token = True

    response = alice_client.post("/api/payment/create", {"amount": 500}, content_type="application/json")

    assert response.status_code == 503
    assert Payment.objects.get().status == Payment.Status.CANCELED
