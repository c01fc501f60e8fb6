"""The OpenRouter client: streamed chat completions, generation stats, the model list.

Streaming reads with aiohttp: one pooled `aiohttp.ClientSession` per event loop (connections
are reused across replies; a session cannot be shared between loops), with bounded connect and
read timeouts. httpx's pure-Python HTTP/1.1 parser cost ~0.15 ms of CPU per relayed chunk;
aiohttp's C parser a tenth of that (README, "Relay CPU"). Events are decoded with orjson and
SSE lines split on bytes.
OpenRouter speaks OpenAI-style SSE: `data: {...}` events, `: OPENROUTER PROCESSING` comment
lines while it waits for the model, `data: [DONE]` at the end. Usage (`prompt_tokens`,
`completion_tokens`, `cost`) comes in the last event; an error after the stream started comes
as an event with `error` and `finish_reason: "error"` under HTTP 200.

The generation stats and the model list are read by a Celery task and a command, with a plain
`httpx.Client` and the same timeouts.
"""

from __future__ import annotations

import asyncio
import json
import weakref
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import aiohttp
import httpx
import orjson
from django.conf import settings


class OpenRouterError(Exception):
    """OpenRouter refused or could not be reached; `status` is its HTTP status, if any."""

    def __init__(self, message: str, *, status: int | None = None):
        super().__init__(message)
        self.status = status


class UpstreamTimeout(OpenRouterError):
    """No connection, or no byte of the reply, within OPENROUTER_CONNECT_TIMEOUT /
    OPENROUTER_READ_TIMEOUT."""


class GenerationNotReady(OpenRouterError):
    """OpenRouter has no stats for the generation yet (they appear shortly after it ends)."""


@dataclass(frozen=True)
class Usage:
    prompt_tokens: int
    completion_tokens: int
    # What OpenRouter charged us, USD (kept for the record; we bill by the catalog's prices).
    cost: float | None = None


@dataclass(frozen=True)
class Delta:
    text: str


@dataclass(frozen=True)
class Finish:
    """The end of the stream: usage if OpenRouter sent it, an error if the model failed."""

    usage: Usage | None
    error: str | None = None
    reason: str | None = None


def is_configured() -> bool:
    return bool(settings.OPENROUTER_API_KEY)


def _timeout() -> httpx.Timeout:
    return httpx.Timeout(
        connect=settings.OPENROUTER_CONNECT_TIMEOUT,
        read=settings.OPENROUTER_READ_TIMEOUT,
        write=settings.OPENROUTER_CONNECT_TIMEOUT,
        pool=settings.OPENROUTER_CONNECT_TIMEOUT,
    )


def _headers() -> dict[str, str]:
    return {
        "Authorization": f"Bearer {settings.OPENROUTER_API_KEY}",
        # OpenRouter's app attribution (X-Title is left out: header values must be ASCII).
        "HTTP-Referer": settings.SITE_URL,
    }


_sessions: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, aiohttp.ClientSession] = (
    weakref.WeakKeyDictionary()
)


def _session() -> aiohttp.ClientSession:
    loop = asyncio.get_running_loop()
    session = _sessions.get(loop)
    if session is None or session.closed:
        timeout = aiohttp.ClientTimeout(
            total=None,
            connect=settings.OPENROUTER_CONNECT_TIMEOUT,
            sock_connect=settings.OPENROUTER_CONNECT_TIMEOUT,
            sock_read=settings.OPENROUTER_READ_TIMEOUT,
        )
        connector = aiohttp.TCPConnector(
            limit=settings.OPENROUTER_MAX_CONNECTIONS, ttl_dns_cache=300, enable_cleanup_closed=True
        )
        session = _sessions[loop] = aiohttp.ClientSession(
            connector=connector, timeout=timeout, auto_decompress=False, raise_for_status=False
        )
    return session


async def sessions_close() -> None:
    """Closes this loop's pooled session (the ASGI lifespan's shutdown)."""
    session = _sessions.pop(asyncio.get_running_loop(), None)
    if session is not None:
        await session.close()


def _error_text(body: bytes) -> str:
    try:
        error = json.loads(body)["error"]
        return str(error.get("message") or error) if isinstance(error, dict) else str(error)
    except (ValueError, KeyError, TypeError):
        return body[:200].decode("utf-8", "replace")


