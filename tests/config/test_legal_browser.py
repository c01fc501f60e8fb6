import pytest

from tests.helpers import ROOT

pytestmark = pytest.mark.browser

SCREENSHOTS = ROOT / "screenshots"


@pytest.mark.parametrize("width,height", [(390, 844), (1440, 900)])
def test_the_footer_links_fit_the_screen_and_open_the_offer(browser_page, settings, width, height):
    settings.LEGAL_ENTITY = "ООО «Нейросети»"
    settings.LEGAL_INN = "7701234567"
    settings.SUPPORT_EMAIL = "help@example.ru"
    page = browser_page
    page.set_viewport_size({"width": width, "height": height})
    page.goto("/")
    footer = page.get_by_test_id("site-footer")
    footer.scroll_into_view_if_needed()
    for link in ("footer-offer", "footer-privacy", "footer-contacts"):
        box = page.get_by_test_id(link).bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= width

    page.get_by_test_id("footer-offer").click()
    page.wait_for_url("**/offer/")
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    assert "ООО «Нейросети»" in page.get_by_test_id("legal-seller").inner_text()
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=SCREENSHOTS / f"offer-{width}.png", full_page=True)
