"""Telegram sign-in: allauth's callback checks the widget payload's HMAC and its age."""

import base64
import hashlib
import hmac
import json
import time
from urllib.parse import parse_qs, urlsplit

import pytest
from django.contrib.auth import SESSION_KEY
from django.urls import reverse

from accounts.models import User
from tests.fakes.oauth import PROVIDERS

pytestmark = pytest.mark.django_db

BOT_TOKEN = PROVIDERS["telegram"]["APP"]["secret"]


def signed(data: dict, token: str = BOT_TOKEN) -> dict:
    """The payload as Telegram signs it: HMAC-SHA256 keyed by SHA256(bot token) over the sorted
    `key=value` lines."""
    check_string = "\n".join(f"{key}={value}" for key, value in sorted(data.items()))
    secret = hashlib.sha256(token.encode()).digest()
    return {**data, "hash": hmac.new(secret, check_string.encode(), hashlib.sha256).hexdigest()}


def widget_payload(**fields) -> dict:
    return {
        "id": 987654321,
        "first_name": "Тимур",
        "last_name": "Телеграмов",
        "username": "timur",
        "photo_url": "https://t.me/i/userpic/320/timur.jpg",
        "auth_date": int(time.time()),
        **fields,
    }


def telegram_sign_in(client, payload: dict):
    response = client.post(reverse("telegram_login"), {"process": "login"})
    assert response.status_code == 302
    assert response["Location"].startswith("https://oauth.telegram.org/auth?")
    return_to = parse_qs(urlsplit(response["Location"]).query)["return_to"][0]
    state = parse_qs(urlsplit(return_to).query)["state"][0]
    result = base64.b64encode(json.dumps(payload).encode()).decode().rstrip("=")
    return client.post(f"{reverse('telegram_callback')}?state={state}", {"tgAuthResult": result})


def test_a_correctly_signed_payload_signs_in(client, providers, commit):
    with commit(execute=True):
        response = telegram_sign_in(client, signed(widget_payload()))
    assert response.status_code == 302
    assert response["Location"] == "/profile/"
    user = User.objects.get(pk=client.session[SESSION_KEY])
    assert user.casdoor_id == "telegram_987654321"
    assert user.name == "Тимур Телеграмов"
    assert user.avatar == "https://t.me/i/userpic/320/timur.jpg"
    # Telegram sends no email, and sign-up did not stop to ask for one.
    assert user.email == ""


@pytest.mark.parametrize(
    "payload",
    [
        pytest.param({**signed(widget_payload()), "hash": "0" * 64}, id="wrong hash"),
        pytest.param(signed(widget_payload(), token="7000000001:another-bot"), id="another bot's key"),
        pytest.param({**signed(widget_payload()), "first_name": "Мэллори"}, id="changed field"),
        pytest.param({**signed(widget_payload()), "id": 1}, id="changed id"),
        pytest.param(signed(widget_payload(auth_date=int(time.time()) - 301)), id="auth_date too old"),
    ],
)
def test_a_bad_payload_is_rejected_and_signs_nobody_in(client, providers, payload):
    response = telegram_sign_in(client, payload)
    assert response.status_code == 401
    assert SESSION_KEY not in client.session
    assert User.objects.count() == 0
