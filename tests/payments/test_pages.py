import uuid
from decimal import Decimal

import pytest
from django.test import Client

from payments import services
from payments.models import Payment

pytestmark = pytest.mark.django_db


def test_the_wallet_api_answers_decimal_strings(alice_client, alice):
    from wallets.services import hold_place, wallet_credit

    wallet_credit(user=alice, amount=Decimal("150.50"), reference="bonus:1", kind="bonus")
    hold_place(user=alice, amount=Decimal("20.25"), reference="msg:1")

    response = alice_client.get("/api/wallet")

    assert response.status_code == 200
    assert response.json() == {"balance": "150.50", "held": "20.25", "available": "130.25"}


def test_the_wallet_api_answers_401_json_when_signed_out(client: Client):
    response = client.get("/api/wallet")
    assert response.status_code == 401
    assert response["Content-Type"] == "application/json"


def test_the_payment_status_shows_the_users_own_payment_and_wallet(
    alice_client, alice, yookassa, create_payment
):
    payment = create_payment(alice, "500.00")
    services.payment_apply(provider_object=yookassa.succeed(payment.yookassa_payment_id))

    response = alice_client.get(f"/api/payment/{payment.pk}")

    assert response.status_code == 200
    data = response.json()
    assert data["payment_id"] == str(payment.pk)
    assert data["status"] == "succeeded"
    assert data["amount"] == "500.00"
    assert data["wallet"] == {"balance": "500.00", "held": "0.00", "available": "500.00"}


def test_bob_cannot_see_alices_payment(alice, bob, yookassa, create_payment, client: Client):
    payment = create_payment(alice)
    client.force_login(bob)

    response = client.get(f"/api/payment/{payment.pk}")

    assert response.status_code == 404
    assert response.json() == {"detail": "Не найдено."}


def test_an_unknown_payment_id_is_a_json_404(alice_client):
    response = alice_client.get(f"/api/payment/{uuid.uuid4()}")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"


def test_the_payment_status_answers_401_when_signed_out(alice, yookassa, create_payment, client: Client):
    payment = create_payment(alice)
    assert client.get(f"/api/payment/{payment.pk}").status_code == 401


def test_the_top_up_page_loads_the_widget_script_from_the_setting_and_passes_the_limits(
    alice_client, yookassa, settings
):
    settings.YOOKASSA_WIDGET_URL = "https://yookassa.ru/checkout-widget/v1/checkout-widget.js"
    response = alice_client.get("/topup/")

    assert response.status_code == 200
    body = response.content.decode()
    assert '<script defer src="https://yookassa.ru/checkout-widget/v1/checkout-widget.js"></script>' in body
    assert 'id="topup-config"' in body
    config = response.context["config"]
    assert config["min"] == "100" and config["max"] == "50000"
    assert config["presets"] == ["300", "500", "1000", "3000"]
    assert 'x-data="topup"' in body


def test_the_top_up_page_says_payments_are_not_configured_without_keys(alice_client, settings):
    settings.YOOKASSA_SHOP_ID = ""
    response = alice_client.get("/topup/")
    assert response.status_code == 200
    body = response.content.decode()
    assert 'data-testid="topup-not-configured"' in body
    assert "checkout-widget" not in body


@pytest.mark.parametrize("url", ["/topup/", "/payments/"])
def test_pages_send_a_signed_out_visitor_to_sign_in(client: Client, url):
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_the_history_lists_only_the_users_own_payments_newest_first(
    alice_client, alice, bob, yookassa, create_payment, django_assert_max_num_queries
):
    first = create_payment(alice, "300.00")
    services.payment_apply(provider_object=yookassa.succeed(first.yookassa_payment_id))
    create_payment(alice, "700.00")
    create_payment(bob, "12345.00")

    with django_assert_max_num_queries(8):
        response = alice_client.get("/payments/")

    assert response.status_code == 200
    rows = list(response.context["page"].object_list)
    assert [p.amount for p in rows] == [Decimal("700.00"), Decimal("300.00")]
    body = response.content.decode()
    assert "Оплачен" in body or "оплачен" in body
    assert "12345" not in body


def test_the_history_of_a_new_user_is_empty(alice_client):
    response = alice_client.get("/payments/")
    assert 'data-testid="payments-empty"' in response.content.decode()
    assert not Payment.objects.exists()
