"""A bare Django relay, for scale in bench/chat_relay.py: what Django alone costs on this machine.

One async view streams the fake OpenRouter's completion back as NDJSON content lines through
httpx (one shared AsyncClient), with startproject's default middleware and nothing else: no
session or user loaded, no database, no billing. The issue that asked for the relay quotes such
a relay's figures; the bench runs this one in the same run as ours, so the two compare on the
same machine and load.

    uvicorn bench.bare_relay:application    (UPSTREAM_URL=http://127.0.0.1:PORT/api/v1)
"""

from __future__ import annotations

import json
import os

import django
import httpx
from django.conf import settings

settings.configure(
    DEBUG=False,
    SECRET_KEY="bare-relay-" + os.urandom(8).hex(),
    ALLOWED_HOSTS=["*"],
    ROOT_URLCONF=__name__,
    INSTALLED_APPS=[
        "django.contrib.auth",
        "django.contrib.contenttypes",
        "django.contrib.sessions",
        "django.contrib.messages",
    ],
    MIDDLEWARE=[
        "django.middleware.security.SecurityMiddleware",
        "django.contrib.sessions.middleware.SessionMiddleware",
        "django.middleware.common.CommonMiddleware",
        "django.middleware.csrf.CsrfViewMiddleware",
        "django.contrib.auth.middleware.AuthenticationMiddleware",
        "django.contrib.messages.middleware.MessageMiddleware",
        "django.middleware.clickjacking.XFrameOptionsMiddleware",
    ],
    DATABASES={},
)
django.setup()

from django.core.asgi import get_asgi_application  # noqa: E402
from django.http import StreamingHttpResponse  # noqa: E402
from django.urls import path  # noqa: E402
from django.views.decorators.csrf import csrf_exempt  # noqa: E402

UPSTREAM = os.environ["UPSTREAM_URL"]
client = httpx.AsyncClient(timeout=httpx.Timeout(10), limits=httpx.Limits(max_connections=1000))


@csrf_exempt
async def send(request):
    body = {"model": "bench/relay", "messages": [{"role": "user", "content": "Hi"}], "stream": True}

    async def relay():
        yield b'{"type": "meta", "chat_id": 0}\n'
        async with client.stream("POST", f"{UPSTREAM}/chat/completions", json=body) as response:
            async for line in response.aiter_lines():
                if not line.startswith("data:") or line == "data: [DONE]":
                    continue
                delta = (json.loads(line[5:])["choices"] or [{}])[0].get("delta") or {}
                if delta.get("content"):
                    yield json.dumps({"type": "content", "text": delta["content"]}).encode() + b"\n"
        yield b'{"type": "balance", "balance": 0}\n'

    return StreamingHttpResponse(relay(), content_type="application/x-ndjson")


urlpatterns = [path("api/chats/send", send)]
application = get_asgi_application()
