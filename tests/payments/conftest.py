from decimal import Decimal

import pytest

from payments import services


@pytest.fixture
def create_payment(yookassa):
    """A pending top-up of `amount` for `user`, created through the real service and fake API."""

    def create(user, amount: str = "500.00"):
        return services.payment_create(user=user, amount=Decimal(amount))

    return create
