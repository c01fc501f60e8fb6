"""The admin's password sign-in is locked after AXES_FAILURE_LIMIT failures, by account and by
address separately (django-axes): 429 with Retry-After, even for the right password."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db

LOGIN = "/admin/login/?next=/admin/"


@pytest.fixture
def staff(make_user):
    user = make_user("email_staff", email="staff@example.com", is_staff=True, is_superuser=True)
    user.set_password("right-password")
    user.save()
    return user


@pytest.fixture
def other_staff(make_user):
    user = make_user("email_other", email="other@example.com", is_staff=True)
    user.set_password("other-password")
    user.save()
    return user


def sign_in(client, username: str, password: str, address: str = "203.0.113.5", **extra):
    return client.post(LOGIN, {"username": username, "password": password}, REMOTE_ADDR=address, **extra)


def test_the_right_password_signs_in(client, staff):
    assert sign_in(client, "email_staff", "right-password").status_code == 302


def test_an_account_is_locked_after_the_limit_even_from_new_addresses(client_factory, staff, settings):
    # The failure that reaches the limit is itself answered with the lockout.
    answers = [
        sign_in(client_factory(), "email_staff", "wrong", address=f"203.0.113.{attempt + 10}").status_code
        for attempt in range(settings.AXES_FAILURE_LIMIT)
    ]
    assert answers == [200] * (settings.AXES_FAILURE_LIMIT - 1) + [429]

    locked = sign_in(client_factory(), "email_staff", "right-password", address="198.51.100.7")

    assert locked.status_code == 429
    assert locked["Retry-After"] == str(int(settings.AXES_COOLOFF_TIME.total_seconds()))
    assert "Вход временно заблокирован" in locked.content.decode()
    assert "_auth_user_id" not in locked.wsgi_request.session


def test_an_address_is_locked_after_the_limit_whatever_account_it_tries(
    client_factory, staff, other_staff, settings
):
    for attempt in range(settings.AXES_FAILURE_LIMIT):
        sign_in(client_factory(), f"nobody{attempt}", "wrong")

    assert sign_in(client_factory(), "email_other", "other-password").status_code == 429
    # Another address still signs the other account in.
    assert (
        sign_in(client_factory(), "email_other", "other-password", address="198.51.100.7").status_code == 302
    )


def test_the_address_is_the_one_our_proxy_saw(client_factory, staff, other_staff, settings):
    settings.TRUSTED_PROXIES = ["10.0.0.0/8"]
    for attempt in range(settings.AXES_FAILURE_LIMIT):
        sign_in(
            client_factory(),
            f"nobody{attempt}",
            "wrong",
            address="10.0.0.2",
            HTTP_X_FORWARDED_FOR="203.0.113.9",
        )

    behind_the_same_proxy = sign_in(
        client_factory(),
        "email_other",
        "other-password",
        address="10.0.0.2",
        HTTP_X_FORWARDED_FOR="203.0.113.77",
    )
    attacker = sign_in(
        client_factory(),
        "email_other",
        "other-password",
        address="10.0.0.2",
        HTTP_X_FORWARDED_FOR="203.0.113.9",
    )

    assert behind_the_same_proxy.status_code == 302
    assert attacker.status_code == 429
