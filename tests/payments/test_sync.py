from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.utils import timezone

from payments.models import Payment
from payments.tasks import payments_sync
from wallets.models import LedgerEntry, Wallet

pytestmark = pytest.mark.django_db


def make_old(payment: Payment, minutes: int = 10) -> None:
    Payment.objects.filter(pk=payment.pk).update(created_at=timezone.now() - timedelta(minutes=minutes))


def test_the_poller_credits_a_payment_whose_webhook_never_came_and_the_late_webhook_changes_nothing(
    alice, yookassa, create_payment, post_notification
):
    payment = create_payment(alice, "500.00")
    make_old(payment)
    yookassa.succeed(payment.yookassa_payment_id)

    call_command("sync_payments")

    payment.refresh_from_db()
    assert payment.status == Payment.Status.SUCCEEDED
    assert Wallet.objects.get(pk=alice.pk).balance == Decimal("500.00")

    response = post_notification(yookassa.notification("payment.succeeded", payment.yookassa_payment_id))

    assert response.status_code == 200
    assert LedgerEntry.objects.filter(wallet_id=alice.pk).count() == 1
    assert Wallet.objects.get(pk=alice.pk).balance == Decimal("500.00")


def test_the_beat_task_runs_the_same_sync(alice, yookassa, create_payment):
    payment = create_payment(alice, "300.00")
    make_old(payment)
    yookassa.succeed(payment.yookassa_payment_id)

    payments_sync.delay()
    payments_sync.delay()

    assert LedgerEntry.objects.filter(wallet_id=alice.pk).count() == 1
    assert Wallet.objects.get(pk=alice.pk).balance == Decimal("300.00")


def test_the_poller_leaves_payments_younger_than_the_delay_to_the_webhook(alice, yookassa, create_payment):
    payment = create_payment(alice)
    yookassa.succeed(payment.yookassa_payment_id)

    call_command("sync_payments")

    assert Payment.objects.get().status == Payment.Status.PENDING
    assert yookassa.requests_to(f"/v3/payments/{payment.yookassa_payment_id}") == []


def test_the_poller_records_payments_canceled_at_yookassa(alice, yookassa, create_payment):
    payment = create_payment(alice)
    make_old(payment)
    yookassa.cancel(payment.yookassa_payment_id)

    call_command("sync_payments", older_than=60)

    assert Payment.objects.get().status == Payment.Status.CANCELED
    assert Wallet.objects.get(pk=alice.pk).balance == 0


def test_the_poller_does_not_ask_about_finished_payments(alice, yookassa, create_payment, post_notification):
    payment = create_payment(alice)
    yookassa.succeed(payment.yookassa_payment_id)
    post_notification(yookassa.notification("payment.succeeded", payment.yookassa_payment_id))
    make_old(payment)
    asked = len(yookassa.requests)

    call_command("sync_payments")

    assert len(yookassa.requests) == asked


def test_one_failing_payment_does_not_stop_the_others(alice, bob, yookassa, create_payment, caplog):
    mismatched = create_payment(alice, "500.00")
    good = create_payment(bob, "200.00")
    make_old(mismatched)
    make_old(good)
    yookassa.succeed(mismatched.yookassa_payment_id, amount={"value": "1.00", "currency": "RUB"})
    yookassa.succeed(good.yookassa_payment_id)

    call_command("sync_payments")

    assert Payment.objects.get(pk=mismatched.pk).status == Payment.Status.PENDING
    assert Payment.objects.get(pk=good.pk).status == Payment.Status.SUCCEEDED
    assert Wallet.objects.get(pk=alice.pk).balance == 0
    assert Wallet.objects.get(pk=bob.pk).balance == Decimal("200.00")
