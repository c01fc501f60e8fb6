"""Schemathesis against the live app: every operation of the OpenAPI schema (the chat stream and
the YooKassa webhook included), signed in and signed out, all checks, a fixed number of
derandomized examples; no server error and no answer the schema does not describe.

The app runs as production serves it (uvicorn, config.asgi); the outside world is the fakes
(OpenRouter, YooKassa, Fal), so money-moving calls are exercised, not skipped.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.utils.crypto import get_random_string

from tests.helpers import fund, session_key_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.timeout(900)]

# Per operation and phase; the two runs fit in about two minutes on two cores.
MAX_EXAMPLES = int(os.environ.get("SCHEMATHESIS_MAX_EXAMPLES", "20"))
ST = Path(sys.executable).with_name("st")
# Schemathesis' defaults for a schema-valid request, plus 400 where the schema cannot say what
# the server checks: that an upload is a decodable picture; that a message's images are the
# sender's own uploads (and the model takes images); and, in the free-form parts of a body (the
# stream's and the webhook's extra fields, which YooKassa's objects have many of), the input
# policy's NUL, surrogates and numbers past 2**63.
VALID_BUT_REFUSED = ["2xx", "3xx", "400", "401", "403", "404", "409", "429", "5xx"]
CONFIG = """
{auth}

[[operations]]
include-path = "/api/upload"
checks.positive_data_acceptance.expected-statuses = {statuses}

[[operations]]
include-path = "/api/chats/send"
checks.positive_data_acceptance.expected-statuses = {statuses}

[[operations]]
include-path = "/api/payment/webhook"
checks.positive_data_acceptance.expected-statuses = {statuses}
"""
AUTH = """
[auth.openapi.sessionAuth]
api_key = "{session}"
[auth.openapi.csrfCookie]
api_key = "{csrf}"
[auth.openapi.csrfHeader]
api_key = "{csrf}"
"""


@pytest.fixture
def generous_limits(settings):
    # Schemathesis sends hundreds of requests a minute: the limits have their own tests.
    settings.RATE_LIMITS = dict.fromkeys(settings.RATE_LIMITS, "100000/m")
    settings.PAYMENTS_MAX_PENDING = 100000
    settings.MEDIA_UPLOAD_QUOTA_BYTES = 10**12


def schemathesis(url: str, workdir: Path, name: str, auth: str = "") -> tuple[int, str]:
    config = workdir / f"{name}.toml"
    config.write_text(CONFIG.format(auth=auth, statuses=str(VALID_BUT_REFUSED).replace("'", '"')))
    command = [
        str(ST),
        "--config-file",
        str(config),
        "run",
        f"{url}/api/schema/",
        "--checks",
        "all",
        "--max-examples",
        str(MAX_EXAMPLES),
        "--generation-deterministic",
        "--workers",
        "1",
        "--no-color",
        "--request-timeout",
        "30",
        "--report",
        "junit",
        "--report-junit-path",
        str(workdir / f"{name}.xml"),
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=800, cwd=workdir)
    return done.returncode, done.stdout + done.stderr


def counts(output: str) -> str:
    """The summary's figures: cases generated, failures found."""
    found = re.findall(r"^\s*(\d+ generated.*|Failures:|  ❌ .*)$", output, flags=re.MULTILINE)
    return "; ".join(found)


def test_schemathesis_finds_nothing_signed_in_or_out(
    asgi_server,
    alice,
    chat_model,
    image_model,
    openrouter,
    yookassa,
    fal,
    generous_limits,
    settings,
    tmp_path,
):
    settings.MEDIA_ROOT = tmp_path / "media"
    # The webhook is reached from YooKassa's addresses only: the fake's calls come from here.
    settings.YOOKASSA_WEBHOOK_IPS = ["127.0.0.1"]
    fund(alice, "100000.00")
    auth = AUTH.format(session=session_key_for(alice), csrf=get_random_string(32))
    assert django_settings.SESSION_COOKIE_NAME and django_settings.CSRF_COOKIE_NAME

    signed_in = schemathesis(asgi_server.url, tmp_path, "signed-in", auth)
    signed_out = schemathesis(asgi_server.url, tmp_path, "signed-out")

    print(f"signed in: {counts(signed_in[1])}\nsigned out: {counts(signed_out[1])}")
    assert signed_in[0] == 0, signed_in[1]
    assert signed_out[0] == 0, signed_out[1]
