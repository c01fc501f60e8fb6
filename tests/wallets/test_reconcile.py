from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from tests.helpers import run_python
from wallets.models import Hold, Wallet
from wallets.services import hold_place, hold_settle, wallet_credit
from wallets.tasks import balances_reconcile, holds_expire

pytestmark = pytest.mark.django_db


def reconcile(*args: str) -> tuple[int, str]:
    out = StringIO()
    try:
        call_command("reconcile_balances", *args, stdout=out, stderr=out)
    except CommandError as error:
        return error.returncode, out.getvalue() + str(error)
    return 0, out.getvalue()


def sql(statement: str, *params) -> None:
    with connection.cursor() as cursor:
        cursor.execute(statement, params)


@pytest.fixture
def activity(alice, bob):
    wallet_credit(user=alice, amount=Decimal("100"), reference="yookassa:1")
    hold_place(user=alice, amount=Decimal("20"), reference="msg:1")
    hold_settle(reference="msg:1", amount=Decimal("3.21"))
    hold_place(user=alice, amount=Decimal("10"), reference="msg:2")
    wallet_credit(user=bob, amount=Decimal("5"), reference="yookassa:2")


def test_a_clean_database_reconciles_with_exit_code_0(activity):
    code, output = reconcile("--skip-casdoor")
    assert code == 0
    assert "2 wallets checked, no mismatches" in output


def test_a_balance_tampered_with_in_sql_is_reported_and_the_command_fails(activity, alice):
    sql("UPDATE wallets_wallet SET balance = balance + 1000 WHERE user_id = %s", alice.pk)

    code, output = reconcile("--skip-casdoor")

    assert code == 1
    assert "email_alice  balance = sum(entries)  96.79" in output
    assert "1096.79" in output
    assert "1 mismatches in 2 wallets" in output
    sql("UPDATE wallets_wallet SET balance = balance - 1000 WHERE user_id = %s", alice.pk)


def test_held_money_that_no_open_hold_explains_is_reported(activity, bob):
    sql("UPDATE wallets_wallet SET held = 5 WHERE user_id = %s", bob.pk)
    code, output = reconcile("--skip-casdoor")
    assert code == 1
    assert "email_bob" in output
    assert "held = sum(open holds)" in output
    sql("UPDATE wallets_wallet SET held = 0 WHERE user_id = %s", bob.pk)


def test_an_open_hold_past_its_deadline_is_reported_until_the_sweep_releases_it(activity, alice):
    Hold.objects.filter(reference="msg:2").update(expires_at="2000-01-01T00:00:00Z")
    code, output = reconcile("--skip-casdoor")
    assert code == 1
    assert "open holds past expiry" in output

    assert holds_expire.apply().get() == 1
    assert reconcile("--skip-casdoor")[0] == 0
    assert Wallet.objects.get(pk=alice.pk).held == 0


def test_casdoor_showing_another_balance_is_reported_and_push_casdoor_fixes_it(activity, casdoor):
    casdoor.users[("built-in", "email_alice")]["balance"] = 1.0
    casdoor.users[("built-in", "email_bob")]["balance"] = 5.0

    code, output = reconcile()
    assert code == 1
    assert "Casdoor balance" in output
    assert "email_alice" in output
    assert "email_bob" not in output

    code, output = reconcile("--push-casdoor")
    assert code == 0
    assert "Pushed 2 of 2 balances to Casdoor." in output
    assert casdoor.users[("built-in", "email_alice")]["balance"] == 96.79


def test_an_unreachable_casdoor_is_noted_and_does_not_fail_the_check(activity, settings):
    settings.CASDOOR_INTERNAL_URL = "http://127.0.0.1:9"
    settings.CASDOOR_CLIENT_ID, settings.CASDOOR_CLIENT_SECRET = "id", "secret"
    code, output = reconcile()
    assert code == 0
    assert "Casdoor not compared: Casdoor is unreachable" in output


def test_the_daily_task_counts_and_logs_mismatches(activity, alice, caplog):
    assert balances_reconcile.apply().get() == 0
    sql("UPDATE wallets_wallet SET balance = 0, held = 0 WHERE user_id = %s", alice.pk)
    assert balances_reconcile.apply().get() == 2
    assert "Wallet mismatch" in caplog.text
    sql("UPDATE wallets_wallet SET balance = 96.79, held = 10 WHERE user_id = %s", alice.pk)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_command_exits_non_zero_from_the_shell_when_a_wallet_is_off(activity, alice):
    db = connection.settings_dict
    url = f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
    clean = run_python("manage.py", "reconcile_balances", "--skip-casdoor", DATABASE_URL=url)
    assert clean.returncode == 0, clean.stdout + clean.stderr
    sql("UPDATE wallets_wallet SET balance = balance + 1 WHERE user_id = %s", alice.pk)
    result = run_python("manage.py", "reconcile_balances", "--skip-casdoor", DATABASE_URL=url)
    assert result.returncode == 1, result.stderr
    assert "balance = sum(entries)" in result.stdout
    sql("UPDATE wallets_wallet SET balance = balance - 1 WHERE user_id = %s", alice.pk)


def test_beat_runs_the_hold_expiry_and_the_daily_reconciliation(settings):
    from config.celery import app

    scheduled = {entry["task"]: entry["schedule"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert scheduled["wallets.tasks.holds_expire"] <= 600
    assert scheduled["wallets.tasks.balances_reconcile"] == 24 * 3600
    app.loader.import_default_modules()
    assert {"wallets.tasks.holds_expire", "wallets.tasks.balances_reconcile"} <= set(app.tasks)
