import time

import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth import SESSION_KEY
from django.core import mail
from django.urls import reverse

from accounts.models import User
from tests.helpers import code_from_outbox, request_code, sign_in_by_email

pytestmark = pytest.mark.django_db


def signed_in_user_id(client) -> str | None:
    return client.session.get(SESSION_KEY)


def test_a_new_email_becomes_an_account_only_after_its_code_is_confirmed(client, commit):
    response = request_code(client, "new@example.com", commit)
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["new@example.com"]
    assert signed_in_user_id(client) is None
    assert not EmailAddress.objects.filter(email="new@example.com", verified=True).exists()

    with commit(execute=True):
        response = client.post(response["Location"], {"code": code_from_outbox("new@example.com")})
    assert response.status_code == 302
    assert response["Location"] == "/profile/"
    user = User.objects.get(email="new@example.com")
    assert signed_in_user_id(client) == str(user.pk)
    assert EmailAddress.objects.get(user=user, email="new@example.com").verified
    # A stable id that is a valid Casdoor name and reveals nothing about the address.
    assert user.casdoor_id.startswith("email_")
    assert "new" not in user.casdoor_id and "example" not in user.casdoor_id
    assert not user.has_usable_password()


def test_a_known_email_signs_in_with_a_code_into_the_same_account(client, commit):
    sign_in_by_email(client, "same@example.com", commit)
    first = User.objects.get(email="same@example.com")
    client.post(reverse("account_logout"))
    assert signed_in_user_id(client) is None

    response = sign_in_by_email(client, "same@example.com", commit)
    assert response.status_code == 302
    assert signed_in_user_id(client) == str(first.pk)
    assert User.objects.filter(email="same@example.com").count() == 1


def test_the_code_is_mailed_by_the_celery_task_after_commit_not_inside_the_request(client, commit):
    with commit(execute=False) as callbacks:
        client.post(reverse("email_sign_in"), {"email": "later@example.com"})
    # Nothing went out during the request; the queued task sends it.
    assert mail.outbox == []
    assert len(callbacks) == 1
    callbacks[0]()
    assert len(mail.outbox) == 1


def test_a_wrong_code_is_refused(client, commit, alice):
    EmailAddress.objects.create(user=alice, email=alice.email, verified=True, primary=True)
    response = request_code(client, alice.email, commit)
    assert response["Location"] == reverse("account_confirm_login_code")
    response = client.post(response["Location"], {"code": "WRONG1"})
    assert response.status_code == 200
    assert signed_in_user_id(client) is None


def test_too_many_wrong_codes_lock_the_code(client, commit, alice):
    EmailAddress.objects.create(user=alice, email=alice.email, verified=True, primary=True)
    confirm_url = request_code(client, alice.email, commit)["Location"]
    code = code_from_outbox(alice.email)
    for _ in range(3):
        response = client.post(confirm_url, {"code": "WRONG1"})
    assert response.status_code == 302  # sent back to request a new code
    # The right code no longer works: the attempt is over.
    response = client.post(confirm_url, {"code": code})
    assert response.status_code == 302
    assert response["Location"] != "/profile/"
    assert signed_in_user_id(client) is None


def test_an_expired_code_is_refused(client, commit, alice, settings, monkeypatch):
    EmailAddress.objects.create(user=alice, email=alice.email, verified=True, primary=True)
    confirm_url = request_code(client, alice.email, commit)["Location"]
    code = code_from_outbox(alice.email)
    later = time.time() + settings.ACCOUNT_LOGIN_BY_CODE_TIMEOUT + 1
    # The clock is outside our code: move it past the code's lifetime.
    monkeypatch.setattr(time, "time", lambda: later)
    response = client.post(confirm_url, {"code": code})
    assert response.status_code == 302
    assert signed_in_user_id(client) is None


def test_asking_for_codes_too_often_is_throttled(client_factory, commit, alice):
    EmailAddress.objects.create(user=alice, email=alice.email, verified=True, primary=True)
    for _ in range(5):
        # Fresh browsers each time, as an attacker would use.
        request_code(client_factory(), alice.email, commit)
    # allauth's rate limit: at most 3 codes a minute per address.
    assert len(mail.outbox) == 3


def test_resending_a_code_is_limited(client, commit, alice, settings):
    EmailAddress.objects.create(user=alice, email=alice.email, verified=True, primary=True)
    confirm_url = request_code(client, alice.email, commit)["Location"]
    for _ in range(5):
        with commit(execute=True):
            client.post(confirm_url, {"action": "resend"})
    # The first code and then ACCOUNT_LOGIN_BY_CODE_SUPPORTS_RESEND (3) more, no matter how often.
    assert len(mail.outbox) == 1 + settings.ACCOUNT_LOGIN_BY_CODE_SUPPORTS_RESEND


def test_an_invalid_email_goes_back_to_the_sign_in_page(client, commit):
    response = request_code(client, "not-an-email", commit)
    assert response.status_code == 302
    assert response["Location"] == reverse("account_login")
    assert mail.outbox == []


def test_a_user_imported_with_only_an_email_signs_in_by_code_into_their_account(client, commit, make_user):
    legacy = make_user("email_legacy1", email="old@example.com", name="Старый")
    response = sign_in_by_email(client, "old@example.com", commit)
    assert response["Location"] == "/profile/"
    assert signed_in_user_id(client) == str(legacy.pk)
    assert User.objects.count() == 1
    assert EmailAddress.objects.get(user=legacy, email="old@example.com").verified