class _Events:
    """OpenRouter's SSE body, parsed as it is fed: complete lines become events."""

    def __init__(self, stream: ChatStream):
        self.stream = stream
        self.pending = b""
        self.usage: Usage | None = None
        self.reason: str | None = None
        self.done = False  # `data: [DONE]` seen
        self.failed = False  # an error event ended the stream

    def feed(self, data: bytes, *, last: bool = False) -> list[Delta | Finish]:
        *lines, self.pending = (self.pending + data).split(b"\n")
        if last and self.pending:
            lines.append(self.pending)
        events: list[Delta | Finish] = []
        for line in lines:
            line = line.rstrip(b"\r")
            if not line.startswith(b"data:"):
                continue  # blank separators and ": OPENROUTER PROCESSING" comments
            data = line[5:].strip()
            if data == b"[DONE]":
                # Read on to the end of the body (the chunked terminator follows at once), so
                # the connection goes back to the pool instead of being closed.
                self.done = True
                continue
            event = orjson.loads(data)
            self.stream.generation_id = self.stream.generation_id or event.get("id", "")
            if event.get("usage"):
                self.usage = Usage(
                    prompt_tokens=int(event["usage"].get("prompt_tokens") or 0),
                    completion_tokens=int(event["usage"].get("completion_tokens") or 0),
                    cost=event["usage"].get("cost"),
                )
            choice = (event.get("choices") or [{}])[0]
            self.reason = choice.get("finish_reason") or self.reason
            if event.get("error") or self.reason == "error":
                error = event.get("error") or {}
                message = error.get("message") if isinstance(error, dict) else str(error)
                self.failed = True
                events.append(Finish(usage=self.usage, error=message or "error", reason="error"))
                return events
            text = (choice.get("delta") or {}).get("content")
            if text:
                events.append(Delta(text))
        return events

    def end(self) -> Finish:
        if self.done:
            return Finish(usage=self.usage, reason=self.reason)
        return Finish(usage=self.usage, error="stream ended without [DONE]", reason="error")


class ChatStream:
    """An open streamed completion. Iterate `batches()`; leaving `chat_stream` closes it."""

    def __init__(self, response: aiohttp.ClientResponse):
        self.response = response
        self.generation_id = response.headers.get("X-Generation-Id", "")

    async def batches(self) -> AsyncIterator[list[Delta | Finish]]:
        """The events of each read from the connection, as soon as it arrives: content deltas,
        and last one `Finish`. Events that arrived together come out together (so the relay
        writes them in one go when it fell behind); none waits for a later read. A read with
        no event (a `: OPENROUTER PROCESSING` comment while the model thinks) comes out as an
        empty list: the relay's sign of life (chats.services, crash recovery).

        A stream that ends without its usage or `[DONE]` (the connection dropped) ends with
        `Finish(usage=None, error=...)`; a read timeout raises `UpstreamTimeout`.
        """
        events = _Events(self)
        try:
            async for data in self.response.content.iter_any():
                yield events.feed(data)
                if events.failed:
                    return
            batch = events.feed(b"", last=True)
            if batch:
                yield batch
            if events.failed:
                return
        except TimeoutError as exc:
            raise UpstreamTimeout(f"OpenRouter went silent: {exc!r}") from exc
        except aiohttp.ClientError as exc:
            # The connection dropped or the chunked body broke off. aiohttp raises that before
            # handing over what it had already received (the events sent just before the
            # drop, which OpenRouter bills and the user should see): those come first.
            batch = events.feed(_unread(self.response.content), last=True)
            if batch:
                yield batch
            if events.failed:
                return
            if not events.done:
                yield [Finish(usage=events.usage, error=f"connection lost: {exc!r}", reason="error")]
                return
        yield [events.end()]


def _unread(content: aiohttp.StreamReader) -> bytes:
    """The body bytes aiohttp received but did not hand over before its error (its reads raise
    a stored error first). Read from its buffer: aiohttp offers no public way to them."""
    buffer = getattr(content, "_buffer", None)
    if not buffer:
        return b""
    return b"".join(buffer)[getattr(content, "_buffer_offset", 0) :]


