import copy
import json
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client

from payments import services
from payments.models import Payment, PaymentNotification
from tests.fakes.yookassa import YOOKASSA_IP
from tests.helpers import in_threads, ledger_mismatches
from wallets.models import LedgerEntry, Wallet

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_fifty_concurrent_deliveries_of_the_same_success_credit_exactly_once(alice, yookassa):
    payment = services.payment_create(user=alice, amount=Decimal("500.00"))
    yookassa.succeed(payment.yookassa_payment_id)
    body = json.dumps(yookassa.notification("payment.succeeded", payment.yookassa_payment_id))

    def deliver() -> int:
        response = Client().post(
            "/api/payment/webhook", data=body, content_type="application/json", REMOTE_ADDR=YOOKASSA_IP
        )
        return response.status_code

    codes = in_threads(50, lambda _: deliver())

    assert codes == [200] * 50
    assert LedgerEntry.objects.filter(wallet_id=alice.pk).count() == 1
    assert Wallet.objects.get(pk=alice.pk).balance == Decimal("500.00")
    assert ledger_mismatches() == []
    assert Payment.objects.get().status == Payment.Status.SUCCEEDED
    # Those that arrived once the payment was recorded as succeeded did not ask YooKassa again.
    outcomes = list(PaymentNotification.objects.values_list("outcome", flat=True))
    processed = outcomes.count(PaymentNotification.Outcome.PROCESSED)
    assert processed + outcomes.count(PaymentNotification.Outcome.IGNORED) == 50
    assert processed >= 1
    assert len(yookassa.requests_to(f"/v3/payments/{payment.yookassa_payment_id}", "GET")) == processed


def test_the_poller_and_webhooks_racing_credit_exactly_once(alice, yookassa):
    payment = services.payment_create(user=alice, amount=Decimal("750.00"))
    yookassa.succeed(payment.yookassa_payment_id)
    body = json.dumps(yookassa.notification("payment.succeeded", payment.yookassa_payment_id))

    def webhook_or_poller(i: int) -> None:
        if i % 2:
            Client().post(
                "/api/payment/webhook", data=body, content_type="application/json", REMOTE_ADDR=YOOKASSA_IP
            )
        else:
            services.payments_sync(older_than=timedelta(0))

    assert in_threads(20, webhook_or_poller) == [None] * 20

    assert LedgerEntry.objects.filter(wallet_id=alice.pk).count() == 1
    assert Wallet.objects.get(pk=alice.pk).balance == Decimal("750.00")
    assert ledger_mismatches() == []


def test_two_concurrent_refunds_cannot_refund_more_than_the_payment(alice, admin_user, yookassa):
    payment = services.payment_create(user=alice, amount=Decimal("500.00"))
    yookassa.succeed(payment.yookassa_payment_id)
    services.payment_apply(provider_object=yookassa.payments[payment.yookassa_payment_id])

    def refund() -> str:
        try:
            services.refund_create(payment=payment, amount=Decimal("300.00"), created_by=admin_user)
        except services.RefundNotAllowed:
            return "refused"
        return "refunded"

    outcomes = in_threads(2, lambda _: refund())

    assert sorted(outcomes) == ["refunded", "refused"]
    assert Wallet.objects.get(pk=alice.pk).balance == Decimal("200.00")
    assert ledger_mismatches() == []


def test_a_database_outage_answers_5xx_so_yookassa_retries_and_the_retry_credits(alice, yookassa):
    payment = services.payment_create(user=alice, amount=Decimal("500.00"))
    yookassa.succeed(payment.yookassa_payment_id)
    body = json.dumps(yookassa.notification("payment.succeeded", payment.yookassa_payment_id))
    saved = copy.deepcopy(connection.settings_dict)
    connection.close()
    connection.close_pool()
    # The database goes away: nothing listens on port 1.
    connection.settings_dict["PORT"] = "1"
    connection.settings_dict["OPTIONS"] = {
        **saved["OPTIONS"],
        "pool": {**saved["OPTIONS"]["pool"], "timeout": 2},
    }
    try:
        during_outage = Client(raise_request_exception=False).post(
            "/api/payment/webhook", data=body, content_type="application/json", REMOTE_ADDR=YOOKASSA_IP
        )
    finally:
        connection.close()
        connection.close_pool()
        connection.settings_dict.clear()
        connection.settings_dict.update(saved)

    assert during_outage.status_code == 500
    assert during_outage.json() == {"detail": "Внутренняя ошибка сервера."}
    assert Wallet.objects.get(pk=alice.pk).balance == 0

    retry = Client().post(
        "/api/payment/webhook", data=body, content_type="application/json", REMOTE_ADDR=YOOKASSA_IP
    )

    assert retry.status_code == 200
    assert Wallet.objects.get(pk=alice.pk).balance == Decimal("500.00")
    assert ledger_mismatches() == []


def test_sixty_parallel_top_up_creations_leave_only_the_allowed_open_ones(alice, yookassa, settings):
    # The rate limit is raised out of the way: the cap on open top-ups must hold by itself, under
    # the user's row lock, however the requests interleave.
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "payment_create": "1000/m"}
    settings.PAYMENTS_MAX_PENDING = 3

    def create(_: int) -> int:
        client = Client()
        client.force_login(alice)
        return client.post(
            "/api/payment/create", {"amount": 500}, content_type="application/json"
        ).status_code

    codes = in_threads(60, create)

    assert sorted(codes) == [200] * 3 + [429] * 57
    assert Payment.objects.count() == 3
    assert len(yookassa.payments) == 3
