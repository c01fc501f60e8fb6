"""English: every string we wrote has a translation, and the main pages in English show no
Cyrillic of ours (what users or the operator wrote, such as the site's name, may be Russian)."""

import re
from decimal import Decimal

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import translation

from tests.helpers import ROOT, fund
from wallets.models import Hold, LedgerEntry

CYRILLIC = re.compile(r"[\u0400-\u04ff][\u0400-\u04ff\s.,:;!?«»()\-–—0-9]*")


def po_entries(path) -> list[dict]:
    """A .po file's entries as {msgid, msgid_plural, msgstr…} (enough of the format for ours)."""
    entries, entry, key = [], {}, None
    for line in [*path.read_text(encoding="utf-8").splitlines(), ""]:
        match = re.match(r'^(msgid|msgid_plural|msgstr(?:\[\d\])?) "(.*)"$', line)
        if match:
            key = match.group(1)
            entry[key] = match.group(2)
        elif line.startswith('"') and key:
            entry[key] += line[1:-1]
        elif not line.strip() and entry:
            entries.append(entry)
            entry, key = {}, None
    return [e for e in entries if e.get("msgid")]


def test_every_string_we_wrote_has_an_english_translation():
    untranslated = [
        e["msgid"]
        for e in po_entries(ROOT / "locale/en/LC_MESSAGES/django.po")
        if not all(value for key, value in e.items() if key.startswith("msgstr"))
    ]
    assert untranslated == []
    # A guess of msgmerge's is not used by Django until someone checks it.
    assert "#, fuzzy" not in (ROOT / "locale/en/LC_MESSAGES/django.po").read_text(encoding="utf-8")


def test_every_russian_plural_of_ours_has_its_three_forms():
    english_plurals = {
        e["msgid"] for e in po_entries(ROOT / "locale/en/LC_MESSAGES/django.po") if "msgid_plural" in e
    }
    russian = {e["msgid"]: e for e in po_entries(ROOT / "locale/ru/LC_MESSAGES/django.po")}
    for msgid in english_plurals:
        assert all(russian[msgid].get(f"msgstr[{i}]") for i in range(3)), msgid


def cyrillic_of_ours(html: str) -> list[str]:
    """Cyrillic left on a page, less the language switch's «Русский» (named in itself) and the
    operator's site name."""
    html = re.sub(r'<button[^>]*lang="ru"[^>]*>.*?</button>', "", html, flags=re.S)
    html = html.replace(settings.SITE_NAME, "")
    return [html[max(0, m.start() - 60) : m.end() + 20].replace("\n", " ") for m in CYRILLIC.finditer(html)]


@pytest.fixture
def alice_with_history(alice, chat_model, chat_settings, settings):
    """Alice with money, a chat with a reply, a top-up and a pending hold: the pages show rows.
    Written while English is active, as her own requests would: what is stored stays Russian."""
    from chats import openrouter, services
    from payments.models import Payment
    from wallets.services import wallet_credit

    settings.OPENROUTER_API_KEY = "key"
    with translation.override("en"):
        fund(alice, "1000")
        wallet_credit(
            user=alice,
            amount=Decimal("467.19"),
            reference="yookassa:1",
            description="Пополнение через ЮKassa",
        )
        turn = services.reply_start(user=alice, model_id=chat_model.model_id, text="Hello")
        services.reply_finish(turn=turn, end=services.StreamEnd(text="Hi", usage=openrouter.Usage(20, 4)))
        services.reply_start(user=alice, model_id=chat_model.model_id, text="Again")
        Payment.objects.create(
            user=alice, amount=Decimal("500"), yookassa_payment_id="p-1", status="succeeded"
        )
    return alice


MAIN_PAGES = [
    "home",
    "chat",
    "profile",
    "wallet_statement",
    "usersessions_list",
    "topup",
    "payment_history",
    "media_gallery",
    "pricing",
    "legal_contacts",
]


@pytest.mark.django_db
@pytest.mark.parametrize("url_name", MAIN_PAGES)
def test_a_signed_in_page_in_english_shows_no_russian_of_ours(client, alice_with_history, url_name):
    client.force_login(alice_with_history)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    response = client.get(reverse(url_name))
    assert response.status_code == 200
    assert cyrillic_of_ours(response.content.decode()) == []


@pytest.mark.django_db
@pytest.mark.parametrize("url_name", ["home", "account_login", "pricing", "legal_offer"])
def test_a_signed_out_page_in_english_shows_no_russian_of_ours(client, providers, url_name):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    html = client.get(reverse(url_name)).content.decode()
    if url_name == "legal_offer":
        # The documents themselves are Russian only (the page says so); their frame is not.
        html = re.sub(r'data-testid="legal-language-note".*?</article>', "", html, flags=re.S)
    assert cyrillic_of_ours(html) == []


@pytest.mark.django_db
def test_the_statement_in_english_translates_what_was_stored_in_russian(client, alice_with_history):
    client.force_login(alice_with_history)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    page = client.get(reverse("wallet_statement")).content.decode()
    assert "Top-up via YooKassa" in page
    assert page.count("Chat message") == 2  # the reply charged and the one still held
    assert LedgerEntry.objects.filter(description="Пополнение через ЮKassa").exists()
    assert Hold.objects.filter(description="Ответ модели Pricey").exists()


@pytest.mark.django_db
def test_the_sign_in_code_mail_in_english(client, commit, settings):
    from django.core import mail

    from tests.helpers import request_code

    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    request_code(client, "new@example.com", commit)

    [message] = mail.outbox
    assert message.subject == f"{settings.SITE_NAME}: Sign-up code"
    assert cyrillic_of_ours(message.body) == []
    assert cyrillic_of_ours(message.alternatives[0][0]) == []
