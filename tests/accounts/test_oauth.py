"""VK, Google and Yandex sign-in through allauth's real login and callback views."""

import time
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest
from allauth.account.models import EmailAddress
from allauth.socialaccount.models import SocialAccount
from django.contrib.auth import SESSION_KEY
from django.urls import reverse

from accounts.models import User

pytestmark = pytest.mark.django_db

VK_PROFILE = {
    "user_id": "123456",
    "first_name": "Иван",
    "last_name": "Петров",
    "avatar": "https://sun.userapi.com/ivan.jpg",
    "email": "ivan@vk.example",
    "phone": "79990001122",
}
YANDEX_PROFILE = {
    "id": "777000",
    "login": "yana",
    "real_name": "Яна Смирнова",
    "display_name": "yana",
    "default_email": "yana@yandex.ru",
    "emails": ["yana@yandex.ru"],
    "default_avatar_id": "1234/abcd",
    "is_avatar_empty": False,
    "default_phone": {"id": 1, "number": "+79991112233"},
}


def google_id_token(**claims) -> str:
    now = int(time.time())
    payload = {
        "iss": "https://accounts.google.com",
        "aud": "google-client",
        "sub": "109876543210",
        "email": "gosha@gmail.com",
        "email_verified": True,
        "name": "Гоша Гугл",
        "picture": "https://lh3.googleusercontent.com/a/gosha",
        "iat": now,
        "exp": now + 3600,
        **claims,
    }
    # Came straight from Google's token endpoint over TLS: allauth skips the signature check.
    return jwt.encode(payload, "not-checked-" * 4, algorithm="HS256")


def answer_vk(edge, profile=VK_PROFILE):
    edge.answer("POST", "https://id.vk.ru/oauth2/auth", {"access_token": "vk-token", "expires_in": 3600})
    edge.answer("POST", "https://id.vk.ru/oauth2/user_info", {"user": profile})


def answer_google(edge, **claims):
    edge.answer(
        "POST",
        "https://oauth2.googleapis.com/token",
        {
            "access_token": "g-token",
            "expires_in": 3599,
            "token_type": "Bearer",
            "id_token": google_id_token(**claims),
        },
    )


def answer_yandex(edge, profile=YANDEX_PROFILE):
    edge.answer("POST", "https://oauth.yandex.ru/token", {"access_token": "ya-token", "expires_in": 3600})
    edge.answer("GET", "https://login.yandex.ru/info", profile)


ANSWER = {"vk": answer_vk, "google": answer_google, "yandex": answer_yandex}


def oauth_sign_in(client, provider: str, *, state: str | None = None):
    """Presses the provider's button, then comes back to the callback as the provider would."""
    response = client.post(reverse(f"{provider}_login"), {"process": "login"})
    assert response.status_code == 302, response.content
    authorize = urlsplit(response["Location"])
    params = parse_qs(authorize.query)
    assert params["redirect_uri"] == [f"http://testserver/accounts/{provider}/login/callback/"]
    callback = {"code": "auth-code", "state": state or params["state"][0], "device_id": "device-1"}
    return client.get(reverse(f"{provider}_callback"), callback)


def signed_in_user(client) -> User | None:
    user_id = client.session.get(SESSION_KEY)
    return User.objects.get(pk=user_id) if user_id else None


@pytest.mark.parametrize(
    ("provider", "casdoor_id", "name", "email", "avatar"),
    [
        ("vk", "vk_123456", "Иван Петров", "ivan@vk.example", "https://sun.userapi.com/ivan.jpg"),
        (
            "google",
            "google_109876543210",
            "Гоша Гугл",
            "gosha@gmail.com",
            "https://lh3.googleusercontent.com/a/gosha",
        ),
        (
            "yandex",
            "yandex_777000",
            "Яна Смирнова",
            "yana@yandex.ru",
            "https://avatars.yandex.net/get-yapic/1234/abcd/islands-200",
        ),
    ],
)
def test_a_provider_sign_in_creates_the_user_and_a_second_one_finds_the_same_user(
    client_factory, provider_edge, commit, provider, casdoor_id, name, email, avatar
):
    ANSWER[provider](provider_edge)
    client = client_factory()
    with commit(execute=True):
        response = oauth_sign_in(client, provider)
    assert response.status_code == 302
    assert response["Location"] == "/profile/"
    user = signed_in_user(client)
    assert (user.casdoor_id, user.name, user.email, user.avatar) == (casdoor_id, name, email, avatar)
    assert SocialAccount.objects.filter(user=user, provider=provider).count() == 1

    again = client_factory()
    with commit(execute=True):
        oauth_sign_in(again, provider)
    assert signed_in_user(again) == user
    assert User.objects.count() == 1


