import re
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission

from wallets.models import LedgerEntry, Wallet
from wallets.services import hold_place, wallet_credit

pytestmark = pytest.mark.django_db


@pytest.fixture
def alice_funded(alice):
    wallet_credit(user=alice, amount=Decimal("100"), reference="yookassa:1")
    hold_place(user=alice, amount=Decimal("30"), reference="msg:1")
    return alice


def adjust_form(client, user) -> tuple[str, str]:
    url = f"/admin/wallets/wallet/{user.pk}/adjust/"
    key = re.search(r'name="key" value="([^"]+)"', client.get(url).content.decode()).group(1)
    return url, key


def test_the_wallet_list_and_page_show_balances_entries_and_holds(admin_client, alice_funded):
    listing = admin_client.get("/admin/wallets/wallet/")
    assert listing.status_code == 200
    assert "email_alice" in listing.content.decode()

    page = admin_client.get(f"/admin/wallets/wallet/{alice_funded.pk}/change/").content.decode()
    assert "yookassa:1" in page
    assert "msg:1" in page
    assert f"/admin/wallets/wallet/{alice_funded.pk}/adjust/" in page
    # Read-only: no inputs for the balance.
    assert 'name="balance"' not in page


def test_ledger_entries_cannot_be_added_changed_or_deleted_in_admin(admin_client, alice_funded):
    entry = LedgerEntry.objects.get(reference="yookassa:1")
    assert admin_client.get("/admin/wallets/ledgerentry/").status_code == 200
    assert admin_client.get("/admin/wallets/ledgerentry/add/").status_code == 403
    assert (
        admin_client.post(f"/admin/wallets/ledgerentry/{entry.pk}/delete/", {"post": "yes"}).status_code
        == 403
    )
    admin_client.post(f"/admin/wallets/ledgerentry/{entry.pk}/change/", {"amount": "1000000"})
    entry.refresh_from_db()
    assert entry.amount == Decimal("100")


def test_wallets_and_holds_cannot_be_edited_or_deleted_in_admin(admin_client, alice_funded):
    assert admin_client.get("/admin/wallets/wallet/add/").status_code == 403
    assert (
        admin_client.post(f"/admin/wallets/wallet/{alice_funded.pk}/delete/", {"post": "yes"}).status_code
        == 403
    )
    admin_client.post(f"/admin/wallets/wallet/{alice_funded.pk}/change/", {"balance": "1000000"})
    assert Wallet.objects.get(pk=alice_funded.pk).balance == Decimal("100")
    assert admin_client.get("/admin/wallets/hold/add/").status_code == 403


def test_an_adjustment_writes_an_entry_with_the_reason_and_the_staff_member(
    admin_client, admin_user, alice_funded
):
    url, key = adjust_form(admin_client, alice_funded)

    response = admin_client.post(url, {"amount": "25.50", "reason": "Компенсация за сбой", "key": key})

    assert response.status_code == 302
    entry = LedgerEntry.objects.get(kind="adjustment")
    assert (entry.amount, entry.description, entry.created_by) == (
        Decimal("25.50"),
        "Компенсация за сбой",
        admin_user,
    )
    assert Wallet.objects.get(pk=alice_funded.pk).balance == Decimal("125.50")


def test_submitting_the_same_adjustment_form_twice_adjusts_once(admin_client, alice_funded):
    url, key = adjust_form(admin_client, alice_funded)
    for _ in range(2):
        admin_client.post(url, {"amount": "10", "reason": "Бонус", "key": key})
    assert LedgerEntry.objects.filter(kind="adjustment").count() == 1
    assert Wallet.objects.get(pk=alice_funded.pk).balance == Decimal("110")


def test_an_adjustment_needs_a_reason_and_a_non_zero_amount(admin_client, alice_funded):
    url, key = adjust_form(admin_client, alice_funded)
    for data in ({"amount": "10", "reason": "   "}, {"amount": "0", "reason": "x"}, {"reason": "x"}):
        response = admin_client.post(url, {**data, "key": key})
        assert response.status_code == 200
        assert "errorlist" in response.content.decode()
    assert not LedgerEntry.objects.filter(kind="adjustment").exists()


def test_a_negative_adjustment_cannot_take_more_than_the_available_balance(admin_client, alice_funded):
    url, key = adjust_form(admin_client, alice_funded)
    response = admin_client.post(url, {"amount": "-70.01", "reason": "Ошибка зачисления", "key": key})
    assert "errorlist" in response.content.decode()
    url, key = adjust_form(admin_client, alice_funded)
    admin_client.post(url, {"amount": "-70", "reason": "Ошибка зачисления", "key": key})
    wallet = Wallet.objects.get(pk=alice_funded.pk)
    assert (wallet.balance, wallet.held) == (Decimal("30"), Decimal("30"))


def test_staff_without_the_ledger_permission_cannot_adjust(client, make_user, alice_funded):
    clerk = make_user("email_clerk", is_staff=True)
    clerk.user_permissions.add(Permission.objects.get(codename="view_wallet"))
    client.force_login(clerk)
    url = f"/admin/wallets/wallet/{alice_funded.pk}/adjust/"
    assert client.get(url).status_code == 403
    assert client.post(url, {"amount": "1000", "reason": "x", "key": "0" * 32}).status_code == 403
    assert Wallet.objects.get(pk=alice_funded.pk).balance == Decimal("100")


def test_a_signed_in_user_who_is_not_staff_cannot_reach_the_adjust_form(alice_client, alice_funded):
    response = alice_client.post(
        f"/admin/wallets/wallet/{alice_funded.pk}/adjust/", {"amount": "1000", "reason": "x", "key": "0" * 32}
    )
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]
    assert Wallet.objects.get(pk=alice_funded.pk).balance == Decimal("100")
