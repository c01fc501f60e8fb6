"""The Casdoor mirror against a fake Casdoor speaking its REST API over HTTP."""

import pytest
from django.core import mail
from django.urls import reverse

from accounts import casdoor as casdoor_client
from accounts.casdoor import CasdoorError
from accounts.models import User
from tests.helpers import sign_in_by_email

pytestmark = pytest.mark.django_db


def seed(fake, user: User, **fields) -> None:
    fake.users[("built-in", user.casdoor_id)] = {
        "owner": "built-in",
        "name": user.casdoor_id,
        "displayName": user.name,
        "email": user.email,
        "phone": user.phone,
        "avatar": user.avatar,
        "signupApplication": "Myservice",
        "score": 7,
        **fields,
    }


def test_the_first_sign_in_creates_the_user_in_casdoor_once_with_the_signup_application(
    client, casdoor, commit
):
    sign_in_by_email(client, "new@example.com", commit)
    user = User.objects.get(email="new@example.com")
    assert casdoor.users[("built-in", user.casdoor_id)] == {
        "owner": "built-in",
        "name": user.casdoor_id,
        "displayName": "",
        "email": "new@example.com",
        "phone": "",
        "avatar": "",
        "signupApplication": "Myservice",
    }
    client.post(reverse("account_logout"))
    sign_in_by_email(client, "new@example.com", commit)
    # Signed in twice, added once; nothing changed, so nothing was updated either.
    assert len(casdoor.requests_to("/api/add-user")) == 1
    assert casdoor.requests_to("/api/update-user") == []
    user.refresh_from_db()
    assert user.casdoor_synced_at is not None
    assert user.casdoor_sync_error == ""


def test_a_profile_change_updates_only_the_changed_columns(alice_client, alice, casdoor, commit):
    seed(casdoor, alice)
    with commit(execute=True):
        response = alice_client.post(reverse("profile"), {"name": "Алиса"})
    assert response.status_code == 302
    (update,) = casdoor.requests_to("/api/update-user")
    assert update.query["id"] == ["built-in/email_alice"]
    assert update.query["columns"] == ["display_name"]
    # Fields Casdoor keeps but we do not send (score here) are untouched.
    assert casdoor.users[("built-in", "email_alice")]["displayName"] == "Алиса"
    assert casdoor.users[("built-in", "email_alice")]["score"] == 7
    assert casdoor.users[("built-in", "email_alice")]["email"] == "alice@example.com"


def test_with_casdoor_down_sign_in_succeeds_and_the_task_retries_until_casdoor_is_back(
    client, casdoor, commit
):
    casdoor.down = 3
    response = sign_in_by_email(client, "patient@example.com", commit)
    assert response["Location"] == "/profile/"
    assert mail.outbox  # the code went out whatever Casdoor did
    user = User.objects.get(email="patient@example.com")
    assert ("built-in", user.casdoor_id) in casdoor.users
    # Three 503s, each retried, then get-user and add-user.
    assert len(casdoor.requests_to("/api/get-user")) == 4
    assert len(casdoor.requests_to("/api/add-user")) == 1
    user.refresh_from_db()
    assert user.casdoor_sync_error == ""


def test_a_failed_sync_is_recorded_on_the_user_and_sign_in_still_works(client, casdoor, commit, settings):
    settings.CASDOOR_CLIENT_SECRET = "wrong"
    response = sign_in_by_email(client, "refused@example.com", commit)
    assert response["Location"] == "/profile/"
    user = User.objects.get(email="refused@example.com")
    assert "Unauthorized" in user.casdoor_sync_error
    assert casdoor.users == {}


def test_without_casdoor_configured_sign_in_works_and_says_so(client, commit, settings):
    settings.CASDOOR_INTERNAL_URL = ""
    response = sign_in_by_email(client, "alone@example.com", commit)
    assert response["Location"] == "/profile/"
    assert User.objects.get(email="alone@example.com").casdoor_sync_error == "Casdoor is not configured"


def test_the_admin_action_resyncs_the_selected_users(admin_client, alice, bob, casdoor, commit):
    seed(casdoor, alice, displayName="stale")
    with commit(execute=True):
        response = admin_client.post(
            reverse("admin:accounts_user_changelist"),
            {"action": "resync_with_casdoor", "_selected_action": [alice.pk, bob.pk]},
        )
    assert response.status_code == 302
    assert casdoor.users[("built-in", "email_alice")]["displayName"] == "Alice"
    assert casdoor.users[("built-in", "email_bob")]["signupApplication"] == "Myservice"


# The client on its own, as wallets will use it ------------------------------------------------
def test_the_client_treats_an_http_200_error_answer_as_a_failure(casdoor):
    with casdoor_client.client() as client, pytest.raises(CasdoorError, match="already exists"):
        client.add_user({"name": "dup"})
        client.add_user({"name": "dup"})


def test_the_client_refuses_an_update_without_columns(casdoor):
    with casdoor_client.client() as client, pytest.raises(ValueError, match="columns"):
        client.update_user("someone", fields={"balance": 1.5}, columns=[])


def test_the_client_writes_a_balance_through_its_column(casdoor, alice):
    seed(casdoor, alice)
    with casdoor_client.client() as client:
        client.update_user(alice.casdoor_id, fields={"balance": 99.5}, columns=["balance"])
        assert client.get_user(alice.casdoor_id)["balance"] == 99.5
        assert client.get_user("nobody") is None


def test_the_client_gives_up_on_a_slow_casdoor_within_its_timeout(fake_server, settings):
    import threading

    from tests.fakes.server import FakeHandler

    release = threading.Event()

    class Stuck(FakeHandler):
        def route(self, method, path):
            release.wait(5)
            self.send_json({"status": "ok", "data": None})

    server = fake_server(Stuck)
    settings.CASDOOR_INTERNAL_URL = server.url
    settings.CASDOOR_CLIENT_ID, settings.CASDOOR_CLIENT_SECRET = "id", "secret"
    settings.CASDOOR_TIMEOUT = 0.2
    try:
        with casdoor_client.client() as client, pytest.raises(CasdoorError, match="Timeout"):
            client.get_user("anyone")
    finally:
        release.set()
