"""Request bodies are refused past their route's limit before they are read (config/limits.py),
through the real ASGI application under uvicorn."""

from __future__ import annotations

import re
import socket
import time
from urllib.parse import urlsplit

import httpx
import pytest

pytestmark = pytest.mark.django_db(transaction=True)


def raw_request(
    server_url: str, head: bytes, body: bytes = b"", *, timeout: float = 5
) -> tuple[bytes, float]:
    """Sends `head` and `body` on a bare socket; returns the answer (its head and its
    Content-Length's worth of body) and how long it took to come."""
    parts = urlsplit(server_url)
    started = time.monotonic()
    with socket.create_connection((parts.hostname, parts.port), timeout=timeout) as sock:
        sock.sendall(head + body)
        answer = b""
        while b"\r\n\r\n" not in answer:
            answer += sock.recv(65536)
        head_part, _, rest = answer.partition(b"\r\n\r\n")
        length = int(re.search(rb"(?i)content-length: (\d+)", head_part).group(1))
        while len(rest) < length:
            rest += sock.recv(65536)
    return head_part + b"\r\n\r\n" + rest, time.monotonic() - started


def test_a_declared_length_over_the_limit_is_refused_without_waiting_for_the_body(asgi_server):
    # One gibibyte announced, a few bytes sent: the answer comes at once, so nothing waited
    # for (or wrote out) the body.
    head = (
        b"POST /api/payment/webhook HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        b"Content-Length: 1073741824\r\n\r\n"
    )
    answer, took = raw_request(asgi_server.url, head, b'{"a":', timeout=10)
    assert answer.startswith(b"HTTP/1.1 413 ")
    assert answer.endswith('{"detail": "Слишком большой запрос."}'.encode())
    assert took < 5


def test_a_chunked_body_past_the_limit_is_refused_and_never_reaches_the_view(asgi_server, settings):
    # /healthz takes no body; the limit's answer, not the view's, comes back.
    settings.REQUEST_BODY_MAX_BYTES = 100_000

    def body():
        for _ in range(300):
            yield b"x" * 10_000

    response = httpx.post(f"{asgi_server.url}/healthz", content=body(), timeout=10)
    assert response.status_code == 413
    assert response.text == "Слишком большой запрос."


def test_the_upload_route_takes_a_picture_up_to_its_own_limit(asgi_server, settings):
    settings.REQUEST_BODY_MAX_BYTES = 1024
    # Bigger than the general limit, within the upload's: the view answers (401, signed out).
    inside = httpx.post(
        f"{asgi_server.url}/api/upload", files={"file": ("a.png", b"\0" * 100_000, "image/png")}
    )
    assert inside.status_code == 401
    over = httpx.post(
        f"{asgi_server.url}/api/upload",
        files={"file": ("a.png", b"\0" * (settings.MEDIA_UPLOAD_MAX_BYTES + 100_000), "image/png")},
    )
    assert over.status_code == 413


def test_a_body_within_the_limit_reaches_the_view(asgi_server):
    response = httpx.post(f"{asgi_server.url}/api/payment/webhook", json={"event": "x"})
    # Not from YooKassa's addresses: the view refuses it, having read it.
    assert response.status_code == 403
