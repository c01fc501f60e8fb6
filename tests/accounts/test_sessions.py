"""Sessions: cookie attributes, key rotation, lifetime, the usersessions page and cleanup."""

import json
import time
from datetime import timedelta
from importlib import import_module
from io import StringIO

import pytest
from allauth.account.models import EmailAddress
from allauth.usersessions.models import UserSession
from django.conf import settings
from django.contrib.sessions.models import Session
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from accounts.middleware import SEEN_KEY, STARTED_KEY
from tests.accounts.helpers import code_from_outbox, request_code, sign_in_by_email
from tests.config.process import run_python

pytestmark = pytest.mark.django_db


@pytest.fixture
def alice_email(alice):
    EmailAddress.objects.create(user=alice, email=alice.email, verified=True, primary=True)
    return alice.email


def session_key(client) -> str:
    return client.cookies[settings.SESSION_COOKIE_NAME].value


def store(key: str):
    return import_module(settings.SESSION_ENGINE).SessionStore(key)


def test_the_session_cookie_set_at_sign_in_is_httponly_and_samesite_lax(client, commit, alice_email):
    response = sign_in_by_email(client, alice_email, commit)
    cookie = response.cookies[settings.SESSION_COOKIE_NAME]
    assert cookie["httponly"] is True
    assert cookie["samesite"] == "Lax"
    assert cookie["max-age"] == settings.SESSION_COOKIE_AGE
    assert cookie["path"] == "/"


def test_outside_debug_the_session_cookie_is_secure():
    code = (
        "import django, json; django.setup(); from django.conf import settings as s; "
        "print(json.dumps([s.SESSION_COOKIE_SECURE, s.SESSION_COOKIE_HTTPONLY, s.SESSION_COOKIE_SAMESITE, "
        "s.SESSION_COOKIE_AGE, s.SESSION_ABSOLUTE_LIFETIME]))"
    )
    secret = "a-production-like-secret-key-with-plenty-of-entropy-0123456789"
    result = run_python("-c", code, DEBUG="false", SECRET_KEY=secret, SITE_URL="https://lk.example.ru")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == [True, True, "Lax", 14 * 24 * 3600, 90 * 24 * 3600]


def test_the_session_key_changes_at_sign_in(client, commit, alice_email):
    confirm_url = request_code(client, alice_email, commit)["Location"]
    before = session_key(client)
    with commit(execute=True):
        client.post(confirm_url, {"code": code_from_outbox(alice_email)})
    after = session_key(client)
    assert after != before
    assert not store(before).exists(before)


def test_an_active_session_is_renewed_at_most_once_per_interval(client, commit, alice_email):
    sign_in_by_email(client, alice_email, commit)
    key = session_key(client)
    first_expiry = Session.objects.get(session_key=key).expire_date

    client.get(reverse("profile"))
    assert Session.objects.get(session_key=key).expire_date == first_expiry  # no write within the hour

    session = store(key)
    session[SEEN_KEY] = time.time() - settings.SESSION_TOUCH_INTERVAL - 1
    session.save()
    client.get(reverse("profile"))
    renewed = Session.objects.get(session_key=key).expire_date
    assert renewed > first_expiry
    assert renewed == pytest.approx(
        timezone.now() + timedelta(seconds=settings.SESSION_COOKIE_AGE), abs=timedelta(seconds=5)
    )


def test_a_session_ends_after_its_absolute_lifetime_however_active(client, commit, alice_email):
    sign_in_by_email(client, alice_email, commit)
    key = session_key(client)
    session = store(key)
    session[STARTED_KEY] = time.time() - settings.SESSION_ABSOLUTE_LIFETIME - 1
    session.save()
    response = client.get(reverse("profile"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


def test_the_expiry_never_reaches_past_the_absolute_lifetime(client, commit, alice_email):
    sign_in_by_email(client, alice_email, commit)
    key = session_key(client)
    session = store(key)
    started = time.time() - settings.SESSION_ABSOLUTE_LIFETIME + 3600
    session[STARTED_KEY] = started
    session[SEEN_KEY] = 0
    session.save()
    client.get(reverse("profile"))
    expiry = Session.objects.get(session_key=key).expire_date
    assert expiry <= timezone.now() + timedelta(seconds=3600)


# The sessions page ------------------------------------------------------------------------------
@pytest.fixture
def two_alice_browsers(client_factory, commit, alice_email):
    laptop, phone = client_factory(), client_factory()
    sign_in_by_email(laptop, alice_email, commit)
    sign_in_by_email(phone, alice_email, commit)
    return laptop, phone


def test_a_user_sees_their_sessions_and_ends_another_of_their_own(two_alice_browsers, alice):
    laptop, phone = two_alice_browsers
    response = laptop.get(reverse("usersessions_list"))
    assert response.status_code == 200
    assert len(response.context["sessions"]) == 2
    phone_session = UserSession.objects.get(session_key=session_key(phone))

    response = laptop.post(reverse("session_end", args=[phone_session.pk]))
    assert response.status_code == 302
    assert phone.get(reverse("profile")).status_code == 302  # the phone is signed out
    assert laptop.get(reverse("profile")).status_code == 200
    assert list(UserSession.objects.filter(user=alice).values_list("session_key", flat=True)) == [
        session_key(laptop)
    ]


def test_sign_out_everywhere_else_keeps_only_this_session(two_alice_browsers):
    laptop, phone = two_alice_browsers
    laptop.post(reverse("usersessions_list"))
    assert phone.get(reverse("profile")).status_code == 302
    assert laptop.get(reverse("profile")).status_code == 200


def test_another_user_cannot_see_or_end_it(two_alice_browsers, bob, client_factory):
    _laptop, phone = two_alice_browsers
    bobs = client_factory()
    bobs.force_login(bob)
    phone_session = UserSession.objects.get(session_key=session_key(phone))

    page = bobs.get(reverse("usersessions_list"))
    assert all(s.user_id == bob.pk for s in page.context["sessions"])
    assert session_key(phone) not in page.content.decode()

    response = bobs.post(reverse("session_end", args=[phone_session.pk]))
    assert response.status_code == 404
    assert phone.get(reverse("profile")).status_code == 200


# Cleanup ----------------------------------------------------------------------------------------
def test_cleanup_sessions_removes_exactly_the_expired_ones(two_alice_browsers, client_factory, bob):
    laptop, phone = two_alice_browsers
    Session.objects.filter(session_key=session_key(phone)).update(
        expire_date=timezone.now() - timedelta(seconds=1)
    )
    anonymous = store(None)
    anonymous["x"] = 1
    anonymous.set_expiry(-10)
    anonymous.save()

    out = StringIO()
    call_command("cleanup_sessions", stdout=out)

    assert "Removed 2 expired sessions" in out.getvalue()
    assert set(Session.objects.values_list("session_key", flat=True)) == {session_key(laptop)}
    assert set(UserSession.objects.values_list("session_key", flat=True)) == {session_key(laptop)}
    assert laptop.get(reverse("profile")).status_code == 200


def test_cleanup_runs_daily_from_celery_beat():
    entry = settings.CELERY_BEAT_SCHEDULE["accounts-cleanup-sessions"]
    assert entry == {"task": "accounts.tasks.cleanup_sessions", "schedule": 24 * 3600}
