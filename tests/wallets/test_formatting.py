"""One money format everywhere: `1 467,19 ₽` in Russian, `₽1,467.19` in English, written by
wallets.formatting on the server and by http.js's formatMoney in the browser, alike."""

from decimal import Decimal

import pytest
from django.conf import settings
from django.urls import reverse

from tests.helpers import fund
from wallets.formatting import format_money

NBSP = "\xa0"


@pytest.mark.parametrize(
    "amount,language,sign,text",
    [
        ("1467.19", "ru", False, f"1{NBSP}467,19{NBSP}₽"),
        ("1467.19", "en", False, "₽1,467.19"),
        ("0", "ru", False, f"0,00{NBSP}₽"),
        ("0", "en", True, "₽0.00"),
        ("5", "ru", True, f"+5,00{NBSP}₽"),
        ("-1234567.5", "ru", True, f"-1{NBSP}234{NBSP}567,50{NBSP}₽"),
        ("-1234567.5", "en", False, "-₽1,234,567.50"),
        ("0.005", "en", False, "₽0.01"),
        (Decimal("999.999"), "ru", False, f"1{NBSP}000,00{NBSP}₽"),
        (12, "en-us", False, "₽12.00"),
    ],
)
def test_an_amount_is_written_the_way_its_readers_language_writes_money(amount, language, sign, text):
    assert format_money(amount, sign=sign, language=language) == text


@pytest.mark.django_db
@pytest.mark.parametrize(
    "language,balance,signed",
    [("ru", f"1{NBSP}467,19{NBSP}₽", f"+1{NBSP}467,19{NBSP}₽"), ("en", "₽1,467.19", "+₽1,467.19")],
)
def test_the_profile_statement_and_header_write_the_balance_alike(
    alice, alice_client, language, balance, signed
):
    fund(alice, "1467.19")
    alice_client.cookies[settings.LANGUAGE_COOKIE_NAME] = language

    profile = alice_client.get(reverse("profile")).content.decode()
    statement = alice_client.get(reverse("wallet_statement")).content.decode()

    assert f'data-testid="profile-balance">{balance}<' in profile
    assert f'data-testid="header-balance-amount">{balance}<' in profile
    assert f">{signed}</span>" in statement
    assert f'data-testid="entry-balance-after">{balance}<' in statement


@pytest.mark.django_db
@pytest.mark.parametrize(
    "language,per_million,context",
    [("ru", f"13{NBSP}500,00{NBSP}₽", f"100{NBSP}000"), ("en", "₽13,500.00", "100,000")],
)
def test_the_pricing_page_writes_prices_as_money_and_context_sizes_grouped(
    client, chat_model, chat_settings, language, per_million, context
):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language

    page = client.get(reverse("pricing")).content.decode()

    assert f">{per_million}</td>" in page
    assert f">{context}</td>" in page
    assert ">100000<" not in page


@pytest.mark.browser
def test_the_browser_writes_money_exactly_as_the_server_does(browser_page, asgi_server):
    amounts = ["1467.19", "0", "-1234567.5", "0.5", "100000"]
    page = browser_page
    for language in ("ru", "en"):
        page.context.add_cookies(
            [{"name": settings.LANGUAGE_COOKIE_NAME, "value": language, "url": asgi_server.url}]
        )
        page.goto("/")
        written = page.evaluate(
            "(amounts) => amounts.flatMap((a) => [window.http.formatMoney(a), window.http.formatMoney(a, {sign: true})])",
            amounts,
        )
        expected = [
            format_money(amount, sign=sign, language=language) for amount in amounts for sign in (False, True)
        ]
        assert written == expected
