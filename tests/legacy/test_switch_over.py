"""After the import: the old system's webhooks and sign-ins land on the imported records."""

from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command

from accounts.models import User
from payments.models import Payment
from tests.accounts.test_oauth import VK_PROFILE, answer_vk, oauth_sign_in, signed_in_user
from wallets.models import LedgerEntry

pytestmark = pytest.mark.django_db(transaction=True)


def import_legacy(legacy_db) -> None:
    call_command("import_legacy", "--source", legacy_db.url, stdout=StringIO(), stderr=StringIO())


def test_a_late_webhook_for_an_imported_succeeded_payment_credits_nothing(
    legacy_db, yookassa, post_notification
):
    legacy_db.fill(users=10)
    import_legacy(legacy_db)
    payment = Payment.objects.filter(status=Payment.Status.SUCCEEDED).select_related("user").first()
    wallet_before = payment.user.wallet.balance
    entries_before = LedgerEntry.objects.count()
    # YooKassa's API reports the payment exactly as it is: succeeded, our user's, same amount.
    yookassa.payments[payment.yookassa_payment_id] = {
        "id": payment.yookassa_payment_id,
        "status": "succeeded",
        "paid": True,
        "amount": {"value": str(payment.amount), "currency": "RUB"},
        "metadata": {"user_id": payment.user.casdoor_id},
        "created_at": "2025-06-01T00:00:00.000Z",
    }
    body = yookassa.notification("payment.succeeded", payment.yookassa_payment_id)

    first = post_notification(body)
    replay = post_notification(body)

    assert (first.status_code, replay.status_code) == (200, 200)
    payment.user.wallet.refresh_from_db()
    assert payment.user.wallet.balance == wallet_before
    assert LedgerEntry.objects.count() == entries_before
    assert not LedgerEntry.objects.filter(reference=f"yookassa:{payment.yookassa_payment_id}").exists()


def test_a_legacy_vk_user_signing_in_lands_in_the_imported_account_with_its_balance(
    legacy_db, client, provider_edge, commit
):
    legacy_db.fill(users=10)
    legacy_db.execute("UPDATE wallets SET balance = 321.50 WHERE casdoor_id = 'vk_100000'")
    import_legacy(legacy_db)
    imported = User.objects.get(casdoor_id="vk_100000")
    answer_vk(provider_edge, profile={**VK_PROFILE, "user_id": "100000"})

    with commit(execute=True):
        response = oauth_sign_in(client, "vk")

    assert response.status_code == 302
    assert signed_in_user(client) == imported
    assert User.objects.count() == 10
    imported.wallet.refresh_from_db()
    assert imported.wallet.balance == Decimal("321.50")
    assert client.get("/api/wallet").json()["balance"] == "321.50"
