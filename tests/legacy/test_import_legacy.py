from decimal import Decimal
from io import StringIO

import pytest
from allauth.socialaccount.models import SocialAccount
from django.core.management import call_command
from django.db.models import Sum

from accounts.models import User
from chats.models import Chat, Message
from payments.models import Payment
from wallets.models import LedgerEntry, Wallet

pytestmark = pytest.mark.django_db(transaction=True)


def import_legacy(legacy_db, *args: str) -> str:
    out, err = StringIO(), StringIO()
    call_command(
        "import_legacy", "--source", legacy_db.url, "--batch-size", "100", *args, stdout=out, stderr=err
    )
    return out.getvalue()


def counts() -> dict:
    return {
        "users": User.objects.count(),
        "entries": LedgerEntry.objects.count(),
        "payments": Payment.objects.count(),
        "chats": Chat.objects.count(),
        "messages": Message.objects.count(),
        "balance": Wallet.objects.aggregate(total=Sum("balance"))["total"],
    }


def test_it_imports_every_user_balance_payment_and_message(legacy_db):
    wrote = legacy_db.fill(users=300)

    output = import_legacy(legacy_db)

    assert User.objects.count() == 300
    assert Wallet.objects.aggregate(total=Sum("balance"))["total"] == wrote["balance"]
    assert "Balances match." in output
    # Each balance arrived as one opening `adjustment` entry, keyed by the casdoor_id.
    vk_user = User.objects.get(casdoor_id="vk_100000")
    assert vk_user.wallet.balance == Decimal("0.00")
    user = User.objects.get(casdoor_id="google_100001")
    entry = LedgerEntry.objects.get(reference="legacy:google_100001")
    assert (entry.kind, entry.amount, user.wallet.balance) == (
        "adjustment",
        Decimal("37.01"),
        Decimal("37.01"),
    )
    assert (user.email, user.name, user.avatar, user.phone) == (
        "user1@example.com",
        "User 1",
        "https://cdn.example.com/1.png",
        "",
    )
    # Payments keep their YooKassa ids and statuses; none of them credited anything.
    imported = dict(Payment.objects.values_list("yookassa_payment_id", "status"))
    assert imported == wrote["payments"]
    assert not LedgerEntry.objects.filter(reference__startswith="yookassa:").exists()
    # Chats and messages, in order, with their times.
    assert Message.objects.count() == wrote["messages"]
    chat = Chat.objects.get(title="Chat 3")
    assert chat.user.casdoor_id == "telegram_100003"
    contents = list(chat.messages.order_by("created_at", "id").values_list("role", "content"))
    assert contents == [
        ("user", "message 0 of chat 3"),
        ("assistant", "message 1 of chat 3"),
        ("user", "message 2 of chat 3"),
        ("assistant", "message 3 of chat 3"),
    ]
    assert chat.created_at.isoformat() == "2025-06-02T00:03:00+00:00"
    assert chat.messages.first().image_url == "https://s3.example.com/b/3-0.png"
    # The social sign-in is linked, so the next VK sign-in finds this account.
    assert SocialAccount.objects.get(provider="vk", uid="100000").user == vk_user


def test_it_reports_the_malformed_row_and_imports_the_rest(legacy_db):
    legacy_db.fill(users=20)

    output = import_legacy(legacy_db)

    assert "failed: payments 'malformed-1': no user 'vk_nobody'" in output
    assert Payment.objects.count() == 20
    assert "user_sessions        2  not imported: users sign in again" in output


def test_a_second_run_changes_nothing(legacy_db):
    legacy_db.fill(users=50)
    import_legacy(legacy_db)
    before = counts()

    output = import_legacy(legacy_db)

    assert counts() == before
    assert "wallets             50        0        0       50       0" in output


def test_a_later_run_imports_only_what_is_new_and_brings_changed_balances(legacy_db):
    legacy_db.fill(users=10)
    import_legacy(legacy_db)
    legacy_db.execute(
        "INSERT INTO wallets (casdoor_id, email, name, balance) VALUES ('telegram_555', NULL, 'Late', 42.50)"
    )
    legacy_db.execute("UPDATE wallets SET balance = balance + 100 WHERE casdoor_id = 'google_100001'")
    legacy_db.execute("UPDATE payments SET status = 'succeeded' WHERE user_id = 'google_100001'")
    before = counts()

    output = import_legacy(legacy_db)

    after = counts()
    assert after["users"] == before["users"] + 1
    assert User.objects.get(casdoor_id="telegram_555").wallet.balance == Decimal("42.50")
    assert User.objects.get(casdoor_id="google_100001").wallet.balance == Decimal("137.01")
    assert Payment.objects.get(user__casdoor_id="google_100001").status == "succeeded"
    assert not LedgerEntry.objects.filter(reference__startswith="yookassa:").exists()
    assert "Balances match." in output


def test_a_dry_run_writes_nothing_and_says_what_it_would_do(legacy_db):
    legacy_db.fill(users=15)

    output = import_legacy(legacy_db, "--dry-run")

    assert "Dry run: nothing was written." in output
    assert "wallets             15       15" in output
    assert User.objects.count() == 0
    assert Payment.objects.count() == 0
