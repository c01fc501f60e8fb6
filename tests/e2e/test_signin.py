import pytest
from allauth.account.models import EmailAddress
from django.core import mail

from tests.helpers import code_from_outbox

pytestmark = pytest.mark.browser


def test_from_the_landing_page_a_user_signs_in_with_an_emailed_code_and_signs_out(browser_page, make_user):
    alice = make_user("email_alice", email="alice@example.com", name="Алиса Иванова")
    EmailAddress.objects.create(user=alice, email=alice.email, verified=True, primary=True)
    page = browser_page

    page.goto("/")
    page.get_by_test_id("cta").click()
    page.wait_for_url("**/accounts/login/**")
    form = page.get_by_test_id("email-sign-in")
    form.locator("input[name=email]").fill("alice@example.com")
    form.locator("button[type=submit]").click()

    page.wait_for_url("**/accounts/login/code/confirm/")
    code_input = page.locator("input[name=code]")
    code_input.fill(code_from_outbox("alice@example.com"))
    code_input.press("Enter")

    page.wait_for_url("**/profile/")
    assert page.get_by_test_id("profile-name").inner_text() == "Алиса Иванова"
    assert page.get_by_test_id("profile-email").inner_text() == "alice@example.com"
    assert page.get_by_test_id("profile-balance").inner_text().startswith("0")

    page.get_by_test_id("sign-out").click()
    page.get_by_test_id("landing").wait_for()
    assert page.get_by_test_id("sign-out").count() == 0
    page.goto("/profile/")
    page.wait_for_url("**/accounts/login/?next=/profile/")
    assert len(mail.outbox) == 1
    assert page.console_errors == []
    assert page.external_requests == []


def test_a_new_email_signs_up_with_a_code_in_the_browser_and_lands_on_the_profile(browser_page):
    page = browser_page
    page.goto("/accounts/login/")
    page.locator("input[name=email]").fill("newcomer@example.com")
    page.get_by_test_id("email-sign-in").locator("button[type=submit]").click()
    code_input = page.locator("input[name=code]")
    code_input.fill(code_from_outbox("newcomer@example.com"))
    code_input.press("Enter")
    page.wait_for_url("**/profile/")
    assert page.get_by_test_id("profile-email").inner_text() == "newcomer@example.com"
    assert page.get_by_test_id("profile-casdoor-id").inner_text().startswith("email_")
    assert page.console_errors == []
