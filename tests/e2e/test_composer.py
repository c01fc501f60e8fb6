"""Writing and reading in the chat: Esc stops a reply, the view follows a growing reply only
while the reader is at the bottom, the composer grows with its text, and markdown reads well
(no literal backticks or added quotes, one frame per code block with readable text)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.e2e.chat_steps import ask, open_chat
from tests.e2e.screens import DESKTOP, PHONE, screenshot
from tests.helpers import browser_pause, fund, wait_until

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("chat_settings"),
]


@pytest.fixture
def chat_page(browser_page, login_browser, alice, chat_model, openrouter):
    fund(alice, "100.00")
    browser_page.set_viewport_size(DESKTOP)
    open_chat(browser_page, login_browser, alice, chat_model)
    return browser_page


def test_esc_stops_the_reply(chat_page, openrouter):
    page = chat_page
    openrouter.tokens = [f"слово{i} " for i in range(400)]
    openrouter.pace = 0.05
    ask(page, "Расскажи длинную историю")
    body = page.get_by_test_id("assistant-message").get_by_test_id("message-body")
    body.filter(has_text="слово3 ").wait_for()

    page.get_by_test_id("chat-input").press("Escape")

    expect(page.get_by_test_id("send")).to_be_visible()
    assert openrouter.closed_early.wait(10)
    expect(page.get_by_test_id("assistant-message").get_by_test_id("message-meta")).to_contain_text(
        "Остановлено"
    )
    assert "слово399" not in body.inner_text()


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_the_view_follows_a_reply_only_while_the_reader_is_at_the_bottom(chat_page, openrouter, viewport):
    page = chat_page
    page.set_viewport_size(viewport)
    openrouter.tokens = [f"Строка {i}\n\n" for i in range(300)]
    openrouter.pace = 0.03
    ask(page, "Много строк")
    scroller = page.get_by_test_id("scroller")
    body = page.get_by_test_id("assistant-message").get_by_test_id("message-body")
    body.filter(has_text="Строка 40").wait_for()
    # Following: the newest line is in view.
    assert scroller.evaluate("el => el.scrollHeight - el.scrollTop - el.clientHeight") < 60

    # The reader scrolls up to read: the view stays where they put it while lines keep coming.
    scroller.hover()
    page.mouse.wheel(0, -400)
    wait_until(lambda: scroller.evaluate("el => el.scrollHeight - el.scrollTop - el.clientHeight") > 200)
    held = scroller.evaluate("el => el.scrollTop")
    before = body.inner_text()
    page.wait_for_timeout(600)
    assert body.inner_text() != before
    assert abs(scroller.evaluate("el => el.scrollTop") - held) < 5
    expect(page.get_by_test_id("user-message")).not_to_be_in_viewport()

    # Back at the bottom, it follows again.
    scroller.evaluate("el => el.scrollTo(0, el.scrollHeight)")
    page.wait_for_timeout(400)
    wait_until(
        lambda: scroller.evaluate("el => el.scrollHeight - el.scrollTop - el.clientHeight") < 60,
        pause=browser_pause(page),
    )
    page.keyboard.press("Escape")


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_the_composer_grows_with_its_text_up_to_a_limit(chat_page, viewport):
    page = chat_page
    page.set_viewport_size(viewport)
    composer = page.get_by_test_id("chat-input")
    one_line = composer.bounding_box()["height"]

    composer.fill("первая\nвторая\nтретья\nчетвёртая")
    wait_until(lambda: composer.bounding_box()["height"] > one_line * 2, pause=browser_pause(page))
    screenshot(page, "composer-grown")
    composer.fill("\n".join(f"строка {i}" for i in range(60)))
    wait_until(lambda: composer.bounding_box()["height"] == 240, pause=browser_pause(page))
    expect(composer).to_be_in_viewport(ratio=1)
    expect(page.get_by_test_id("send")).to_be_in_viewport()
    composer.fill("")
    wait_until(lambda: composer.bounding_box()["height"] == one_line, pause=browser_pause(page))


def test_markdown_reads_well(chat_page, openrouter):
    page = chat_page
    openrouter.tokens = [
        "Используйте `pip install`.\n\n",
        "> Цитата без лишних кавычек\n\n",
        "```js\nconsole.log(1)\n```\n",
    ]
    ask(page, "Markdown")
    body = page.get_by_test_id("assistant-message").get_by_test_id("message-body")
    expect(body.get_by_test_id("code-lang")).to_have_text("js")
    page.get_by_test_id("send").wait_for()

    inline = body.locator("p code")
    assert "`" not in inline.evaluate("el => getComputedStyle(el, '::before').content")
    assert "`" not in inline.evaluate("el => getComputedStyle(el, '::after').content")
    quote = body.locator("blockquote p")
    assert "“" not in quote.evaluate("el => getComputedStyle(el, '::before').content")
    assert "”" not in quote.evaluate("el => getComputedStyle(el, '::after').content")
    # One frame: the block's; the <pre> inside has no padding, border or background of its own.
    pre = body.locator("pre")
    style = pre.evaluate(
        "el => { const s = getComputedStyle(el); return [s.paddingTop, s.borderTopWidth, s.backgroundColor] }"
    )
    assert style == ["0px", "0px", "rgba(0, 0, 0, 0)"]
    assert float(body.locator("pre code").evaluate("el => parseFloat(getComputedStyle(el).fontSize)")) >= 13
    screenshot(page, "markdown")
