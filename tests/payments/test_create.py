import json
from decimal import Decimal

import pytest

from payments.models import Payment
from tests.fakes.yookassa import SHOP_ID

pytestmark = pytest.mark.django_db


def test_a_top_up_sends_yookassa_exactly_the_seeds_body_with_our_payment_id_as_idempotence_key(
    alice_client, alice, yookassa
):
    response = alice_client.post("/api/payment/create", {"amount": 500}, content_type="application/json")

    assert response.status_code == 200
    payment = Payment.objects.get(user=alice)
    (sent,) = yookassa.requests_to("/v3/payments", "POST")
    assert sent.headers["Idempotence-Key"] == str(payment.pk)
    assert sent.json() == {
        "amount": {"value": "500.00", "currency": "RUB"},
        "confirmation": {"type": "embedded"},
        "capture": True,
        "description": "Пополнение alice@example.com",
        # The official SDK adds cms_name and the empty lists to every payment it creates, as
        # it did in the seed: they are the SDK's, not ours.
        "metadata": {"user_id": "email_alice", "cms_name": "yookassa_sdk_python"},
        "statements": [],
        "transfers": [],
    }
    assert "payment_method_data" not in sent.json()
    created = yookassa.only_payment()
    assert response.json() == {
        "payment_id": str(payment.pk),
        "confirmation_token": created["confirmation"]["confirmation_token"],
    }
    assert payment.yookassa_payment_id == created["id"]
    assert payment.status == Payment.Status.PENDING
    assert payment.amount == Decimal("500.00")


def test_the_api_is_called_with_the_shops_credentials(alice, yookassa, create_payment):
    create_payment(alice)
    (sent,) = yookassa.requests_to("/v3/payments", "POST")
    assert sent.headers["Authorization"] == yookassa.basic_auth
    assert SHOP_ID


def test_a_retried_create_with_the_same_key_returns_the_same_yookassa_payment(
    alice, yookassa, create_payment
):
    from payments import yookassa as client

    payment = create_payment(alice)
    again = client.payment_create(
        body={"amount": {"value": "500.00", "currency": "RUB"}, "confirmation": {"type": "embedded"}},
        idempotence_key=str(payment.pk),
    )
    assert again["id"] == payment.yookassa_payment_id
    assert len(yookassa.payments) == 1


def test_a_receipt_is_attached_when_54_fz_receipts_are_enabled(alice_client, yookassa, settings):
    settings.YOOKASSA_RECEIPT_ENABLED = True
    settings.YOOKASSA_RECEIPT_VAT_CODE = 1
    response = alice_client.post("/api/payment/create", {"amount": "1000"}, content_type="application/json")
    assert response.status_code == 200
    receipt = yookassa.requests_to("/v3/payments", "POST")[0].json()["receipt"]
    assert receipt["customer"] == {"email": "alice@example.com"}
    (item,) = receipt["items"]
    assert item["amount"] == {"value": "1000.00", "currency": "RUB"}
    assert item["vat_code"] == 1
    assert Decimal(str(item["quantity"])) == 1


@pytest.mark.parametrize("amount", [99, "99.99", 50001, "abc", None, "100.001", "NaN", -500])
def test_an_amount_outside_the_limits_is_refused_with_a_clear_message(alice_client, yookassa, amount):
    response = alice_client.post(
        "/api/payment/create", json.dumps({"amount": amount}), content_type="application/json"
    )
    assert response.status_code == 400
    assert response.json() == {
        "detail": "Сумма пополнения — от 100,00\xa0₽ до 50\xa0000,00\xa0₽, с точностью до копейки."
    }
    assert yookassa.requests == []
    assert not Payment.objects.exists()


def test_the_limits_come_from_the_settings(alice_client, alice, yookassa, settings):
    settings.TOPUP_MIN_AMOUNT = Decimal("10")
    settings.TOPUP_MAX_AMOUNT = Decimal("20")

    at_the_minimum = alice_client.post("/api/payment/create", {"amount": 10}, content_type="application/json")
    over_the_maximum = alice_client.post(
        "/api/payment/create", {"amount": "20.01"}, content_type="application/json"
    )

    assert at_the_minimum.status_code == 200
    (sent,) = yookassa.requests_to("/v3/payments", "POST")
    assert sent.json()["amount"] == {"value": "10.00", "currency": "RUB"}
    assert Payment.objects.get(user=alice).amount == Decimal("10.00")
    assert over_the_maximum.status_code == 400
    assert over_the_maximum.json() == {
        "detail": "Сумма пополнения — от 10,00\xa0₽ до 20,00\xa0₽, с точностью до копейки."
    }


def test_a_signed_out_visitor_gets_a_json_401(client, yookassa):
    response = client.post("/api/payment/create", {"amount": 500}, content_type="application/json")
    assert response.status_code == 401
    assert response["Content-Type"] == "application/json"
    assert "detail" in response.json()
    assert yookassa.requests == []


def test_without_keys_the_api_says_payments_are_not_configured(alice_client, settings):
    settings.YOOKASSA_SHOP_ID = ""
    response = alice_client.post("/api/payment/create", {"amount": 500}, content_type="application/json")
    assert response.status_code == 503
    assert response.json() == {"detail": "Оплата не настроена: обратитесь в поддержку."}
    assert not Payment.objects.exists()


def test_a_refusal_from_yookassa_cancels_our_row_and_answers_503(alice_client, alice, yookassa):
    yookassa.refuse = {
        "type": "error",
        "id": "1",
        "code": "invalid_request",
        "description": "Shop is blocked",
    }
    response = alice_client.post("/api/payment/create", {"amount": 500}, content_type="application/json")
    assert response.status_code == 503
    payment = Payment.objects.get(user=alice)
    assert payment.status == Payment.Status.CANCELED
    assert "Shop is blocked" in payment.error


def test_the_create_endpoint_enforces_csrf_for_a_session(alice, yookassa):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)
    response = client.post("/api/payment/create", {"amount": 500}, content_type="application/json")
    assert response.status_code == 403
    assert yookassa.requests == []


def test_a_user_without_email_gets_a_receipt_by_phone_and_a_description_by_id(
    make_user, client, yookassa, settings
):
    settings.YOOKASSA_RECEIPT_ENABLED = True
    telegram_user = make_user("telegram_987", phone="+79001234567")
    client.force_login(telegram_user)

    response = client.post("/api/payment/create", {"amount": 500}, content_type="application/json")

    assert response.status_code == 200
    sent = yookassa.requests_to("/v3/payments", "POST")[0].json()
    assert sent["description"] == "Пополнение telegram_987"
    assert sent["metadata"]["user_id"] == "telegram_987"
    assert sent["receipt"]["customer"] == {"phone": "+79001234567"}
