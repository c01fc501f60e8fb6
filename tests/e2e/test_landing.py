import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def test_the_landing_page_renders_styled_with_alpine_running_and_nothing_external(browser_page):
    page = browser_page
    page.goto("/")
    cta = page.get_by_test_id("cta")
    assert cta.is_visible()
    # Tailwind's classes applied: the call to action has the indigo background from app.css.
    assert cta.evaluate("el => getComputedStyle(el).backgroundColor") == "rgb(79, 70, 229)"
    # Alpine ran: the feature cards are rendered from an x-for template.
    expect(page.locator('[x-text="feature.title"]')).to_have_count(3)
    assert "Чат с 50+ моделями" in page.content()
    # Phosphor's icon font loaded, from our own origin.
    page.evaluate("document.fonts.ready")
    assert page.evaluate("document.fonts.check('16px Phosphor')") is True
    assert page.failed_responses == []
    assert page.console_errors == []
    assert page.external_requests == []


def test_a_missing_page_in_the_browser_is_the_styled_404(browser_page):
    response = browser_page.goto("/no-such-page")
    assert response.status == 404
    assert browser_page.get_by_test_id("error-page").is_visible()
    assert browser_page.failed_responses == [f"404 {browser_page.url}"]


def test_the_api_docs_render_from_our_own_files(browser_page):
    page = browser_page
    page.goto("/api/docs/")
    # Swagger UI ran (its script is ours, loaded under the CSP) and read the schema.
    page.wait_for_selector(".swagger-ui .info .title")
    assert "Balance service API" in page.locator(".swagger-ui .info .title").inner_text()
    assert page.console_errors == []
    assert page.external_requests == []
