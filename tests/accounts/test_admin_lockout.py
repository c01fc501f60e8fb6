"""The admin lockout holds (issue 14). Admin takes no password: staff sign in with the site's
emailed code (allauth's secure_admin_login), so guessing is limited where that sign-in is:

- by account, a code dies after ACCOUNT_LOGIN_BY_CODE_MAX_ATTEMPTS (3) wrong tries;
- by address, code requests past allauth's per-IP limit mail no code (a sign-up past its limit
  gets 429 with our page: tests/accounts/test_unverified_users.py), counted per client as our
  proxy saw it (config.net.client_ip via the account adapter), not per Caddy, and not per a
  forged X-Forwarded-For.
"""

from __future__ import annotations

from urllib.parse import urlencode

import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth import SESSION_KEY
from django.core import mail
from django.urls import reverse

from tests.helpers import code_from_outbox, request_code, sign_in_by_email

pytestmark = pytest.mark.django_db

ADMIN_LOGIN = "/admin/login/?next=/admin/"
SITE_SIGN_IN = f"{reverse('account_login')}?{urlencode({'next': '/admin/'})}"
WRONG_CODES_ALLOWED = 3
# allauth's own words (its Russian catalogue) for a request past its limit.
TOO_MANY = "Слишком много неудачных попыток входа в систему."


@pytest.fixture
def staff(make_user):
    user = make_user("email_staff", email="staff@example.com", is_staff=True, is_superuser=True)
    user.set_password("right-password")
    user.save()
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    return user


def post_password(client, password: str):
    return client.post(
        ADMIN_LOGIN, {"username": "email_staff", "email": "staff@example.com", "password": password}
    )


# No password path --------------------------------------------------------------------------------
def test_admin_takes_no_password_and_forty_wrong_ones_cost_nothing(client, commit, staff):
    right = post_password(client, "right-password")

    assert right.status_code == 302
    assert right["Location"] == SITE_SIGN_IN
    assert SESSION_KEY not in client.session
    assert client.get("/admin/", follow=True).redirect_chain[-1][0] == SITE_SIGN_IN

    wrong = [post_password(client, f"guess{n}").status_code for n in range(40)]
    assert wrong == [302] * 40

    # Nothing was counted against the account or the address: the site's sign-in still lets the
    # staff member in, from that same address, and admin opens.
    assert sign_in_by_email(client, "staff@example.com", commit)["Location"] == "/profile/"
    assert client.session[SESSION_KEY] == str(staff.pk)
    assert client.get("/admin/").status_code == 200


# By account ---------------------------------------------------------------------------------------
def test_a_staff_code_dies_after_three_wrong_tries_and_the_right_one_then_opens_nothing(
    client, commit, staff
):
    login_page = client.get(ADMIN_LOGIN)["Location"]
    assert login_page == SITE_SIGN_IN
    confirm_url = request_code(client, staff.email, commit)["Location"]
    assert confirm_url == reverse("account_confirm_login_code")
    code = code_from_outbox(staff.email)

    answers = [client.post(confirm_url, {"code": "WRONG1"}) for _ in range(WRONG_CODES_ALLOWED)]

    # The first tries are shown the form again; the last one ends the attempt.
    assert [answer.status_code for answer in answers] == [200] * (WRONG_CODES_ALLOWED - 1) + [302]
    late = client.post(confirm_url, {"code": code})
    assert late.status_code == 302
    assert late["Location"] not in ("/profile/", "/admin/")
    assert SESSION_KEY not in client.session
    assert client.get("/admin/").status_code == 302


# By address ---------------------------------------------------------------------------------------
def code_mailed(client_factory, commit, email: str, peer: str, forwarded_for: str | None = None) -> bool:
    """Asks for a sign-in code from a fresh browser; True when one was mailed. Past allauth's
    per-IP budget a known address gets the form back with allauth's "too many attempts" error
    (an unknown one, signing up, gets 429 with our page: test_unverified_users.py)."""
    extra = {"REMOTE_ADDR": peer}
    if forwarded_for is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded_for
    sent = len(mail.outbox)
    with commit(execute=True):
        answer = client_factory().post(reverse("email_sign_in"), {"email": email}, **extra)
    if len(mail.outbox) > sent:
        assert answer.status_code == 302
        return True
    assert answer.status_code == 200
    assert TOO_MANY in answer.content.decode()
    return False


@pytest.fixture
def two_per_address(settings):
    """allauth's per-IP budget for code requests, made small (and the per-email one left out, so
    only the address counts)."""
    settings.ACCOUNT_RATE_LIMITS = {"request_login_code": "2/m/ip"}
    settings.TRUSTED_PROXIES = ["10.0.0.0/8"]


def test_behind_our_proxy_each_client_has_its_own_code_request_budget(
    client_factory, commit, staff, two_per_address
):
    def from_client(forwarded_for: str) -> bool:
        return code_mailed(client_factory, commit, staff.email, "10.0.0.2", forwarded_for)

    assert [from_client("203.0.113.9") for _ in range(4)] == [True, True, False, False]
    # Another visitor through the same Caddy is not refused for the first one's requests.
    assert from_client("198.51.100.20") is True
    # The proxy appends what it saw: an entry the client wrote in front of it does not count.
    assert from_client("203.0.113.77, 198.51.100.20") is True
    assert from_client("203.0.113.78, 198.51.100.20") is False


def test_a_forged_forwarded_for_from_an_untrusted_peer_is_ignored(
    client_factory, commit, staff, two_per_address
):
    answers = [
        code_mailed(client_factory, commit, staff.email, "192.0.2.50", f"203.0.113.{n}") for n in range(4)
    ]

    assert answers == [True, True, False, False]
    # Another peer still has its budget.
    assert code_mailed(client_factory, commit, staff.email, "192.0.2.51") is True
