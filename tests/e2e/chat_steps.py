"""Steps the chat's browser tests share."""

from __future__ import annotations

from playwright.sync_api import expect


def choose_model(page, model) -> None:
    """Picks `model` (an AIModel) in the chat's model picker by searching for its name."""
    page.get_by_test_id("model-picker").click()
    page.get_by_test_id("model-search").fill(model.name)
    page.locator(f'[data-testid=model-option][data-id="{model.model_id}"]').first.click()
    expect(page.get_by_test_id("model-name")).to_have_text(model.name)
