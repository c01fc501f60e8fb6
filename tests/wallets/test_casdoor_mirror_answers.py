"""The balance mirror into Casdoor when Casdoor answers badly (a page under HTTP 200, a 500, no
answer in time, data that is not the user): money is never touched, the push is retried with
backoff, lands once Casdoor answers properly, and gives up quietly (logged) if it never does."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.helpers import balance, ledger_mismatches
from wallets.services import wallet_credit
from wallets.tasks import balance_push

pytestmark = pytest.mark.django_db

ANSWERS = ["html", "error", "hang", "not-a-user"]


@pytest.mark.parametrize("answer", ANSWERS)
def test_a_bad_answer_is_retried_and_the_balance_lands_when_casdoor_recovers(
    alice, casdoor, commit, settings, answer
):
    settings.CASDOOR_TIMEOUT = 0.3
    casdoor.answer = answer
    pushes = []

    def recover(request) -> None:
        pushes.append(request)
        if len(pushes) == 3:
            casdoor.answer = None

    casdoor.on_request = recover
    with commit(execute=True):
        wallet_credit(user=alice, amount=Decimal("100.00"), reference="yookassa:1")

    assert balance(alice) == Decimal("100.00")
    assert casdoor.users[("built-in", "email_alice")]["balance"] == 100.0
    assert ledger_mismatches() == []


@pytest.mark.parametrize("answer", ANSWERS)
def test_a_casdoor_that_never_answers_well_is_given_up_without_touching_money(
    alice, casdoor, settings, caplog, answer
):
    settings.CASDOOR_TIMEOUT = 0.2
    wallet_credit(user=alice, amount=Decimal("100.00"), reference="yookassa:1")
    casdoor.answer = answer

    result = balance_push.apply(args=[alice.pk])

    assert result.successful()
    assert result.result is None
    assert "gave up" in caplog.text
    assert balance(alice) == Decimal("100.00")
    assert "balance" not in casdoor.users[("built-in", "email_alice")]
