"""An address typed into the sign-in form and never confirmed leaves an account behind; the
hourly task removes it after ACCOUNTS_UNVERIFIED_TTL_SECONDS, and it never reaches Casdoor."""

from __future__ import annotations

from datetime import timedelta

import pytest
from allauth.account.models import EmailAddress
from django.utils import timezone

from accounts import tasks
from accounts.models import User
from tests.helpers import fund, request_code, sign_in_by_email
from wallets.models import Wallet

pytestmark = pytest.mark.django_db


def age(email: str, **delta) -> User:
    User.objects.filter(email=email).update(date_joined=timezone.now() - timedelta(**delta))
    return User.objects.get(email=email)


def test_an_unconfirmed_address_is_removed_after_a_day_and_never_reaches_casdoor(client, commit, casdoor):
    request_code(client, "typo@example.com", commit)
    user = age("typo@example.com", hours=25)
    assert not user.has_usable_password()
    assert casdoor.users == {}

    assert tasks.users_unverified_remove.delay().get() == 1

    assert not User.objects.filter(pk=user.pk).exists()
    assert not Wallet.objects.filter(user_id=user.pk).exists()
    assert not EmailAddress.objects.filter(email="typo@example.com").exists()
    assert casdoor.users == {}


def test_twenty_typed_addresses_leave_nothing_after_a_day(client_factory, commit, settings):
    settings.ACCOUNTS_UNVERIFIED_TTL_SECONDS = 60
    for n in range(20):
        request_code(client_factory(), f"spam{n}@example.com", commit)
    User.objects.update(date_joined=timezone.now() - timedelta(minutes=2))

    assert tasks.users_unverified_remove.delay().get() == 20
    assert not User.objects.exists()


def test_a_recent_one_and_confirmed_ones_stay(client_factory, commit, alice):
    request_code(client_factory(), "recent@example.com", commit)
    age("recent@example.com", hours=23)
    sign_in_by_email(client_factory(), "confirmed@example.com", commit)
    age("confirmed@example.com", days=3)
    User.objects.filter(pk=alice.pk).update(date_joined=timezone.now() - timedelta(days=3))

    assert tasks.users_unverified_remove.delay().get() == 0
    assert set(User.objects.values_list("email", flat=True)) == {
        "recent@example.com",
        "confirmed@example.com",
        "alice@example.com",
    }


def test_an_unconfirmed_account_whose_wallet_has_history_is_kept(client, commit):
    request_code(client, "paid@example.com", commit)
    user = age("paid@example.com", days=2)
    fund(user, "10.00")

    assert tasks.users_unverified_remove.delay().get() == 0
    assert User.objects.filter(pk=user.pk).exists()


def test_the_sign_in_form_is_rate_limited_by_allauth_with_our_page(client_factory, commit, settings):
    settings.ACCOUNT_RATE_LIMITS = {"signup": "2/m/ip"}
    answers = [request_code(client_factory(), f"new{n}@example.com", commit).status_code for n in range(3)]

    assert answers == [302, 302, 429]
    refused = request_code(client_factory(), "new9@example.com", commit)
    assert "Подождите немного и повторите." in refused.content.decode()
    assert User.objects.count() == 2
