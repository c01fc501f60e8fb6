"""The set-based path (PostgreSQL) against the per-row path: the same rules, the same result."""

from decimal import Decimal
from io import StringIO

import pytest
from allauth.account.models import EmailAddress
from allauth.socialaccount.models import SocialAccount
from django.core.management import CommandError, call_command
from django.db import connections

from accounts.models import User
from chats.models import Chat, Message
from legacy.models import ImportedRow, LegacySession
from legacy.services import RUN_LOCK, legacy_import
from legacy.source import LegacySource
from payments.models import Payment
from tests.legacy.test_import_legacy import assert_every_wallet_adds_up, change_the_old_system
from wallets.models import LedgerEntry, Wallet
from wallets.services import wallet_credit

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]

COUNTS = ("read", "new", "changed", "unchanged", "refused", "gone")


def add_awkward_rows(legacy_db) -> None:
    """Rows that test the normalisation and the checks, beyond what `fill` writes."""
    legacy_db.execute(
        "INSERT INTO wallets (casdoor_id, email, name, balance) VALUES"
        " ('email_900001', ' Mixed.Case@EXAMPLE.COM ', '  Spaced  ', 0),"
        " ('email_900002', 'shared@example.com', 'First', 5.5),"
        " ('email_900003', 'shared@example.com', 'Second', 7),"
        " ('vk_900004', NULL, NULL, -3),"  # refused: negative
        " ('google_before', 'before@example.com', 'From the old system', 12.34)"
    )
    legacy_db.execute(
        "INSERT INTO payments (yookassa_payment_id, user_id, amount, status) VALUES"
        " ('p-empty-status', 'email_900002', 10, ''),"
        " ('p-zero', 'email_900002', 0, 'succeeded'),"  # refused: not positive
        " ('p-weird', 'email_900002', 10, 'weird')"  # refused: unknown status
    )
    legacy_db.execute(
        "INSERT INTO chats (id, user_casdoor_id, model, title) VALUES (9001, 'email_900001', 'openai/gpt-4o', NULL)"
    )
    legacy_db.execute(
        "INSERT INTO messages (chat_id, role, content, created_at) VALUES"
        " (9001, 'user', '    indented code', '2025-07-01T00:00:00Z'),"
        " (9001, 'assistant', 'same instant, later id', '2025-07-01T00:00:00Z'),"
        " (9001, 'tool', 'refused: unknown role', '2025-07-01T00:00:01Z')"
    )


def signed_up_here_before_the_import() -> None:
    """Someone who signed in to the new site early and topped up there."""
    user = User.objects.create_user(casdoor_id="google_before", email="new@example.com", name="New profile")
    wallet_credit(user=user, amount=Decimal("100.00"), reference="yookassa:early")


def snapshot() -> dict:
    """Everything the import writes, without ids or the import's own clock."""
    return {
        "users": sorted(
            User.objects.values_list(
                "casdoor_id", "email", "name", "avatar", "phone", "is_active", "is_staff"
            )
        ),
        "unusable passwords": all(
            not user.has_usable_password() for user in User.objects.exclude(casdoor_id="google_before")
        ),
        "wallets": sorted(Wallet.objects.values_list("user__casdoor_id", "balance", "held")),
        "entries": sorted(
            LedgerEntry.objects.values_list(
                "wallet__user__casdoor_id",
                "amount",
                "kind",
                "reference",
                "balance_after",
                "description",
                "metadata",
            )
        ),
        "payments": sorted(
            Payment.objects.values_list(
                "yookassa_payment_id",
                "user__casdoor_id",
                "amount",
                "currency",
                "status",
                "description",
                "created_at",
            )
        ),
        "provider objects": sorted(map(str, Payment.objects.values_list("provider_object", flat=True))),
        "chats": sorted(
            Chat.objects.values_list("user__casdoor_id", "model", "title", "created_at", "updated_at")
        ),
        "messages": [
            list(
                chat.messages.values_list(
                    "role", "content", "image_url", "attachment_url", "status", "created_at"
                )
            )
            for chat in Chat.objects.order_by("created_at", "title")
        ],
        "social": sorted(SocialAccount.objects.values_list("provider", "uid", "user__casdoor_id")),
        "emails": sorted(
            EmailAddress.objects.values_list("user__casdoor_id", "email", "verified", "primary")
        ),
        "sessions": sorted(LegacySession.objects.values_list("session_hash", "user__casdoor_id")),
        "imported": sorted(ImportedRow.objects.values_list("table", "legacy_key", "signature")),
    }


def run(legacy_db, *, set_based: bool) -> dict:
    source = LegacySource(legacy_db.url)
    try:
        # A small chunk so that the set-based path crosses chunk boundaries.
        report = legacy_import(source=source, set_based=set_based, chunk_size=7)
    finally:
        source.close()
    return {table.table: tuple(getattr(table, name) for name in COUNTS) for table in report.tables}