@asynccontextmanager
async def chat_stream(*, model: str, messages: list[dict], max_tokens: int) -> AsyncIterator[ChatStream]:
    """Opens `POST /chat/completions` with `stream: true`.

    Raises:
        OpenRouterError: HTTP error status, or the request could not be sent.
        UpstreamTimeout: no connection or no first byte within the timeouts.
    """
    body = {
        "model": model,
        "messages": messages,
        "max_tokens": max_tokens,
        "stream": True,
        # Ask for usage in the last event (OpenRouter sends it anyway; OpenAI-compatible).
        "stream_options": {"include_usage": True},
        "usage": {"include": True},
    }
    try:
        response = await _session().post(
            f"{settings.OPENROUTER_BASE_URL}/chat/completions",
            data=orjson.dumps(body),
            headers={**_headers(), "Content-Type": "application/json"},
        )
    except TimeoutError as exc:
        raise UpstreamTimeout(f"OpenRouter did not answer in time: {exc!r}") from exc
    except aiohttp.ClientError as exc:
        raise OpenRouterError(f"could not reach OpenRouter: {exc!r}") from exc
    try:
        if response.status != 200:
            try:
                error_body = await response.read()
            except (TimeoutError, aiohttp.ClientError):
                error_body = b""
            raise OpenRouterError(_error_text(error_body), status=response.status)
        yield ChatStream(response)
    finally:
        if response.content.at_eof():
            # Read to its end: the connection goes back to the pool.
            response.release()
        else:
            # Closing before the end drops the connection: OpenRouter stops the generation.
            response.close()


def generation_stats(generation_id: str) -> Usage:
    """OpenRouter's own record of a finished generation (tokens and cost).

    Raises:
        GenerationNotReady: not recorded yet (404), try again shortly.
        OpenRouterError: any other failure, an answer that is not the record included.
    """
    try:
        response = httpx.get(
            f"{settings.OPENROUTER_BASE_URL}/generation",
            params={"id": generation_id},
            headers=_headers(),
            timeout=_timeout(),
        )
    except httpx.HTTPError as exc:
        raise OpenRouterError(f"could not reach OpenRouter: {exc!r}") from exc
    if response.status_code == 404:
        raise GenerationNotReady("generation stats not ready", status=404)
    if response.status_code != 200:
        raise OpenRouterError(_error_text(response.content), status=response.status_code)
    data = _json_field(response, "data", dict)
    # `tokens_*` are normalised counts; `native_tokens_*` are the model's own tokenizer's, which
    # is what the provider bills and what the catalog's per-token prices refer to.
    try:
        prompt_tokens = _count(data.get("native_tokens_prompt") or data.get("tokens_prompt"))
        completion_tokens = _count(data.get("native_tokens_completion") or data.get("tokens_completion"))
    except (TypeError, ValueError) as exc:
        raise OpenRouterError(f"the generation record has no usable token counts: {exc}", status=200) from exc
    cost = data.get("total_cost")
    return Usage(
        prompt_tokens=prompt_tokens,
        completion_tokens=completion_tokens,
        cost=cost if isinstance(cost, int | float) and not isinstance(cost, bool) else None,
    )


def _count(value) -> int:
    """A token count: a non-negative whole number (0 when OpenRouter leaves it out)."""
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise TypeError(f"{value!r} is not a number")
    count = int(value)
    if count < 0 or count != float(value):
        raise ValueError(f"{value!r} is not a token count")
    return count


def _json_field(response: httpx.Response, name: str, kind: type):
    """`response`'s JSON object's `name`, of type `kind`; anything else (an HTML maintenance
    page under 200, a body of another shape) is an OpenRouterError like a failed call."""
    try:
        body = response.json()
    except ValueError as exc:
        raise OpenRouterError("the answer is not JSON", status=response.status_code) from exc
    value = body.get(name) if isinstance(body, dict) else None
    if not isinstance(value, kind):
        raise OpenRouterError(f"the answer has no {name!r} {kind.__name__}", status=response.status_code)
    return value


def list_models() -> list[dict]:
    """`GET /models`: every model OpenRouter offers, with USD-per-token prices as strings.

    Raises:
        OpenRouterError: unreachable, refused, or an answer that is not the list of models.
    """
    try:
        response = httpx.get(f"{settings.OPENROUTER_BASE_URL}/models", headers=_headers(), timeout=_timeout())
        response.raise_for_status()
    except httpx.HTTPError as exc:
        raise OpenRouterError(f"could not list OpenRouter models: {exc!r}") from exc
    return [model for model in _json_field(response, "data", list) if isinstance(model, dict)]
