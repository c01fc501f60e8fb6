"""The mails a person gets: the site's name in each, a sign-in code called a sign-in code and a
sign-up code a sign-up code, a plain-text and an HTML part, in the reader's language."""

import pytest
from allauth.account.models import EmailAddress
from django.core import mail

from tests.helpers import code_from_outbox, request_code

pytestmark = pytest.mark.django_db


def html_of(message) -> str:
    [(html, mimetype)] = message.alternatives
    assert mimetype == "text/html"
    return html


def test_a_sign_in_code_mail_names_the_site_and_calls_the_code_a_sign_in_code(client, commit, alice):
    EmailAddress.objects.create(user=alice, email=alice.email, verified=True, primary=True)

    request_code(client, alice.email, commit)

    [message] = mail.outbox
    code = code_from_outbox(alice.email)
    assert message.subject == "Нейросети: Код для входа"
    assert "Ваш код для входа на сайт «Нейросети»" in message.body
    assert "Это письмо отправил сайт «Нейросети»: " in message.body
    assert "регистрац" not in message.body.lower()
    assert "приветствует !" not in message.body
    html = html_of(message)
    assert code in html
    assert "Ваш код для входа на сайт «Нейросети»" in html
    assert "<!DOCTYPE html>" in html


def test_a_sign_up_code_mail_says_it_finishes_a_sign_up(client, commit):
    request_code(client, "new@example.com", commit)

    [message] = mail.outbox
    code = code_from_outbox("new@example.com")
    assert message.subject == "Нейросети: Код для регистрации"
    assert "Чтобы закончить регистрацию на сайте «Нейросети»" in message.body
    assert code in html_of(message)
    assert "«Нейросети»" in html_of(message)


def test_the_site_name_comes_from_the_setting(client, commit, settings):
    settings.SITE_NAME = "Мой ИИ"
    settings.SITE_URL = "https://ai.example.ru"

    request_code(client, "new@example.com", commit)

    [message] = mail.outbox
    assert message.subject == "Мой ИИ: Код для регистрации"
    assert "Это письмо отправил сайт «Мой ИИ»: https://ai.example.ru" in message.body
    assert 'href="https://ai.example.ru"' in html_of(message)
    assert "Нейросети" not in message.body + html_of(message)


def test_a_mail_we_wrote_no_html_for_still_has_an_html_part_in_our_frame(rf, commit):
    from allauth.account.adapter import get_adapter
    from allauth.core.context import request_context

    request = rf.get("/")
    with request_context(request), commit(execute=True):
        get_adapter(request).send_mail(
            "account/email/unknown_account", "who@example.com", {"request": request}
        )

    [message] = mail.outbox
    html = html_of(message)
    assert message.subject.startswith("Нейросети: ")
    assert "Здравствуйте!" in message.body
    assert "Это письмо отправил сайт «Нейросети»" in message.body
    assert "<!DOCTYPE html>" in html
    assert html.count("Здравствуйте!") == 1
    assert "who@example.com" in html
