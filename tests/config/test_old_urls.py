"""The FastAPI system's addresses lead to their new homes (bookmarks, landing pages and the
providers' consoles still point at them)."""

import pytest


@pytest.mark.parametrize(
    ("old", "status", "new"),
    [
        ("/login", 301, "/accounts/login/"),
        ("/login/email-direct", 301, "/accounts/login/"),
        ("/login/vk-direct", 301, "/accounts/vk/login/"),
        ("/login/google-direct", 301, "/accounts/google/login/"),
        ("/login/yandex-direct", 301, "/accounts/yandex/login/"),
        ("/login/telegram-direct", 301, "/accounts/telegram/login/"),
        ("/callback/vk?code=abc&state=xyz", 301, "/accounts/vk/login/callback/?code=abc&state=xyz"),
        ("/callback/google?code=abc", 301, "/accounts/google/login/callback/?code=abc"),
        ("/callback/yandex", 301, "/accounts/yandex/login/callback/"),
        ("/callback/telegram?id=1&hash=h", 301, "/accounts/telegram/login/callback/?id=1&hash=h"),
        ("/logout", 302, "/accounts/logout/"),
        ("/profile", 301, "/profile/"),
        ("/chat", 301, "/chat/"),
        ("/topup", 301, "/topup/"),
    ],
)
def test_an_old_address_redirects_to_its_new_home(client, db, old, status, new):
    response = client.get(old)
    assert response.status_code == status
    assert response["Location"] == new


@pytest.mark.parametrize("old", ["/login/github-direct", "/callback/github", "/callback/email"])
def test_an_old_address_of_a_provider_we_never_had_is_a_404(client, db, old):
    assert client.get(old).status_code == 404
