from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from tests.helpers import in_threads, wallet_of
from wallets.models import Hold, LedgerEntry
from wallets.services import (
    InsufficientFunds,
    ReferenceConflict,
    hold_place,
    hold_release,
    hold_settle,
    holds_expire,
    round_up_to_kopeck,
    wallet_adjust,
    wallet_credit,
    wallet_debit,
)

pytestmark = pytest.mark.django_db


# Credit and debit ---------------------------------------------------------------------------------
def test_every_new_user_has_an_empty_wallet(alice):
    wallet = wallet_of(alice)
    assert (wallet.balance, wallet.held, wallet.available) == (0, 0, 0)


def test_a_credit_adds_money_and_records_the_balance_after(alice):
    entry = wallet_credit(user=alice, amount=Decimal("150.50"), reference="yookassa:1")
    assert wallet_of(alice).balance == Decimal("150.50")
    assert (entry.amount, entry.kind, entry.balance_after) == (Decimal("150.50"), "topup", Decimal("150.50"))


def test_crediting_the_same_reference_twice_credits_once_and_returns_the_first_entry(alice):
    first = wallet_credit(user=alice, amount=Decimal("100"), reference="yookassa:1")
    second = wallet_credit(user=alice, amount=Decimal("100"), reference="yookassa:1")
    assert second.pk == first.pk
    assert wallet_of(alice).balance == Decimal("100")
    assert LedgerEntry.objects.count() == 1


def test_debiting_the_same_reference_twice_debits_once(funded):
    first = wallet_debit(user=funded, amount=Decimal("30"), reference="msg:1")
    second = wallet_debit(user=funded, amount=Decimal("30"), reference="msg:1")
    assert second.pk == first.pk
    assert wallet_of(funded).balance == Decimal("70")
    assert first.amount == Decimal("-30")


def test_a_replayed_debit_returns_the_first_entry_even_when_the_money_is_gone_since(funded):
    first = wallet_debit(user=funded, amount=Decimal("60"), reference="msg:1")
    wallet_debit(user=funded, amount=Decimal("40"), reference="msg:2")
    assert wallet_debit(user=funded, amount=Decimal("60"), reference="msg:1").pk == first.pk
    assert wallet_of(funded).balance == 0


def test_a_debit_larger_than_the_balance_fails_and_changes_nothing(funded):
    with pytest.raises(InsufficientFunds):
        wallet_debit(user=funded, amount=Decimal("100.01"), reference="msg:1")
    assert wallet_of(funded).balance == Decimal("100")
    assert not LedgerEntry.objects.filter(reference="msg:1").exists()


def test_a_debit_cannot_spend_money_reserved_by_an_open_hold(funded):
    hold_place(user=funded, amount=Decimal("80"), reference="hold:1")
    with pytest.raises(InsufficientFunds):
        wallet_debit(user=funded, amount=Decimal("30"), reference="msg:1")
    wallet_debit(user=funded, amount=Decimal("20"), reference="msg:2")
    wallet = wallet_of(funded)
    assert (wallet.balance, wallet.held, wallet.available) == (Decimal("80"), Decimal("80"), 0)


def test_a_reference_already_used_by_another_wallet_is_refused_and_changes_nothing(alice, bob):
    wallet_credit(user=alice, amount=Decimal("100"), reference="yookassa:1")
    with pytest.raises(ReferenceConflict):
        wallet_credit(user=bob, amount=Decimal("100"), reference="yookassa:1")
    assert wallet_of(bob).balance == 0
    assert wallet_of(alice).balance == Decimal("100")


def test_a_reference_reused_with_another_amount_is_refused(alice):
    wallet_credit(user=alice, amount=Decimal("100"), reference="yookassa:1")
    with pytest.raises(ReferenceConflict):
        wallet_credit(user=alice, amount=Decimal("500"), reference="yookassa:1")
    assert wallet_of(alice).balance == Decimal("100")


@pytest.mark.parametrize("amount", [Decimal("0"), Decimal("-5"), Decimal("1.001")])
def test_amounts_must_be_a_positive_number_of_kopecks(alice, amount):
    with pytest.raises(ValueError):
        wallet_credit(user=alice, amount=amount, reference="bad")
    assert not LedgerEntry.objects.exists()


def test_floats_are_refused_as_money(alice):
    with pytest.raises(TypeError):
        wallet_credit(user=alice, amount=0.1, reference="bad")
    with pytest.raises(TypeError):
        round_up_to_kopeck(0.1)


