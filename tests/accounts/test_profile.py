import re

import pytest
from allauth.socialaccount.models import SocialAccount
from django.urls import reverse

from accounts.models import User
from tests.helpers import fund

pytestmark = pytest.mark.django_db


def test_the_profile_page_needs_a_signed_in_user(client):
    response = client.get(reverse("profile"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


def test_the_profile_shows_the_seed_variables_and_the_casdoor_id(alice_client, alice, settings):
    alice.avatar = "https://example.com/alice.png"
    alice.save()
    settings.SOCIALACCOUNT_PROVIDERS = {}
    response = alice_client.get(reverse("profile"))
    assert response.status_code == 200
    for key, value in {
        "name": "Alice",
        "email": "alice@example.com",
        "avatar": alice.avatar,
    }.items():
        assert response.context[key] == value
    html = response.content.decode()
    assert "email_alice" in html
    # The avatar's CDN is not an image source the CSP allows: the page shows initials instead.
    assert "https://example.com/alice.png" not in html


def test_the_profile_shows_the_users_real_balance(alice_client, alice, bob):
    fund(alice, "1467.19")
    fund(bob, "5.00")
    html = alice_client.get(reverse("profile")).content.decode()
    [shown] = re.findall(r'data-testid="profile-balance">([^<]*)<', html)
    assert shown == "1\xa0467,19\xa0₽"


def test_a_user_changes_their_display_name(alice_client, alice):
    response = alice_client.post(reverse("profile"), {"name": "  Алиса Иванова "})
    assert response.status_code == 302
    alice.refresh_from_db()
    assert alice.name == "Алиса Иванова"


def test_an_empty_display_name_is_refused(alice_client, alice):
    response = alice_client.post(reverse("profile"), {"name": "   "})
    assert response.status_code == 200
    assert response.context["form"].errors
    alice.refresh_from_db()
    assert alice.name == "Alice"


def test_the_profile_lists_connected_providers_and_offers_the_others(alice_client, alice, providers):
    SocialAccount.objects.create(user=alice, provider="vk", uid="1", extra_data={})
    response = alice_client.get(reverse("profile"))
    assert [a.provider for a in response.context["social_accounts"]] == ["vk"]
    assert sorted(p.id for p in response.context["available_providers"]) == ["google", "telegram", "yandex"]
    html = response.content.decode()
    assert 'action="/accounts/google/login/?process=connect' in html


def test_a_provider_can_be_disconnected_while_another_way_to_sign_in_remains(alice_client, alice, providers):
    vk = SocialAccount.objects.create(user=alice, provider="vk", uid="1", extra_data={})
    SocialAccount.objects.create(user=alice, provider="yandex", uid="2", extra_data={})
    alice_client.post(reverse("socialaccount_connections"), {"account": vk.pk})
    assert list(SocialAccount.objects.filter(user=alice).values_list("provider", flat=True)) == ["yandex"]


def test_the_last_way_to_sign_in_cannot_be_disconnected(alice_client, alice, providers):
    assert not alice.has_usable_password()  # nobody here has a password
    vk = SocialAccount.objects.create(user=alice, provider="vk", uid="1", extra_data={})
    response = alice_client.post(reverse("socialaccount_connections"), {"account": vk.pk})
    assert response.status_code == 200
    assert response.context["form"].errors
    assert SocialAccount.objects.filter(pk=vk.pk).exists()


def test_another_user_cannot_see_or_disconnect_it(client, alice, bob, providers):
    vk = SocialAccount.objects.create(user=alice, provider="vk", uid="1", extra_data={})
    SocialAccount.objects.create(user=alice, provider="yandex", uid="2", extra_data={})
    client.force_login(bob)
    assert client.get(reverse("profile")).context["social_accounts"] == []
    client.post(reverse("socialaccount_connections"), {"account": vk.pk})
    assert SocialAccount.objects.filter(pk=vk.pk).exists()


def test_the_sign_in_page_shows_a_button_only_for_each_configured_provider(client, settings):
    settings.SOCIALACCOUNT_PROVIDERS = {"vk": {"APP": {"client_id": "a", "secret": "b"}}}
    html = client.get(reverse("account_login")).content.decode()
    assert 'data-testid="provider-vk"' in html
    for absent in ("google", "yandex", "telegram"):
        assert f'data-testid="provider-{absent}"' not in html
    assert 'data-testid="email-sign-in"' in html


def test_the_sign_in_page_with_no_provider_configured_offers_email_only(client, settings):
    settings.SOCIALACCOUNT_PROVIDERS = {}
    html = client.get(reverse("account_login")).content.decode()
    assert 'data-testid="provider-' not in html
    assert 'data-testid="email-sign-in"' in html


def test_a_signed_in_user_going_to_the_email_form_lands_on_the_profile(alice_client):
    response = alice_client.post(reverse("email_sign_in"), {"email": "alice@example.com"})
    assert response["Location"] == reverse("profile")
    assert User.objects.count() == 1
