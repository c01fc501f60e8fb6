import hashlib
import json
import tempfile
from decimal import Decimal
from io import StringIO
from pathlib import Path

import pytest
from allauth.account.models import EmailAddress
from allauth.socialaccount.models import SocialAccount
from django.core.management import call_command
from django.db.models import Sum
from django.utils import timezone

from accounts.models import User
from chats.models import Chat, Message
from legacy.models import ImportedRow, LegacySession
from payments.models import Payment
from wallets.models import LedgerEntry, Wallet
from wallets.reconciliation import balances_reconcile

pytestmark = pytest.mark.django_db(transaction=True)


def import_legacy(legacy_db, *args: str) -> tuple[str, dict]:
    """Runs the command as an operator would; returns what it printed and its JSON report."""
    with tempfile.TemporaryDirectory() as directory:
        report = Path(directory) / "report.json"
        out = StringIO()
        call_command(
            "import_legacy",
            "--source",
            legacy_db.url,
            "--report",
            str(report),
            *args,
            stdout=out,
            stderr=StringIO(),
        )
        return out.getvalue(), json.loads(report.read_text())


def table(report: dict, name: str) -> tuple[int, ...]:
    """One table's counts from the JSON report: (read, new, changed, unchanged, refused, gone)."""
    row = next(row for row in report["tables"] if row["table"] == name)
    return tuple(row[key] for key in ("read", "new", "changed", "unchanged", "refused", "gone"))


def counts() -> dict:
    return {
        "users": User.objects.count(),
        "entries": LedgerEntry.objects.count(),
        "payments": Payment.objects.count(),
        "chats": Chat.objects.count(),
        "messages": Message.objects.count(),
        "sessions": LegacySession.objects.count(),
        "balance": Wallet.objects.aggregate(total=Sum("balance"))["total"],
    }


def assert_every_wallet_adds_up() -> None:
    """balance == sum(entries) and held == sum(open holds), wallet by wallet."""
    assert balances_reconcile(now=timezone.now(), check_casdoor=False).mismatches == []


def test_it_imports_every_user_balance_payment_message_and_session(legacy_db):
    wrote = legacy_db.fill(users=300)

    output, report = import_legacy(legacy_db)

    assert User.objects.count() == 300
    assert Wallet.objects.aggregate(total=Sum("balance"))["total"] == wrote["balance"]
    assert "Balances match." in output
    assert report["balance"] == {
        "old_database": str(wrote["balance"]),
        "opening_balances_here": str(wrote["balance"]),
        "match": True,
    }
    assert_every_wallet_adds_up()
    # Each balance arrived as one opening `adjustment` entry, keyed by the casdoor_id.
    vk_user = User.objects.get(casdoor_id="vk_100000")
    assert vk_user.wallet.balance == Decimal("0.00")
    user = User.objects.get(casdoor_id="google_100001")
    entry = LedgerEntry.objects.get(reference="legacy:google_100001")
    assert (entry.kind, entry.amount, entry.balance_after, user.wallet.balance) == (
        "adjustment",
        Decimal("37.01"),
        Decimal("37.01"),
        Decimal("37.01"),
    )
    assert (user.email, user.name, user.avatar, user.phone) == (
        "user1@example.com",
        "User 1",
        "https://cdn.example.com/1.png",
        "",
    )
    assert not user.has_usable_password()
    # Payments keep their YooKassa ids and statuses; none of them credited anything.
    imported = dict(Payment.objects.values_list("yookassa_payment_id", "status"))
    assert imported == wrote["payments"]
    assert not LedgerEntry.objects.filter(reference__startswith="yookassa:").exists()
    assert Payment.objects.get(
        yookassa_payment_id="2f000001-000f-5000-9000-000000000001"
    ).provider_object == {"imported_from_legacy": True}
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
    # The old table has no updated_at: the chat list orders it by when it began.
    assert chat.updated_at == chat.created_at
    assert chat.messages.first().image_url == "https://s3.example.com/b/3-0.png"
    # The social sign-in is linked, so the next VK sign-in finds this account; an emailed-code
    # account keeps its verified address.
    assert SocialAccount.objects.get(provider="vk", uid="100000").user == vk_user
    address = EmailAddress.objects.get(user__casdoor_id="email_100004")
    assert (address.email, address.verified, address.primary) == ("user4@example.com", True, True)
    # Sign-in sessions are kept hashed: the old cookie's value is stored nowhere.
    stored = dict(LegacySession.objects.values_list("session_hash", "user__casdoor_id"))
    assert stored == {
        hashlib.sha256(key.encode()).hexdigest(): owner for key, owner in wrote["sessions"].items()
    }
    for session_id in wrote["sessions"]:
        assert not ImportedRow.objects.filter(legacy_key=session_id).exists()
    assert table(report, "user_sessions") == (2, 2, 0, 0, 0, 0)


