"""API texts are Russian first and English when English is chosen (Accept-Language, or the
language the user picked on the site); locale/en holds the English."""

from __future__ import annotations

import re
import uuid

import pytest
from django.utils import translation

from tests.helpers import ROOT

pytestmark = pytest.mark.django_db

PO = ROOT / "locale" / "en" / "LC_MESSAGES" / "django.po"


def po_entries() -> list[tuple[str, str]]:
    text = PO.read_text(encoding="utf-8")
    pairs = re.findall(r'^msgid "(.+)"\nmsgstr "(.+)"$', text, flags=re.MULTILINE)
    unescape = lambda s: s.replace('\\"', '"').replace("\\\\", "\\")  # noqa: E731
    return [(unescape(msgid), unescape(msgstr)) for msgid, msgstr in pairs]


def test_the_compiled_catalog_matches_its_source():
    # django.mo is committed (no gettext at build time): rebuild it with
    # `msgfmt -o locale/en/LC_MESSAGES/django.mo locale/en/LC_MESSAGES/django.po`.
    entries = po_entries()
    assert len(entries) > 50
    with translation.override("en"):
        assert [(msgid, translation.gettext(msgid)) for msgid, _ in entries] == entries


def test_api_errors_answer_in_english_when_asked(alice_client):
    english = {"HTTP_ACCEPT_LANGUAGE": "en"}

    refused = alice_client.post(
        "/api/chats", data=b'{"title": "a\\u0000"}', content_type="application/json", **english
    )
    missing = alice_client.get(f"/api/media/generations/{uuid.uuid4()}", **english)

    assert refused.json() == {"detail": "Text cannot contain the null character (\\u0000)."}
    assert missing.json() == {"detail": "Not found."}


def test_russian_is_the_default(alice_client):
    assert alice_client.get(f"/api/media/generations/{uuid.uuid4()}").json() == {"detail": "Не найдено."}


def test_a_signed_out_answer_is_english_too(client):
    response = client.get("/api/wallet", HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 401
    assert response.json()["detail"] == "Authentication credentials were not provided."
