from decimal import Decimal

import pytest
from django.conf import settings as django_settings

from config.celery import app as celery_app
from tests.fakes.casdoor import CasdoorHandler
from tests.helpers import wait_until
from wallets.models import Wallet
from wallets.services import hold_place, hold_settle, wallet_credit, wallet_debit
from wallets.tasks import balance_push

pytestmark = pytest.mark.django_db


class CasdoorWithoutBalance(CasdoorHandler):
    """A Casdoor from before the `balance` column: it refuses the column by name."""

    def _update_user(self, body: dict) -> None:
        if "balance" in self.query.get("columns", [""])[0].split(","):
            self.send_json({"status": "error", "msg": "Unknown column 'balance' in 'field list'"})
            return
        super()._update_user(body)


def updates(casdoor) -> list:
    return casdoor.requests_to("/api/update-user", "POST")


def test_a_committed_credit_writes_the_balance_to_casdoor_naming_only_that_column(alice, casdoor, commit):
    with commit(execute=True):
        wallet_credit(user=alice, amount=Decimal("150.50"), reference="yookassa:1")

    [update] = updates(casdoor)
    assert update.query == {"id": ["built-in/email_alice"], "columns": ["balance"]}
    assert update.json()["balance"] == 150.5
    assert casdoor.users[("built-in", "email_alice")]["balance"] == 150.5


def test_a_settled_charge_updates_casdoor_too(alice, casdoor, commit):
    with commit(execute=True):
        wallet_credit(user=alice, amount=Decimal("100"), reference="yookassa:1")
    with commit(execute=True):
        hold_place(user=alice, amount=Decimal("10"), reference="msg:1")
        hold_settle(reference="msg:1", amount=Decimal("2.5"))
    assert casdoor.users[("built-in", "email_alice")]["balance"] == 97.5


def test_a_casdoor_without_a_balance_column_gets_the_score_in_whole_roubles_rounded_down(
    alice, fake_server, settings, casdoor, commit
):
    old = fake_server(CasdoorWithoutBalance)
    old.users, old.down = dict(casdoor.users), 0
    settings.CASDOOR_INTERNAL_URL = old.url

    with commit(execute=True):
        wallet_credit(user=alice, amount=Decimal("150.99"), reference="yookassa:1")

    user = old.users[("built-in", "email_alice")]
    assert (user["score"], "balance" in user) == (150, False)
    assert [r.query["columns"] for r in updates(old)] == [["balance"], ["score"]]


def test_casdoor_being_down_does_not_fail_the_credit_and_the_push_is_retried(alice, casdoor, commit):
    casdoor.down = 3
    with commit(execute=True):
        entry = wallet_credit(user=alice, amount=Decimal("100"), reference="yookassa:1")

    assert entry.balance_after == Decimal("100")
    assert Wallet.objects.get(pk=alice.pk).balance == Decimal("100")
    # Tasks run inline in tests: the retries happened, and the last one got through.
    assert casdoor.users[("built-in", "email_alice")]["balance"] == 100.0


def test_an_unreachable_casdoor_never_fails_a_payment_or_a_charge(funded, settings, commit):
    settings.CASDOOR_INTERNAL_URL = "http://127.0.0.1:9"  # the discard port: connection refused
    settings.CASDOOR_CLIENT_ID, settings.CASDOOR_CLIENT_SECRET = "id", "secret"
    with commit(execute=True):
        wallet_credit(user=funded, amount=Decimal("50"), reference="yookassa:2")
        wallet_debit(user=funded, amount=Decimal("30"), reference="msg:1")
    assert Wallet.objects.get(pk=funded.pk).balance == Decimal("120")


def test_a_stale_push_writes_the_balance_of_when_it_runs_not_of_when_it_was_queued(alice, casdoor, commit):
    with commit(execute=False) as first:
        wallet_credit(user=alice, amount=Decimal("100"), reference="yookassa:1")
    wallet_credit(user=alice, amount=Decimal("25"), reference="yookassa:2")

    for callback in first:  # the first change's push runs only now, after the second change
        callback()

    assert casdoor.users[("built-in", "email_alice")]["balance"] == 125.0


def test_the_push_task_writes_only_the_users_own_balance(alice, bob, casdoor):
    wallet_credit(user=alice, amount=Decimal("100"), reference="yookassa:1")
    balance_push.apply(args=[bob.pk])
    assert casdoor.users[("built-in", "email_bob")]["balance"] == 0
    assert "balance" not in casdoor.users[("built-in", "email_alice")]


def test_without_casdoor_configured_nothing_is_queued_or_sent(alice, settings, commit):
    settings.CASDOOR_INTERNAL_URL = ""
    with commit(execute=True):
        wallet_credit(user=alice, amount=Decimal("100"), reference="yookassa:1")
    assert balance_push.apply(args=[alice.pk]).get() is None


@pytest.mark.skipif(not django_settings.REDIS_URL, reason="needs Redis as the Celery broker")
@pytest.mark.django_db(transaction=True)
def test_a_burst_of_changes_reaches_casdoor_as_few_pushes_of_the_final_balance(alice, casdoor, settings):
    from celery.contrib.testing.worker import start_worker

    settings.WALLET_CASDOOR_PUSH_DELAY_SECONDS = 1
    celery_app.conf.task_always_eager = False
    try:
        with start_worker(celery_app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
            for i in range(20):
                wallet_credit(user=alice, amount=Decimal("10"), reference=f"yookassa:{i}")
            wait_until(
                lambda: casdoor.users[("built-in", "email_alice")].get("balance") == 200.0,
                timeout=30,
                message="the push never reached Casdoor",
            )
    finally:
        celery_app.conf.task_always_eager = True
    assert 1 <= len(updates(casdoor)) < 20