def test_charges_round_up_to_the_kopeck():
    assert round_up_to_kopeck(Decimal("0.0001")) == Decimal("0.01")
    assert round_up_to_kopeck(Decimal("1.50")) == Decimal("1.50")
    assert round_up_to_kopeck(Decimal("1.501")) == Decimal("1.51")


# Holds ----------------------------------------------------------------------------------------------
def test_a_hold_reserves_money_without_spending_it(funded):
    hold = hold_place(user=funded, amount=Decimal("40"), reference="msg:1")
    wallet = wallet_of(funded)
    assert (wallet.balance, wallet.held, wallet.available) == (Decimal("100"), Decimal("40"), Decimal("60"))
    assert hold.status == Hold.Status.OPEN
    assert hold.expires_at > hold.created_at


def test_placing_the_same_hold_twice_reserves_once_and_returns_the_first_hold(funded):
    first = hold_place(user=funded, amount=Decimal("40"), reference="msg:1")
    second = hold_place(user=funded, amount=Decimal("40"), reference="msg:1")
    assert second.pk == first.pk
    assert wallet_of(funded).held == Decimal("40")


def test_replaying_a_hold_that_took_the_last_money_returns_it_instead_of_failing(funded):
    first = hold_place(user=funded, amount=Decimal("100"), reference="msg:1")
    assert hold_place(user=funded, amount=Decimal("100"), reference="msg:1").pk == first.pk


def test_a_hold_larger_than_the_available_balance_fails_and_changes_nothing(funded):
    hold_place(user=funded, amount=Decimal("70"), reference="msg:1")
    with pytest.raises(InsufficientFunds):
        hold_place(user=funded, amount=Decimal("30.01"), reference="msg:2")
    assert wallet_of(funded).held == Decimal("70")
    assert not Hold.objects.filter(reference="msg:2").exists()


def test_a_hold_reference_used_on_another_wallet_is_refused(funded, bob):
    wallet_credit(user=bob, amount=Decimal("100"), reference="test:bob")
    hold_place(user=funded, amount=Decimal("10"), reference="msg:1")
    with pytest.raises(ReferenceConflict):
        hold_place(user=bob, amount=Decimal("10"), reference="msg:1")
    assert wallet_of(bob).held == 0


def test_settling_charges_the_actual_cost_rounded_up_and_releases_the_rest(funded):
    hold_place(user=funded, amount=Decimal("40"), reference="msg:1", metadata={"chat_id": 7})
    hold = hold_settle(reference="msg:1", amount=Decimal("12.3401"), metadata={"model": "openai/gpt-4o"})
    wallet = wallet_of(funded)
    assert (wallet.balance, wallet.held) == (Decimal("87.65"), 0)
    assert (hold.status, hold.charged) == (Hold.Status.SETTLED, Decimal("12.35"))
    assert hold.entry.amount == Decimal("-12.35")
    assert hold.entry.reference == "msg:1"
    assert hold.entry.metadata == {"chat_id": 7, "model": "openai/gpt-4o"}


def test_settling_never_charges_more_than_the_hold(funded):
    hold_place(user=funded, amount=Decimal("10"), reference="msg:1")
    hold = hold_settle(reference="msg:1", amount=Decimal("55"))
    assert hold.charged == Decimal("10")
    assert wallet_of(funded).balance == Decimal("90")


def test_settling_twice_charges_once(funded):
    hold_place(user=funded, amount=Decimal("10"), reference="msg:1")
    first = hold_settle(reference="msg:1", amount=Decimal("4"))
    second = hold_settle(reference="msg:1", amount=Decimal("9"))
    assert (second.charged, second.entry_id) == (first.charged, first.entry_id)
    assert wallet_of(funded).balance == Decimal("96")
    assert LedgerEntry.objects.filter(reference="msg:1").count() == 1


def test_a_zero_cost_settles_without_an_entry(funded):
    hold_place(user=funded, amount=Decimal("10"), reference="msg:1")
    hold = hold_settle(reference="msg:1", amount=Decimal("0"))
    assert (hold.status, hold.charged, hold.entry) == (Hold.Status.SETTLED, 0, None)
    assert wallet_of(funded).balance == Decimal("100")


def test_releasing_gives_the_whole_hold_back_and_is_idempotent(funded):
    hold_place(user=funded, amount=Decimal("10"), reference="msg:1")
    hold_release(reference="msg:1")
    hold = hold_release(reference="msg:1")
    assert (hold.status, hold.charged) == (Hold.Status.RELEASED, 0)
    wallet = wallet_of(funded)
    assert (wallet.balance, wallet.held) == (Decimal("100"), 0)


