from decimal import Decimal

import pytest
from django.test import Client

from payments import services
from tests.fakes.yookassa import YOOKASSA_IP, yookassa  # noqa: F401  (the fixture)


@pytest.fixture
def create_payment(yookassa):  # noqa: F811
    """A pending top-up of `amount` for `user`, created through the real service and fake API."""

    def create(user, amount: str = "500.00"):
        return services.payment_create(user=user, amount=Decimal(amount))

    return create


@pytest.fixture
def post_notification(client: Client):
    """Posts a notification body to the webhook as YooKassa would (from its address)."""

    def post(body, remote_addr: str = YOOKASSA_IP, **extra):
        return client.post(
            "/api/payment/webhook",
            data=body,
            content_type="application/json",
            REMOTE_ADDR=remote_addr,
            **extra,
        )

    return post
