import pytest
from allauth.socialaccount.models import SocialAccount, SocialApp
from django.contrib import admin
from django.urls import reverse

from accounts.models import User

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(make_user):
    ivan = make_user("vk_123456", name="Иван", email="ivan@example.com")
    SocialAccount.objects.create(user=ivan, provider="vk", uid="123456", extra_data={})
    yana = make_user("yandex_777", name="Яна", email="yana@yandex.ru", casdoor_sync_error="HTTP 503")
    SocialAccount.objects.create(user=yana, provider="yandex", uid="777", extra_data={})
    return ivan, yana


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("ivan@example", ["vk_123456"]),
        ("Яна", ["yandex_777"]),
        ("vk_1234", ["vk_123456"]),
        ("yandex", ["yandex_777"]),
    ],
)
def test_admin_finds_users_by_email_name_casdoor_id_and_provider(admin_client, people, query, expected):
    response = admin_client.get(reverse("admin:accounts_user_changelist"), {"q": query})
    assert response.status_code == 200
    assert [u.casdoor_id for u in response.context["cl"].result_list] == expected


def test_admin_filters_users_by_sync_state(admin_client, people):
    response = admin_client.get(reverse("admin:accounts_user_changelist"), {"casdoor": "error"})
    assert [u.casdoor_id for u in response.context["cl"].result_list] == ["yandex_777"]


def test_the_user_page_shows_sync_state_and_connected_providers(admin_client, people):
    _ivan, yana = people
    html = admin_client.get(reverse("admin:accounts_user_change", args=[yana.pk])).content.decode()
    assert "HTTP 503" in html
    assert "777" in html


def test_providers_are_not_editable_as_socialapp_rows():
    assert not admin.site.is_registered(SocialApp)


def test_an_admin_adds_a_user_without_a_password(admin_client):
    response = admin_client.post(
        reverse("admin:accounts_user_add"),
        {"casdoor_id": "vk_9", "email": "nine@example.com", "usable_password": "false"},
    )
    assert response.status_code == 302
    user = User.objects.get(casdoor_id="vk_9")
    assert not user.has_usable_password()