def test_it_reports_the_malformed_row_with_its_key_and_imports_the_rest(legacy_db):
    legacy_db.fill(users=20)

    output, report = import_legacy(legacy_db)

    assert "refused: payments 'malformed-1': no user 'vk_nobody'" in output
    assert Payment.objects.count() == 20
    payments = next(row for row in report["tables"] if row["table"] == "payments")
    assert payments["refused_rows"] == [{"key": "malformed-1", "reason": "no user 'vk_nobody'"}]
    assert table(report, "payments") == (21, 20, 0, 0, 1, 0)


def test_a_second_run_changes_nothing(legacy_db):
    legacy_db.fill(users=50)
    import_legacy(legacy_db)
    before = counts()

    output, report = import_legacy(legacy_db)

    assert counts() == before
    assert table(report, "wallets") == (50, 0, 0, 50, 0, 0)
    # The malformed payment is refused again, every run, until the old row is fixed.
    assert table(report, "payments") == (51, 0, 0, 50, 1, 0)
    assert table(report, "messages") == (68, 0, 0, 68, 0, 0)
    assert "Balances match." in output


def change_the_old_system(legacy_db) -> None:
    """What may happen in the old system between a rehearsal and the final run."""
    legacy_db.execute(
        "INSERT INTO wallets (casdoor_id, email, name, balance) VALUES ('telegram_555', NULL, 'Late', 42.50)"
    )
    legacy_db.execute(
        "UPDATE wallets SET balance = balance + 100, name = 'Renamed' WHERE casdoor_id = 'google_100001'"
    )
    legacy_db.execute(
        "UPDATE wallets SET balance = balance - 10, email = NULL WHERE casdoor_id = 'yandex_100002'"
    )
    legacy_db.execute("UPDATE payments SET status = 'succeeded' WHERE user_id = 'google_100001'")
    legacy_db.execute("UPDATE chats SET title = 'Renamed chat' WHERE title = 'Chat 3'")
    legacy_db.execute(
        "INSERT INTO messages (chat_id, role, content, created_at)"
        " SELECT id, 'user', 'one more', '2025-08-01T00:00:00Z' FROM chats WHERE title = 'Chat 0'"
    )
    legacy_db.execute("UPDATE messages SET content = 'edited' WHERE content = 'message 1 of chat 6'")
    legacy_db.execute("DELETE FROM user_sessions WHERE token = 'vk_100000'")
    legacy_db.execute(
        "INSERT INTO user_sessions VALUES ('5e7d5a3e-2f7c-4f55-9d3e-0c7f1e0b0c11', 'telegram_555')"
    )