def test_the_set_based_and_row_by_row_paths_import_the_same_first_and_later(legacy_db_factory):
    first = legacy_db_factory()
    first.fill(users=40)
    add_awkward_rows(first)
    twin = legacy_db_factory(copy_of=first)
    results = {}

    for set_based, legacy_db in ((True, first), (False, twin)):
        call_command("flush", "--no-input", verbosity=0)
        signed_up_here_before_the_import()
        reports = [run(legacy_db, set_based=set_based)]
        imported = snapshot()
        change_the_old_system(legacy_db)
        reports.append(run(legacy_db, set_based=set_based))
        assert_every_wallet_adds_up()
        results[set_based] = (reports, imported, snapshot())

    assert results[True] == results[False]
    reports, imported, _ = results[True]
    # (read, new, changed, unchanged, refused, gone)
    assert reports[0]["wallets"] == (45, 44, 0, 0, 1, 0)
    assert reports[0]["payments"] == (44, 41, 0, 0, 3, 0)
    assert reports[0]["messages"] == (59, 58, 0, 0, 1, 0)
    # The person who signed up here first keeps their profile and their own top-up.
    assert ("google_before", "new@example.com", "New profile", "", "", True, False) in imported["users"]
    assert ("google_before", Decimal("112.34"), Decimal("0.00")) in imported["wallets"]
    # Normalised as the per-row path always did: the email's domain in lower case, names
    # trimmed, the message text untouched; a shared address is verified for the first only.
    assert ("email_900001", "Mixed.Case@example.com", "Spaced", "", "", True, False) in imported["users"]
    assert [row for row in imported["emails"] if row[1] == "shared@example.com"] == [
        ("email_900002", "shared@example.com", True, True),
        ("email_900003", "shared@example.com", False, True),
    ]
    chat = next(
        messages for messages in imported["messages"] if messages and messages[0][1] == "    indented code"
    )
    assert [row[1] for row in chat] == ["    indented code", "same instant, later id"]


def test_only_the_rows_the_set_step_leaves_over_go_one_by_one(legacy_db):
    legacy_db.fill(users=200)

    source = LegacySource(legacy_db.url)
    try:
        report = legacy_import(source=source)
    finally:
        source.close()

    one_by_one = {table.table: table.one_by_one for table in report.tables}
    # Only the malformed payment; everything else went through INSERT … SELECT.
    assert one_by_one == {"wallets": 0, "payments": 1, "chats": 0, "messages": 0, "user_sessions": 0}


def test_a_chunk_that_fails_together_is_retried_in_halves_and_only_the_bad_row_is_refused(legacy_db):
    legacy_db.fill(users=300)
    # Longer than our casdoor_id column: the insert of its whole chunk fails in the database.
    too_long = "vk_" + "9" * 120
    legacy_db.execute("INSERT INTO wallets (casdoor_id, balance) VALUES (%s, 1)", [too_long])

    source = LegacySource(legacy_db.url)
    try:
        report = legacy_import(source=source)
    finally:
        source.close()

    wallets = report.tables[0]
    assert (wallets.read, wallets.new, wallets.refused) == (301, 300, 1)
    assert wallets.refusals[0].key == too_long
    assert wallets.refusals[0].reason.startswith("DataError: value too long")
    assert "retried in halves" in wallets.notes[0]
    # Only the last small chunk around the bad row went one by one.
    assert wallets.one_by_one <= 64
    assert User.objects.count() == 300
    assert_every_wallet_adds_up()


def test_a_delta_with_many_new_messages_reads_them_all_at_once_and_imports_each_once(legacy_db):
    legacy_db.fill(users=30)
    run(legacy_db, set_based=True)
    # More than a quarter of the messages are new: the delta reads every row, not key by key.
    legacy_db.execute(
        "INSERT INTO messages (chat_id, role, content, created_at)"
        " SELECT c.id, 'user', 'later ' || g, '2025-09-01T00:00:00Z' FROM chats c, generate_series(1, 3) g"
    )

    reports = run(legacy_db, set_based=True)

    assert reports["messages"] == (70, 30, 0, 40, 0, 0)
    assert Message.objects.filter(content__startswith="later ").count() == 30
    assert Message.objects.count() == 70


def test_a_second_import_while_one_runs_is_refused(legacy_db):
    legacy_db.fill(users=3)
    # Another session holds the run lock, as a run in another process would.
    other = connections.create_connection("default")
    try:
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_lock(%s)", [RUN_LOCK])

        with pytest.raises(CommandError, match="another import_legacy is running"):
            call_command("import_legacy", "--source", legacy_db.url, stdout=StringIO(), stderr=StringIO())

        assert User.objects.count() == 0
    finally:
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [RUN_LOCK])
        other.close()
    # Once it is released, the import runs.
    call_command("import_legacy", "--source", legacy_db.url, stdout=StringIO(), stderr=StringIO())
    assert User.objects.count() == 3