def test_a_settle_after_a_release_charges_nothing_and_a_release_after_a_settle_gives_nothing_back(funded):
    hold_place(user=funded, amount=Decimal("10"), reference="msg:1")
    hold_release(reference="msg:1")
    assert hold_settle(reference="msg:1", amount=Decimal("5")).status == Hold.Status.RELEASED
    hold_place(user=funded, amount=Decimal("10"), reference="msg:2")
    hold_settle(reference="msg:2", amount=Decimal("5"))
    assert hold_release(reference="msg:2").status == Hold.Status.SETTLED
    assert wallet_of(funded).balance == Decimal("95")


def test_expiry_releases_only_holds_past_their_deadline_and_counts_them(funded):
    hold_place(user=funded, amount=Decimal("10"), reference="msg:old", ttl=timedelta(minutes=5))
    hold_place(user=funded, amount=Decimal("20"), reference="msg:new", ttl=timedelta(hours=2))
    hold_place(user=funded, amount=Decimal("5"), reference="msg:done", ttl=timedelta(minutes=5))
    hold_settle(reference="msg:done", amount=Decimal("5"))
    later = timezone.now() + timedelta(hours=1)
    assert holds_expire(now=later) == 1
    assert holds_expire(now=later) == 0
    assert Hold.objects.get(reference="msg:old").status == Hold.Status.RELEASED
    assert Hold.objects.get(reference="msg:new").status == Hold.Status.OPEN
    wallet = wallet_of(funded)
    assert (wallet.balance, wallet.held) == (Decimal("95"), Decimal("20"))


# Staff adjustments ------------------------------------------------------------------------------
def test_an_adjustment_records_the_reason_and_the_staff_member(alice, make_user):
    staff = make_user("email_staff", is_staff=True)
    entry = wallet_adjust(
        user=alice, amount=Decimal("25"), reason="Компенсация", staff=staff, reference="adj:1"
    )
    assert (entry.kind, entry.amount, entry.description, entry.created_by) == (
        "adjustment",
        Decimal("25"),
        "Компенсация",
        staff,
    )
    taken = wallet_adjust(user=alice, amount=Decimal("-5"), reason="Ошибка", staff=staff, reference="adj:2")
    assert taken.amount == Decimal("-5")
    assert wallet_of(alice).balance == Decimal("20")


def test_a_negative_adjustment_cannot_take_reserved_or_missing_money(funded, make_user):
    staff = make_user("email_staff", is_staff=True)
    hold_place(user=funded, amount=Decimal("60"), reference="msg:1")
    with pytest.raises(InsufficientFunds):
        wallet_adjust(user=funded, amount=Decimal("-41"), reason="x", staff=staff, reference="adj:1")
    assert wallet_of(funded).balance == Decimal("100")


def test_an_adjustment_needs_a_reason(alice, make_user):
    staff = make_user("email_staff", is_staff=True)
    with pytest.raises(ValueError):
        wallet_adjust(user=alice, amount=Decimal("5"), reason="  ", staff=staff, reference="adj:1")
    assert not LedgerEntry.objects.exists()


# The database enforces the invariants even against raw SQL ------------------------------------------
def _raw(sql: str, *params) -> None:
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)


ENTRY = (
    "INSERT INTO wallets_ledgerentry (wallet_id, amount, kind, reference, balance_after, description,"
    " metadata, created_at) VALUES (%s, {amount}, '{kind}', '{reference}', {after}, '', '{{}}', CURRENT_TIMESTAMP)"
)


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE wallets_wallet SET balance = -1 WHERE user_id = %s",
        "UPDATE wallets_wallet SET held = balance + 1 WHERE user_id = %s",
        "UPDATE wallets_wallet SET held = -1 WHERE user_id = %s",
        ENTRY.format(amount=0, kind="adjustment", reference="raw:1", after=100),
        ENTRY.format(amount=-5, kind="adjustment", reference="raw:1", after=-5),
        ENTRY.format(amount=-5, kind="topup", reference="raw:1", after=95),
        ENTRY.format(amount=-5, kind="bonus", reference="raw:1", after=95),
        ENTRY.format(amount=5, kind="charge", reference="raw:1", after=105),
        ENTRY.format(amount=5, kind="topup", reference="msg:1", after=105),  # a reference taken
        "UPDATE wallets_hold SET charged = amount + 1 WHERE wallet_id = %s AND status = 'settled'",
        "UPDATE wallets_hold SET amount = 0 WHERE wallet_id = %s",
        "UPDATE wallets_hold SET status = 'open' WHERE wallet_id = %s AND status = 'settled'",
        "UPDATE wallets_hold SET closed_at = NULL WHERE wallet_id = %s AND status = 'settled'",
        "UPDATE wallets_hold SET status = 'released' WHERE wallet_id = %s AND entry_id IS NOT NULL",
    ],
)
def test_the_database_refuses_rows_that_break_the_invariants(funded, sql):
    hold_place(user=funded, amount=Decimal("10"), reference="msg:1")
    hold_settle(reference="msg:1", amount=Decimal("4"))
    hold_place(user=funded, amount=Decimal("10"), reference="msg:2")
    with pytest.raises(IntegrityError):
        _raw(sql, funded.pk)


