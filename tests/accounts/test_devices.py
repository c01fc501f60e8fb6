import pytest
from allauth.account.models import EmailAddress
from allauth.usersessions.models import UserSession
from django.urls import reverse

from accounts.devices import device_of
from tests.helpers import sign_in_by_email

CHROME_LINUX = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
)
SAFARI_IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.2 Mobile/15E148 Safari/604.1"
)
YANDEX_WINDOWS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 "
    "YaBrowser/24.1.0.0 Safari/537.36"
)


@pytest.mark.parametrize(
    "user_agent,label,mobile",
    [
        (CHROME_LINUX, "Chrome, Linux", False),
        (SAFARI_IPHONE, "Safari, iOS", True),
        (YANDEX_WINDOWS, "Яндекс Браузер, Windows", False),
        (
            "Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/120.0.6099.144 Mobile Safari/537.36",
            "Chrome, Android",
            True,
        ),
        (
            "Mozilla/5.0 (Macintosh; Intel Mac OS X 10.15; rv:121.0) Gecko/20100101 Firefox/121.0",
            "Firefox, macOS",
            False,
        ),
        (
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/120.0.0.0 Safari/537.36 Edg/120.0.0.0",
            "Edge, Windows",
            False,
        ),
        ("curl/8.5.0", "curl", False),
        ("", "", False),
        ("something nobody knows", "", False),
    ],
)
def test_a_user_agent_is_named_by_its_browser_and_system(user_agent, label, mobile):
    device = device_of(user_agent)
    assert (device.label, device.mobile) == (label, mobile)


@pytest.mark.django_db
def test_the_sessions_page_names_each_device_and_keeps_the_raw_string_as_a_hint(
    client_factory, commit, alice
):
    EmailAddress.objects.create(user=alice, email=alice.email, verified=True, primary=True)
    laptop = client_factory(HTTP_USER_AGENT=CHROME_LINUX)
    sign_in_by_email(laptop, alice.email, commit)
    phone = client_factory(HTTP_USER_AGENT=SAFARI_IPHONE)
    sign_in_by_email(phone, alice.email, commit)
    assert UserSession.objects.filter(user=alice).count() == 2

    page = laptop.get(reverse("usersessions_list")).content.decode()

    assert "Chrome, Linux" in page
    assert "Safari, iOS" in page
    assert "ph-device-mobile" in page
    assert f'title="{CHROME_LINUX}"' in page
    assert f">{CHROME_LINUX}<" not in page.replace("> ", ">")


def test_in_english_the_yandex_browser_is_named_in_english():
    from django.utils import translation

    with translation.override("en"):
        assert device_of(YANDEX_WINDOWS).label == "Yandex Browser, Windows"
