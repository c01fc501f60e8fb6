"""Steps the chat's browser tests share."""

from __future__ import annotations

from playwright.sync_api import expect


def choose_model(page, model) -> None:
    """Picks `model` (an AIModel) in the chat's model picker by searching for its name."""
    page.get_by_test_id("model-picker").click()
    page.get_by_test_id("model-search").fill(model.name)
    page.locator(f'[data-testid=model-option][data-id="{model.model_id}"]').first.click()
    expect(page.get_by_test_id("model-name")).to_have_text(model.name)


def open_chat(page, login_browser, user, model=None) -> None:
    """Signs `user` in and opens the chat page, with `model` (an AIModel) picked when given."""
    login_browser(page, user)
    page.goto("/chat/")
    if model is not None:
        choose_model(page, model)


def ask(page, text: str) -> None:
    """Types `text` into the composer and sends it."""
    page.get_by_test_id("chat-input").fill(text)
    page.get_by_test_id("send").click()
