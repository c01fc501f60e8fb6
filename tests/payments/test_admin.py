from decimal import Decimal

import pytest
from django.urls import reverse

from payments import services
from payments.models import Payment, PaymentNotification, Refund
from wallets.models import Wallet

pytestmark = pytest.mark.django_db


@pytest.fixture
def paid(alice, yookassa, create_payment, post_notification):
    payment = create_payment(alice, "500.00")
    yookassa.succeed(payment.yookassa_payment_id)
    post_notification(yookassa.notification("payment.succeeded", payment.yookassa_payment_id))
    payment.refresh_from_db()
    return payment


def test_payments_are_listed_searchable_and_filterable_read_only(admin_client, paid):
    changelist = reverse("admin:payments_payment_changelist")
    assert admin_client.get(changelist).status_code == 200
    found = admin_client.get(changelist, {"q": "alice@example.com", "status__exact": "succeeded"})
    assert list(found.context["cl"].result_list) == [paid]
    assert list(admin_client.get(changelist, {"q": paid.yookassa_payment_id}).context["cl"].result_list) == [
        paid
    ]
    assert admin_client.get(reverse("admin:payments_payment_add")).status_code == 403
    change = admin_client.get(reverse("admin:payments_payment_change", args=[paid.pk]))
    assert change.status_code == 200
    assert reverse("admin:payments_payment_refund", args=[paid.pk]) in change.content.decode()


def test_notifications_are_listed_read_only(admin_client, paid):
    notification = PaymentNotification.objects.get()
    assert admin_client.get(reverse("admin:payments_paymentnotification_changelist")).status_code == 200
    response = admin_client.get(reverse("admin:payments_paymentnotification_change", args=[notification.pk]))
    assert response.status_code == 200
    assert (
        admin_client.post(
            reverse("admin:payments_paymentnotification_delete", args=[notification.pk])
        ).status_code
        == 403
    )


def test_staff_refund_a_payment_through_the_admin_form(admin_client, admin_user, alice, paid, yookassa):
    url = reverse("admin:payments_payment_refund", args=[paid.pk])
    assert admin_client.get(url).status_code == 200

    response = admin_client.post(url, {"amount": "120.00"})

    assert response.status_code == 302
    refund = Refund.objects.get()
    assert refund.amount == Decimal("120.00")
    assert refund.created_by == admin_user
    assert refund.status == Refund.Status.SUCCEEDED
    assert Wallet.objects.get(pk=alice.pk).balance == Decimal("380.00")


def test_the_refund_form_refuses_more_than_the_available_balance(admin_client, alice, paid, yookassa):
    from wallets.services import wallet_debit

    wallet_debit(user=alice, amount=Decimal("450.00"), reference="msg:spent")

    response = admin_client.post(
        reverse("admin:payments_payment_refund", args=[paid.pk]), {"amount": "100.00"}
    )

    assert response.status_code == 200
    assert response.context["form"].errors["amount"]
    assert not Refund.objects.exists()
    assert Wallet.objects.get(pk=alice.pk).balance == Decimal("50.00")


def test_a_user_who_is_not_staff_cannot_reach_the_refund_form(alice_client, paid):
    response = alice_client.post(
        reverse("admin:payments_payment_refund", args=[paid.pk]), {"amount": "500.00"}
    )
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]
    assert not Refund.objects.exists()
    assert Payment.objects.get().status == Payment.Status.SUCCEEDED


def test_staff_without_the_refund_permission_cannot_refund(client, make_user, paid):
    clerk = make_user("email_clerk", email="clerk@example.com", is_staff=True)
    client.force_login(clerk)
    response = client.post(reverse("admin:payments_payment_refund", args=[paid.pk]), {"amount": "500.00"})
    assert response.status_code == 403
    assert not Refund.objects.exists()
    assert services.refundable_amount(payment=paid) == Decimal("500.00")


def test_the_refund_action_opens_the_form_for_one_succeeded_payment(
    admin_client, paid, alice, create_payment
):
    changelist = reverse("admin:payments_payment_changelist")

    response = admin_client.post(changelist, {"action": "refund_selected", "_selected_action": [paid.pk]})

    assert response.status_code == 302
    assert response["Location"] == reverse("admin:payments_payment_refund", args=[paid.pk])

    pending = create_payment(alice)
    response = admin_client.post(changelist, {"action": "refund_selected", "_selected_action": [pending.pk]})
    assert response.status_code == 302
    assert response["Location"].endswith(changelist)
    assert not Refund.objects.exists()
