from decimal import Decimal

import pytest

from payments import services
from payments.models import Payment, PaymentNotification, Refund
from tests.helpers import balance, ledger_mismatches
from wallets.models import LedgerEntry
from wallets.services import InsufficientFunds, wallet_debit

pytestmark = pytest.mark.django_db


@pytest.fixture
def paid(alice, yookassa, create_payment):
    """Alice's succeeded 500 ₽ top-up, credited."""
    payment = create_payment(alice, "500.00")
    services.payment_apply(provider_object=yookassa.succeed(payment.yookassa_payment_id))
    payment.refresh_from_db()
    return payment


def test_a_refund_debits_the_wallet_and_creates_the_yookassa_refund_with_an_idempotence_key(
    alice, admin_user, yookassa, paid
):
    refund = services.refund_create(payment=paid, amount=Decimal("200.00"), created_by=admin_user)

    assert refund.status == Refund.Status.SUCCEEDED
    (sent,) = yookassa.requests_to("/v3/refunds", "POST")
    assert sent.headers["Idempotence-Key"] == str(refund.pk)
    # "sources" (empty) is the SDK's addition.
    assert sent.json() == {
        "payment_id": paid.yookassa_payment_id,
        "amount": {"value": "200.00", "currency": "RUB"},
        "sources": [],
    }
    entry = LedgerEntry.objects.get(reference=f"refund:{refund.pk}")
    assert entry.amount == Decimal("-200.00")
    assert entry.kind == LedgerEntry.Kind.REFUND
    assert entry.created_by == admin_user
    assert balance(alice) == Decimal("300.00")
    assert refund.yookassa_refund_id in yookassa.refunds
    assert ledger_mismatches() == []


def test_a_refund_is_bounded_by_the_available_balance(alice, admin_user, yookassa, paid):
    wallet_debit(user=alice, amount=Decimal("400.00"), reference="msg:spent")

    with pytest.raises(InsufficientFunds):
        services.refund_create(payment=paid, amount=Decimal("200.00"), created_by=admin_user)

    assert balance(alice) == Decimal("100.00")
    assert not Refund.objects.exists()
    assert yookassa.requests_to("/v3/refunds") == []


def test_refunds_never_exceed_the_payment(alice, admin_user, yookassa, paid):
    services.refund_create(payment=paid, amount=Decimal("300.00"), created_by=admin_user)
    with pytest.raises(services.RefundNotAllowed):
        services.refund_create(payment=paid, amount=Decimal("200.01"), created_by=admin_user)
    services.refund_create(payment=paid, amount=Decimal("200.00"), created_by=admin_user)

    assert balance(alice) == 0
    assert services.refundable_amount(payment=paid) == 0


def test_only_a_succeeded_payment_can_be_refunded(alice, admin_user, yookassa, create_payment):
    pending = create_payment(alice)
    with pytest.raises(services.RefundNotAllowed):
        services.refund_create(payment=pending, amount=Decimal("1.00"), created_by=admin_user)
    assert not Refund.objects.exists()


def test_a_refund_yookassa_refuses_gives_the_money_back_once(alice, admin_user, yookassa, paid):
    yookassa.refuse = {
        "type": "error",
        "id": "1",
        "code": "invalid_request",
        "description": "Refunds are off",
    }

    refund = services.refund_create(payment=paid, amount=Decimal("500.00"), created_by=admin_user)
    services.refund_submit(refund_id=refund.pk)

    assert refund.status == Refund.Status.CANCELED
    assert "Refunds are off" in refund.error
    assert balance(alice) == Decimal("500.00")
    assert LedgerEntry.objects.filter(reference=f"refund-canceled:{refund.pk}").count() == 1
    assert services.refundable_amount(payment=paid) == Decimal("500.00")
    assert ledger_mismatches() == []


def test_a_refund_yookassa_did_not_answer_is_resubmitted_by_the_poller_with_the_same_key(
    alice, admin_user, yookassa, paid, settings
):
    api_url = settings.YOOKASSA_API_URL
    settings.YOOKASSA_API_URL = "http://127.0.0.1:9/v3"
    with pytest.raises(services.yookassa.YooKassaUnavailable):
        services.refund_create(payment=paid, amount=Decimal("100.00"), created_by=admin_user)
    refund = Refund.objects.get()
    assert refund.status == Refund.Status.PENDING
    assert balance(alice) == Decimal("400.00")

    settings.YOOKASSA_API_URL = api_url
    services.payments_sync()
    services.payments_sync()

    refund.refresh_from_db()
    assert refund.status == Refund.Status.SUCCEEDED
    assert len(yookassa.refunds) == 1
    assert {r.headers["Idempotence-Key"] for r in yookassa.requests_to("/v3/refunds", "POST")} == {
        str(refund.pk)
    }
    assert balance(alice) == Decimal("400.00")


def test_refund_succeeded_notifications_are_handled_idempotently(
    alice, admin_user, yookassa, paid, post_notification
):
    yookassa.refund_status = "pending"
    refund = services.refund_create(payment=paid, amount=Decimal("150.00"), created_by=admin_user)
    assert refund.status == Refund.Status.PENDING
    yookassa.set_refund_status(refund.yookassa_refund_id, "succeeded")

    for _ in range(3):
        response = post_notification(yookassa.notification("refund.succeeded", refund.yookassa_refund_id))
        assert response.status_code == 200

    refund.refresh_from_db()
    assert refund.status == Refund.Status.SUCCEEDED
    assert balance(alice) == Decimal("350.00")
    assert LedgerEntry.objects.filter(wallet_id=alice.pk).count() == 2
    # The first is acted on; the refund is final after it, so the repeats ask YooKassa nothing.
    outcomes = PaymentNotification.objects.order_by("received_at", "id").values_list("outcome", "error")
    assert list(outcomes) == [
        (PaymentNotification.Outcome.PROCESSED, ""),
        (PaymentNotification.Outcome.IGNORED, "already succeeded"),
        (PaymentNotification.Outcome.IGNORED, "already succeeded"),
    ]
    assert len(yookassa.requests_to(f"/v3/refunds/{refund.yookassa_refund_id}", "GET")) == 1
    assert ledger_mismatches() == []


def test_a_forged_refund_notification_for_a_refund_still_pending_changes_nothing(
    alice, admin_user, yookassa, paid, post_notification
):
    yookassa.refund_status = "pending"
    refund = services.refund_create(payment=paid, amount=Decimal("150.00"), created_by=admin_user)

    post_notification(
        yookassa.notification("refund.succeeded", refund.yookassa_refund_id, status="succeeded")
    )

    assert Refund.objects.get().status == Refund.Status.PENDING


def test_a_refund_canceled_later_at_yookassa_gives_the_money_back(alice, admin_user, yookassa, paid):
    yookassa.refund_status = "pending"
    refund = services.refund_create(payment=paid, amount=Decimal("150.00"), created_by=admin_user)
    yookassa.set_refund_status(refund.yookassa_refund_id, "canceled")

    services.payments_sync()
    services.payments_sync()

    assert Refund.objects.get().status == Refund.Status.CANCELED
    assert balance(alice) == Decimal("500.00")
    assert ledger_mismatches() == []
    assert Payment.objects.get().status == Payment.Status.SUCCEEDED
