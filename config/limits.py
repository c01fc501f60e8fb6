"""Request bodies are bounded before anything reads them.

Django's ASGI handler reads the whole body (into memory, then a temporary file) before the first
middleware runs, so a limit checked by a view or by Django's DATA_UPLOAD_MAX_MEMORY_SIZE comes
after the bytes are on our disk: an anonymous 1 GiB POST to the webhook was written out in full
before its 403. This ASGI wrapper answers 413 from the declared Content-Length before reading,
and stops reading a body without one (chunked) as soon as it passes the route's limit.

Caddy enforces the same limits in front of the app (Caddyfile); this one holds wherever the app
is reached from.

A body without a length that passes the limit is read to its end and thrown away before the
413 (within DRAIN_BYTES and DRAIN_SECONDS; nothing is stored): closing a connection with unread
data makes the kernel reset it, and the reset destroyed the 413 before Caddy, still relaying the
body, had read it. The server cannot read after its answer (uvicorn reports the client gone once
the response is complete), so the reading comes first. Caddy's own backstop (Caddyfile) bounds
what it relays; a declared length over the limit is refused at once, before anything is read.
"""

from __future__ import annotations

import asyncio
import json
import time

from django.conf import settings
from django.utils.translation import gettext as _

DRAIN_BYTES = 16 * 1024 * 1024
DRAIN_SECONDS = 10
DRAIN_IDLE_SECONDS = 1


def body_limit(path: str) -> int:
    """The most bytes a request to `path` may send (settings.REQUEST_BODY_LIMITS by prefix)."""
    for prefix, limit in settings.REQUEST_BODY_LIMITS.items():
        if path.startswith(prefix):
            return limit
    return settings.REQUEST_BODY_MAX_BYTES


class BodyLimit:
    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = body_limit(scope["path"])
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None:
            if not declared.isdigit():
                await _refuse(scope, send, 400, _("Некорректный запрос."))
                return
            if int(declared) > limit:
                await _refuse(scope, send, 413, _("Слишком большой запрос."))
                return

        received = 0
        refused = False

        async def bounded_receive():
            nonlocal received, refused
            if refused:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    # Answer now and tell the app the client is gone: Django's handler then
                    # drops the request without a response of its own.
                    refused = True
                    if message.get("more_body"):
                        await _drain(receive)
                    await _refuse(scope, send, 413, _("Слишком большой запрос."))
                    return {"type": "http.disconnect"}
            return message

        async def guarded_send(message) -> None:
            if not refused:
                await send(message)

        await self.app(scope, bounded_receive, guarded_send)


async def _drain(receive) -> None:
    """Reads and discards the rest of the body, within bounds (see the module's doc):
    until the body ends, DRAIN_BYTES were read, DRAIN_SECONDS passed, or a second goes by
    without anything arriving."""
    drained, deadline = 0, time.monotonic() + DRAIN_SECONDS
    while drained < DRAIN_BYTES and (left := deadline - time.monotonic()) > 0:
        try:
            message = await asyncio.wait_for(receive(), timeout=min(left, DRAIN_IDLE_SECONDS))
        except TimeoutError:
            return
        if message["type"] != "http.request" or not message.get("more_body"):
            return
        drained += len(message.get("body", b""))


async def _refuse(scope, send, status: int, detail: str) -> None:
    if scope["path"].startswith("/api/"):
        body, content_type = json.dumps({"detail": detail}, ensure_ascii=False).encode(), b"application/json"
    else:
        body, content_type = detail.encode(), b"text/plain; charset=utf-8"
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", content_type),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
