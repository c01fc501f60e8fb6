"""The legal footer: offer, privacy policy and contacts on every page; the seller's details from
settings; each text replaceable by the operator's own template."""

import re

import pytest
from django.urls import reverse

from tests.helpers import run_python

pytestmark = pytest.mark.django_db

FOOTER_LINKS = {"footer-offer": "/offer/", "footer-privacy": "/privacy/", "footer-contacts": "/contacts/"}


def footer_links(html: str) -> dict[str, str]:
    return {
        testid: href
        for href, testid in re.findall(r'<a href="([^"]+)"[^>]*data-testid="(footer-[a-z]+)"', html)
    }


@pytest.mark.parametrize(
    "url_name", ["home", "account_login", "pricing", "legal_offer", "legal_privacy", "legal_contacts"]
)
def test_every_public_page_has_the_legal_footer(client, url_name):
    assert footer_links(client.get(reverse(url_name)).content.decode()) == FOOTER_LINKS


@pytest.mark.parametrize(
    "url_name", ["chat", "profile", "wallet_statement", "usersessions_list", "topup", "media_gallery"]
)
def test_every_signed_in_page_has_the_legal_footer(alice_client, url_name):
    assert footer_links(alice_client.get(reverse(url_name)).content.decode()) == FOOTER_LINKS


def test_the_pages_show_the_seller_from_settings(client, settings):
    settings.LEGAL_ENTITY = "ИП Иванов Иван Иванович"
    settings.LEGAL_INN = "771234567890"
    settings.SUPPORT_EMAIL = "help@example.ru"
    settings.SUPPORT_PHONE = "+7 900 000-00-00"

    contacts = client.get(reverse("legal_contacts")).content.decode()
    offer = client.get(reverse("legal_offer")).content.decode()

    for page in (contacts, offer):
        assert "ИП Иванов Иван Иванович" in page
        assert "771234567890" in page
        assert 'href="mailto:help@example.ru"' in page
    assert 'href="tel:+7900000-00-00"' in contacts
    assert "© " in contacts and "ИП Иванов Иван Иванович</span>" in contacts


def test_without_a_seller_the_pages_say_so_instead_of_empty_fields(client, settings):
    settings.LEGAL_ENTITY = ""
    page = client.get(reverse("legal_offer")).content.decode()
    assert 'data-testid="legal-seller-missing"' in page
    assert 'data-testid="legal-seller"' not in page


def test_an_operator_replaces_a_text_with_their_own_template(client, settings, tmp_path):
    (tmp_path / "legal").mkdir()
    (tmp_path / "legal" / "offer.html").write_text(
        '{% extends "legal/base.html" %}{% block legal_text %}Наша собственная оферта{% endblock %}',
        encoding="utf-8",
    )
    settings.TEMPLATES = [
        {**settings.TEMPLATES[0], "DIRS": [tmp_path, *settings.TEMPLATES[0]["DIRS"]]},
    ]

    offer = client.get(reverse("legal_offer")).content.decode()
    privacy = client.get(reverse("legal_privacy")).content.decode()

    assert "Наша собственная оферта" in offer
    assert "Предмет" not in offer
    assert "Какие данные мы получаем" in privacy


def test_the_override_folder_is_searched_before_the_shipped_templates(tmp_path):
    (tmp_path / "legal").mkdir()
    (tmp_path / "legal" / "contacts.html").write_text("Свои контакты", encoding="utf-8")
    script = (
        "import django; django.setup(); from django.template.loader import render_to_string; "
        "print(render_to_string('legal/contacts.html'))"
    )
    done = run_python("-c", script, TEMPLATE_OVERRIDES_DIR=str(tmp_path))
    assert done.stdout.strip() == "Свои контакты", done.stderr
