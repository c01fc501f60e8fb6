"""A YooKassa that accepts connections and never answers must not hang a request or a worker.

No wall-clock assertion: if a call were unbounded, the test would hang until pytest-timeout
fails it; bounded, it ends with the "no answer" outcome.
"""

import pytest
from django.core.management import call_command

from payments import services, yookassa
from payments.models import Payment, PaymentNotification

pytestmark = [pytest.mark.django_db, pytest.mark.timeout(30)]


@pytest.fixture
def silent_yookassa(yookassa, settings):
    settings.YOOKASSA_TIMEOUT = 0.5
    return yookassa


def test_creating_a_payment_against_a_silent_yookassa_ends_with_503(alice_client, alice, silent_yookassa):
    silent_yookassa.hang = True

    response = alice_client.post("/api/payment/create", {"amount": 500}, content_type="application/json")

    assert response.status_code == 503
    payment = Payment.objects.get(user=alice)
    assert payment.status == Payment.Status.CANCELED
    assert "timed out" in payment.error


def test_the_client_raises_unavailable_when_the_api_never_answers(silent_yookassa):
    silent_yookassa.hang = True
    with pytest.raises(yookassa.YooKassaUnavailable, match="timed out"):
        yookassa.payment_find("2c5d0000-000f-5000-8000-000000000000")


def test_a_webhook_whose_payment_cannot_be_fetched_in_time_answers_502(
    alice, silent_yookassa, create_payment, post_notification
):
    payment = create_payment(alice)
    silent_yookassa.succeed(payment.yookassa_payment_id)
    silent_yookassa.hang = True

    response = post_notification(
        silent_yookassa.notification("payment.succeeded", payment.yookassa_payment_id)
    )

    assert response.status_code == 502
    assert PaymentNotification.objects.get().outcome == PaymentNotification.Outcome.FAILED
    assert Payment.objects.get().status == Payment.Status.PENDING


def test_the_poller_finishes_when_yookassa_is_silent(alice, silent_yookassa, create_payment):
    create_payment(alice)
    silent_yookassa.hang = True

    call_command("sync_payments", older_than=0)

    assert Payment.objects.get().status == Payment.Status.PENDING


def test_without_keys_the_client_says_it_is_not_configured(settings):
    settings.YOOKASSA_SHOP_ID = ""
    settings.YOOKASSA_SECRET_KEY = ""
    with pytest.raises(yookassa.YooKassaNotConfigured, match="not configured"):
        yookassa.payment_find("anything")
    assert not services.yookassa.is_configured()
