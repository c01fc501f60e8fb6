"""The model picker (search, chat and media models apart, recent first, grouped by provider, each
with its price per typical answer, context and abilities) and the chat list (by day, searchable,
rename and delete by touch without browser dialogs), at desktop and phone sizes."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from chats.models import Chat
from tests.e2e.screens import DESKTOP, PHONE, screenshot
from tests.helpers import fund

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("chat_settings", "catalog"),
]

VIEWPORTS = pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])


@pytest.fixture
def chat_page(browser_page, login_browser, alice, openrouter):
    fund(alice, "100.00")
    login_browser(browser_page, alice)
    return browser_page


def option(page, model_id: str):
    return page.locator(f'[data-testid=model-option][data-id="{model_id}"]').first


@VIEWPORTS
def test_choosing_a_model_by_searching_and_recent_models_come_first(chat_page, openrouter, viewport):
    page = chat_page
    page.set_viewport_size(viewport)
    page.goto("/chat/")
    expect(page.get_by_test_id("model-name")).to_have_text("Gemini 2.5 Flash")

    page.get_by_test_id("model-picker").click()
    menu = page.get_by_test_id("model-menu")
    expect(menu).to_be_in_viewport()
    # Browsing the text models: grouped by provider, media models not among them.
    groups = menu.get_by_test_id("model-group-name")
    expect(groups.first).to_have_text("OpenAI")
    expect(menu.get_by_test_id("model-group-name").filter(has_text="Изображения")).to_have_count(0)
    gpt = option(page, "openai/gpt-4o-mini")
    expect(gpt).to_contain_text("GPT-4o mini")
    expect(gpt).to_contain_text("зрение")
    expect(gpt).to_contain_text("контекст 128K токенов")
    expect(gpt).to_contain_text("≈ 0,07 ₽ за ответ")
    screenshot(page, "model-picker")
    # Media models have their own tab, priced per generation.
    page.get_by_test_id("tab-media").click()
    expect(menu.get_by_test_id("model-group-name").first).to_have_text("Изображения")
    expect(menu.get_by_test_id("model-option").first).to_contain_text("за генерацию")
    page.get_by_test_id("tab-chat").click()

    # Search narrows the list across providers; Enter takes the first match.
    page.get_by_test_id("model-search").fill("haiku")
    expect(menu.get_by_test_id("model-option")).to_have_count(2)
    expect(menu.get_by_test_id("model-group-name")).to_have_text(["Anthropic"])
    page.get_by_test_id("model-search").fill("нет такой модели")
    expect(menu).to_contain_text("Ничего не нашлось.")
    page.get_by_test_id("model-search").fill("4o mini")
    expect(gpt).to_be_in_viewport()
    option(page, "openai/gpt-4o-mini").click()
    expect(menu).to_be_hidden()
    expect(page.get_by_test_id("model-name")).to_have_text("GPT-4o mini")

    # Sending with it makes it a recent model, listed first next time.
    openrouter.tokens = ["Ок"]
    page.get_by_test_id("chat-input").fill("Привет")
    page.get_by_test_id("send").click()
    expect(page.get_by_test_id("assistant-message").get_by_test_id("message-meta")).to_contain_text("₽")
    assert openrouter.chat_requests()[-1].json()["model"] == "openai/gpt-4o-mini"
    page.get_by_test_id("model-picker").click()
    expect(menu.get_by_test_id("model-group-name").first).to_have_text("Недавние")
    expect(menu.get_by_test_id("model-group").first.get_by_test_id("model-option")).to_have_count(1)
    expect(menu.get_by_test_id("model-group").first).to_contain_text("GPT-4o mini")
    page.keyboard.press("Escape")
    expect(menu).to_be_hidden()
    assert page.console_errors == []


@VIEWPORTS
def test_the_chat_list_by_day_with_search_rename_and_delete_without_dialogs(chat_page, alice, viewport):
    page = chat_page
    page.set_viewport_size(viewport)
    model = "google/gemini-2.5-flash"
    now = timezone.now()
    ages = [
        ("План поездки", timedelta(0)),
        ("План поездки", timedelta(minutes=2)),
        ("Черновик письма", timedelta(days=1)),
        ("Рецепт борща", timedelta(days=3)),
        ("Отчёт за квартал", timedelta(days=40)),
    ]
    for title, age in ages:
        chat = Chat.objects.create(user=alice, model=model, title=title)
        Chat.objects.filter(pk=chat.pk).update(updated_at=now - age)
    page.on("dialog", lambda dialog: pytest.fail(f"a browser dialog opened: {dialog.message}"))
    page.goto("/chat/")
    if viewport == PHONE:
        page.get_by_test_id("open-drawer").click()

    sections = page.get_by_test_id("chat-section")
    expect(sections).to_have_text(["Сегодня", "Вчера", "За неделю", "Ранее"])
    # The two "План поездки" are told apart by when they were last active.
    rows = page.get_by_test_id("chat-row").filter(has_text="План поездки")
    expect(rows).to_have_count(2)
    assert (
        rows.nth(0).get_by_test_id("chat-when").inner_text()
        != rows.nth(1).get_by_test_id("chat-when").inner_text()
    )
    page.wait_for_timeout(300)
    screenshot(page, "chat-list")

    # Search over titles.
    page.get_by_test_id("chat-search").fill("борщ")
    expect(page.get_by_test_id("chat-item")).to_have_count(1)
    expect(page.get_by_test_id("chat-item")).to_contain_text("Рецепт борща")
    page.get_by_test_id("chat-search").fill("ничего такого")
    expect(page.get_by_test_id("no-chats")).to_be_visible()
    page.get_by_test_id("chat-search").fill("")
    expect(page.get_by_test_id("chat-item")).to_have_count(5)

    # Rename in place, by tapping.
    row = page.get_by_test_id("chat-row").filter(has_text="Рецепт борща")
    row.get_by_test_id("rename-chat").click()
    field = page.get_by_test_id("rename-input")
    expect(field).to_be_focused()
    field.fill("Борщ по-украински")
    field.press("Enter")
    expect(page.get_by_test_id("chat-item").filter(has_text="Борщ по-украински")).to_be_visible()
    assert Chat.objects.filter(title="Борщ по-украински").exists()

    # Delete asks inline; cancelling keeps the chat, confirming deletes it.
    row = page.get_by_test_id("chat-row").filter(has_text="Отчёт за квартал")
    row.get_by_test_id("delete-chat").click()
    confirm = page.get_by_test_id("delete-confirm")
    expect(confirm).to_contain_text("Удалить чат?")
    expect(confirm).to_be_in_viewport()
    screenshot(page, "chat-delete-confirm")
    confirm.get_by_test_id("delete-yes").click()
    expect(page.get_by_test_id("chat-item").filter(has_text="Отчёт за квартал")).to_have_count(0)
    # (Renaming counts as activity: the renamed chat moved to today.)
    expect(page.get_by_test_id("chat-section")).to_have_text(["Сегодня", "Вчера"])
    assert not Chat.objects.filter(title="Отчёт за квартал").exists()
    assert page.console_errors == []
