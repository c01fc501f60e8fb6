"""Test helpers for sign-in flows (no fakes of our own code: they drive the real views)."""

from __future__ import annotations

import re

from django.core import mail
from django.urls import reverse

CODE_LINE = re.compile(r"^[A-Z0-9]{3,}(?:-[A-Z0-9]{3,})*$")


def code_from_outbox(email: str) -> str:
    """The code in the last message sent to `email`."""
    message = next(m for m in reversed(mail.outbox) if email in m.to)
    codes = [line.strip() for line in message.body.splitlines() if CODE_LINE.match(line.strip())]
    assert codes, message.body
    return codes[-1]


def request_code(client, email: str, commit):
    """Posts the sign-in form; `commit` is pytest-django's django_capture_on_commit_callbacks,
    so the mail task queued on commit runs as it would after a real commit."""
    with commit(execute=True):
        return client.post(reverse("email_sign_in"), {"email": email})


def sign_in_by_email(client, email: str, commit):
    """Requests a code for `email`, reads it from the outbox and confirms it."""
    response = request_code(client, email, commit)
    assert response.status_code == 302, response.content
    with commit(execute=True):
        return client.post(response["Location"], {"code": code_from_outbox(email)})