@pytest.mark.postgres
@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE wallets_ledgerentry SET amount = amount + 1000 WHERE wallet_id = %s",
        "UPDATE wallets_ledgerentry SET description = 'edited' WHERE wallet_id = %s",
        "DELETE FROM wallets_ledgerentry WHERE wallet_id = %s AND kind = 'charge'",
    ],
)
def test_ledger_entries_cannot_be_edited_or_deleted_even_in_sql(funded, sql):
    wallet_debit(user=funded, amount=Decimal("4"), reference="msg:1")
    with pytest.raises(IntegrityError, match="append-only"):
        _raw(sql, funded.pk)
    assert LedgerEntry.objects.filter(wallet_id=funded.pk).count() == 2


# Concurrency (PostgreSQL: real row locks and parallel transactions) --------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_parallel_holds_from_20_threads_on_a_wallet_that_can_afford_5_exactly_5_succeed(alice):
    wallet_credit(user=alice, amount=Decimal("50"), reference="test:seed")

    results = in_threads(20, lambda i: hold_place(user=alice.pk, amount=Decimal("10"), reference=f"msg:{i}"))

    holds = [r for r in results if isinstance(r, Hold)]
    refused = [r for r in results if isinstance(r, InsufficientFunds)]
    assert (len(holds), len(refused)) == (5, 15)
    wallet = wallet_of(alice)
    assert (wallet.balance, wallet.held) == (Decimal("50"), Decimal("50"))
    assert Hold.objects.filter(status=Hold.Status.OPEN).count() == 5


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_30_threads_crediting_the_same_reference_write_one_entry(alice):
    results = in_threads(
        30, lambda i: wallet_credit(user=alice.pk, amount=Decimal("500"), reference="yookassa:dup")
    )

    assert {r.pk for r in results if isinstance(r, LedgerEntry)} == {LedgerEntry.objects.get().pk}
    assert [r for r in results if isinstance(r, Exception)] == []
    assert wallet_of(alice).balance == Decimal("500")


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_same_hold_placed_from_20_threads_reserves_once(alice):
    wallet_credit(user=alice, amount=Decimal("50"), reference="test:seed")

    results = in_threads(20, lambda i: hold_place(user=alice.pk, amount=Decimal("30"), reference="msg:dup"))

    assert {r.pk for r in results} == {Hold.objects.get().pk}
    assert wallet_of(alice).held == Decimal("30")


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_settles_releases_and_expiry_racing_on_one_hold_close_it_exactly_once(alice):
    wallet_credit(user=alice, amount=Decimal("50"), reference="test:seed")
    hold_place(user=alice.pk, amount=Decimal("30"), reference="msg:1", ttl=timedelta(seconds=-1))

    def close(i: int):
        if i % 3 == 0:
            return hold_settle(reference="msg:1", amount=Decimal("12"))
        if i % 3 == 1:
            return hold_release(reference="msg:1")
        return holds_expire()

    results = in_threads(15, close)

    assert [r for r in results if isinstance(r, Exception)] == []
    hold = Hold.objects.get(reference="msg:1")
    wallet = wallet_of(alice)
    assert wallet.held == 0
    assert wallet.balance == Decimal("50") - hold.charged
    assert LedgerEntry.objects.filter(reference="msg:1").count() == (1 if hold.charged else 0)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_debits_holds_and_settles_racing_never_overspend(alice):
    wallet_credit(user=alice, amount=Decimal("100"), reference="test:seed")

    def spend(i: int):
        if i % 2:
            return wallet_debit(user=alice.pk, amount=Decimal("15"), reference=f"debit:{i}")
        hold_place(user=alice.pk, amount=Decimal("15"), reference=f"msg:{i}")
        return hold_settle(reference=f"msg:{i}", amount=Decimal("15"))

    results = in_threads(20, spend)

    succeeded = [r for r in results if not isinstance(r, Exception)]
    assert all(isinstance(r, InsufficientFunds) for r in results if isinstance(r, Exception))
    assert len(succeeded) == 6
    wallet = wallet_of(alice)
    assert (wallet.balance, wallet.held) == (Decimal("10"), 0)