@pytest.mark.parametrize("provider", ["vk", "google", "yandex"])
def test_a_callback_with_a_bad_state_is_rejected_and_signs_nobody_in(client, provider_edge, provider):
    ANSWER[provider](provider_edge)
    response = oauth_sign_in(client, provider, state="forged-state")
    assert response.status_code == 401
    assert "socialaccount/authentication_error.html" in [t.name for t in response.templates]
    assert signed_in_user(client) is None
    assert User.objects.count() == 0
    # The code was never exchanged.
    assert provider_edge.calls == []


def test_vk_phone_is_kept_and_a_missing_email_does_not_stop_sign_up(client, provider_edge, commit):
    answer_vk(provider_edge, {**VK_PROFILE, "email": ""})
    with commit(execute=True):
        response = oauth_sign_in(client, "vk")
    assert response["Location"] == "/profile/"
    user = signed_in_user(client)
    assert user.email == ""
    assert user.phone == "79990001122"


def test_a_verified_email_from_the_provider_joins_the_existing_account(client, provider_edge, commit, alice):
    EmailAddress.objects.create(user=alice, email=alice.email, verified=True, primary=True)
    answer_google(provider_edge, email=alice.email, email_verified=True)
    with commit(execute=True):
        oauth_sign_in(client, "google")
    assert signed_in_user(client) == alice
    assert SocialAccount.objects.get(provider="google").user == alice
    alice.refresh_from_db()
    assert alice.casdoor_id == "email_alice"  # the first way she signed up stays her id


def test_an_unverified_email_does_not_join_or_claim_someone_elses_account(client, provider_edge, commit, bob):
    EmailAddress.objects.create(user=bob, email=bob.email, verified=True, primary=True)
    answer_google(provider_edge, email=bob.email, email_verified=False)
    with commit(execute=True):
        response = oauth_sign_in(client, "google")
    assert response["Location"] == "/profile/"
    user = signed_in_user(client)
    assert user != bob
    assert user.casdoor_id == "google_109876543210"
    assert user.email == ""
    assert not EmailAddress.objects.filter(user=user).exists()


def test_a_signed_in_user_connects_another_provider_and_then_signs_in_with_it(client, provider_edge, commit):
    answer_vk(provider_edge, {**VK_PROFILE, "email": ""})
    with commit(execute=True):
        oauth_sign_in(client, "vk")
    user = signed_in_user(client)

    answer_yandex(provider_edge)
    response = client.post(reverse("yandex_login"), {"process": "connect"})
    state = parse_qs(urlsplit(response["Location"]).query)["state"][0]
    with commit(execute=True):
        client.get(reverse("yandex_callback"), {"code": "c", "state": state})
    assert set(SocialAccount.objects.filter(user=user).values_list("provider", flat=True)) == {"vk", "yandex"}

    client.post(reverse("account_logout"))
    with commit(execute=True):
        oauth_sign_in(client, "yandex")
    assert signed_in_user(client) == user
    user.refresh_from_db()
    assert user.casdoor_id == "vk_123456"


def test_a_user_imported_from_the_old_system_signs_in_with_the_provider_they_signed_up_with(
    client, provider_edge, commit, make_user
):
    legacy = make_user("vk_123456", name="Иван (старый)", email="ivan@old.example")
    answer_vk(provider_edge)
    with commit(execute=True):
        response = oauth_sign_in(client, "vk")
    assert response["Location"] == "/profile/"
    assert signed_in_user(client) == legacy
    assert SocialAccount.objects.get(provider="vk", uid="123456").user == legacy
    assert User.objects.count() == 1