def test_a_later_run_imports_only_what_is_new_and_brings_what_changed(legacy_db):
    legacy_db.fill(users=10)
    import_legacy(legacy_db)
    change_the_old_system(legacy_db)
    before = counts()

    output, report = import_legacy(legacy_db)

    after = counts()
    assert after["users"] == before["users"] + 1
    assert User.objects.get(casdoor_id="telegram_555").wallet.balance == Decimal("42.50")
    # A changed balance arrives as a correcting entry, up or down; the profile follows.
    google = User.objects.get(casdoor_id="google_100001")
    assert google.wallet.balance == Decimal("137.01")
    assert google.name == "Renamed"
    assert list(
        LedgerEntry.objects.filter(wallet__user=google).order_by("id").values_list("reference", "amount")
    ) == [("legacy:google_100001", Decimal("37.01")), ("legacy:google_100001:1", Decimal("100.00"))]
    yandex = User.objects.get(casdoor_id="yandex_100002")
    assert yandex.wallet.balance == Decimal("64.02")
    assert LedgerEntry.objects.get(reference="legacy:yandex_100002:1").amount == Decimal("-10.00")
    # An old profile field gone empty does not wipe ours.
    assert yandex.email == "user2@example.com"
    assert_every_wallet_adds_up()
    # A payment takes its final status and still credits nothing.
    assert Payment.objects.get(user=google).status == "succeeded"
    assert not LedgerEntry.objects.filter(reference__startswith="yookassa:").exists()
    # Chats and messages: a new title, one new message, one edited.
    assert Chat.objects.filter(title="Renamed chat").count() == 1
    chat_0 = Chat.objects.get(title="Chat 0")
    assert (
        list(chat_0.messages.order_by("created_at", "id").values_list("content", flat=True))[-1] == "one more"
    )
    assert Message.objects.filter(content="edited").count() == 1
    # The session signed out of the old system is forgotten; the new one is stored.
    assert sorted(LegacySession.objects.values_list("user__casdoor_id", flat=True)) == [
        "email_100004",
        "telegram_555",
    ]
    assert "Balances match." in output
    assert table(report, "wallets") == (11, 1, 2, 8, 0, 0)
    assert table(report, "payments") == (11, 0, 1, 9, 1, 0)
    assert table(report, "chats") == (4, 0, 1, 3, 0, 0)
    assert table(report, "messages") == (17, 1, 1, 15, 0, 0)
    assert table(report, "user_sessions") == (2, 1, 0, 1, 0, 1)


def test_a_dry_run_writes_nothing_and_says_what_it_would_do(legacy_db):
    legacy_db.fill(users=15)

    output, report = import_legacy(legacy_db, "--dry-run")

    assert "Dry run: nothing was written." in output
    assert report["dry_run"] is True
    assert table(report, "wallets") == (15, 15, 0, 0, 0, 0)
    assert User.objects.count() == 0
    assert Payment.objects.count() == 0
    assert LegacySession.objects.count() == 0
    assert ImportedRow.objects.count() == 0


def test_a_dry_run_before_the_final_run_shows_what_changed_and_changes_nothing(legacy_db):
    legacy_db.fill(users=10)
    import_legacy(legacy_db)
    change_the_old_system(legacy_db)
    before = counts()

    output, report = import_legacy(legacy_db, "--dry-run")

    assert counts() == before
    assert table(report, "wallets") == (11, 1, 2, 8, 0, 0)
    assert table(report, "user_sessions") == (2, 1, 0, 1, 0, 1)
    assert "Balances match." in output
    # The real run then does exactly what the rehearsal said.
    _, real = import_legacy(legacy_db)
    assert [table(real, name) for name in ("wallets", "payments", "chats", "messages", "user_sessions")] == [
        table(report, name) for name in ("wallets", "payments", "chats", "messages", "user_sessions")
    ]


def test_the_report_file_has_every_table_both_balance_totals_and_each_steps_time(legacy_db):
    legacy_db.fill(users=5)
    legacy_db.execute("DROP TABLE user_sessions")

    output, report = import_legacy(legacy_db)

    assert [row["table"] for row in report["tables"]] == [
        "wallets",
        "payments",
        "chats",
        "messages",
        "user_sessions",
    ]
    assert report["tables"][-1]["present"] is False
    assert "user_sessions   not in the old database, skipped" in output
    for row in report["tables"][:-1]:
        assert row["seconds"]["total"] >= 0
        assert set(row["seconds"]) > {"total"}
    assert report["balance"]["match"] is True
    assert report["seconds"] > 0
