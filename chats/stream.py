"""`POST /api/chats/send`: the streamed reply, a plain async view (not DRF), documented here and in
DESIGN.md rather than in the OpenAPI schema.

`{"message", "model", "chat_id"?, "image_urls"?}` → `application/x-ndjson`, one object a line:
`{"type": "meta", "chat_id": N}` first, `{"type": "content", "text": "…"}` chunks, then
`{"type": "balance", "balance": 99.5}`, or `{"type": "error", "text": "…"}` on failure.
Before any stream, JSON: 400 bad input, 401 signed out, 402 balance too low, 404 unknown chat or
model, 503 chat not configured. An image or video model answers JSON instead of a stream:
`{"type": "media", "chat_id", "generation"}` with 202 (503 with `detail` when the job could not
be submitted).

Django's async path with no thread hop before the first token except the one that loads the
user and places the hold (`services.reply_start`, one transaction); the reply is recorded and
the hold settled after the stream. config/stream.py serves this view with a short middleware
chain that stays in the event loop.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from contextlib import aclosing

import orjson
from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from catalog.models import AIModel
from chats import openrouter, services
from chats.prompt import MessageRejected
from config.api import throttle_for, throttled_detail
from config.input import InputRejected, json_loads
from config.threads import in_thread
from media import services as media_services
from media.models import Generation
from media.serializers import GenerationSerializer
from wallets.services import InsufficientFunds

logger = logging.getLogger(__name__)

SIGNED_OUT = gettext_lazy("Войдите, чтобы писать в чат.")
NOT_FOUND = gettext_lazy("Чат или модель не найдены.")
NOT_CONFIGURED = gettext_lazy("Чат пока не настроен: обратитесь в поддержку.")
# What stops a reply before its stream, and the answer each gets (None: the exception's own text).
_REFUSALS: dict[type[Exception], tuple[int, object]] = {
    services.ModelNotFound: (404, NOT_FOUND),
    services.ChatNotFound: (404, NOT_FOUND),
    MessageRejected: (400, None),
    media_services.PromptEmpty: (400, None),
    InsufficientFunds: (402, InsufficientFunds.message),
    services.ChatNotConfigured: (503, NOT_CONFIGURED),
}
_REFUSED = tuple(_REFUSALS)


def _error(status: int, detail) -> JsonResponse:
    return JsonResponse({"detail": str(detail)}, status=status)


def _refusal(exc: Exception) -> JsonResponse:
    status, detail = next(answer for kind, answer in _REFUSALS.items() if isinstance(exc, kind))
    return _error(status, detail if detail is not None else exc)


def _line(data: dict) -> bytes:
    return orjson.dumps(data) + b"\n"


def _failure_text(exc: Exception | None) -> str:
    """What the user reads when the reply failed before any content (None: the model itself
    reported an error)."""
    if isinstance(exc, openrouter.UpstreamTimeout):
        return _("Модель не ответила вовремя. Деньги не списаны, попробуйте ещё раз.")
    status = getattr(exc, "status", 502) if exc is not None else 502
    if status is None:
        return _("Не удалось связаться с сервисом моделей. Деньги не списаны, попробуйте позже.")
    if status == 429:
        return _("Модель сейчас перегружена. Деньги не списаны, повторите через минуту.")
    if status in (400, 413, 422):
        return _(
            "Модель не приняла запрос. Деньги не списаны: сократите сообщение или выберите другую модель."
        )
    if status in (401, 402, 403):
        return _("Сервис моделей временно недоступен. Деньги не списаны, мы уже разбираемся.")
    return _("Модель сейчас недоступна. Деньги не списаны: попробуйте ещё раз или выберите другую модель.")


_UPSTREAM_FAILURES = (openrouter.OpenRouterError,)


class _BadRequest(ValueError):
    pass


def _parse(request: HttpRequest) -> dict:
    try:
        body = json_loads(request.body or b"{}")
    except InputRejected as exc:
        raise _BadRequest(str(exc)) from exc
    if not isinstance(body, dict):
        raise _BadRequest(_("Тело запроса должно быть JSON-объектом."))
    text = body.get("message")
    model = body.get("model")
    chat_id = body.get("chat_id")
    image_urls = body.get("image_urls") or []
    if not isinstance(text, str) or not text.strip():
        raise _BadRequest(_("Напишите сообщение."))
    if len(text) > settings.CHAT_MAX_MESSAGE_CHARS:
        raise _BadRequest(
            _("Сообщение слишком длинное: не больше %(limit)s символов.")
            % {"limit": settings.CHAT_MAX_MESSAGE_CHARS}
        )
    if not isinstance(model, str) or not model:
        raise _BadRequest(_("Выберите модель."))
    if chat_id is not None and (isinstance(chat_id, bool) or not isinstance(chat_id, int)):
        raise _BadRequest(_("Некорректный chat_id."))
    if not isinstance(image_urls, list) or not all(isinstance(url, str) for url in image_urls):
        raise _BadRequest(_("image_urls должен быть списком адресов."))
    if len(image_urls) > settings.CHAT_MAX_IMAGES:
        raise _BadRequest(
            _("Не больше %(limit)s изображений в сообщении.") % {"limit": settings.CHAT_MAX_IMAGES}
        )
    return {
        "text": text,
        "model_id": model,
        "chat_id": chat_id,
        "image_urls": image_urls,
        "resend_from": body.get("resend_from"),
    }


class _Progress:
    """Crash recovery (chats.services): the generation id goes on the reply before its first
    content is relayed, and the text so far is saved in the cache every heartbeat."""

    def __init__(self, message_id: int):
        self.message_id = message_id
        self.generation_id = ""
        # The first save waits a heartbeat: a reply that ends sooner needs none.
        self.next_save = time.monotonic() + settings.CHAT_REPLY_HEARTBEAT_SECONDS

    async def note(self, generation_id: str, parts: list[str]) -> None:
        if generation_id and not self.generation_id:
            self.generation_id = generation_id
            await in_thread(services.reply_record_generation)(
                message_id=self.message_id, generation_id=generation_id
            )
        now = time.monotonic()
        if now < self.next_save:
            return
        self.next_save = now + settings.CHAT_REPLY_HEARTBEAT_SECONDS
        try:
            await cache.aset(
                services.reply_progress_key(self.message_id),
                services.reply_progress(text="".join(parts)),
                timeout=services.reply_progress_timeout(),
            )
        except Exception:
            # The reply itself goes on; only its crash recovery is less precise.
            logger.warning("Reply %s: progress not saved", self.message_id, exc_info=True)


async def _relay(turn: services.Turn) -> AsyncIterator[bytes]:
    """meta, content…, then balance (or error): each line leaves as soon as it is known."""
    parts: list[str] = []
    progress = _Progress(turn.message_id)
    usage = None
    error = ""
    failure: Exception | None = None
    generation_id = ""
    try:
        yield _line({"type": "meta", "chat_id": turn.chat_id})
        async with openrouter.chat_stream(
            model=turn.model_id, messages=turn.messages, max_tokens=turn.max_tokens
        ) as stream:
            generation_id = stream.generation_id
            async with aclosing(stream.batches()) as batches:
                async for batch in batches:
                    await progress.note(stream.generation_id, parts)
                    lines = []
                    for event in batch:
                        if isinstance(event, openrouter.Delta):
                            parts.append(event.text)
                            lines.append(_line({"type": "content", "text": event.text}))
                        else:
                            usage, error = event.usage, event.error or ""
                    if lines:
                        # Deltas that arrived in one read leave in one write.
                        yield b"".join(lines)
            generation_id = stream.generation_id
    except (asyncio.CancelledError, GeneratorExit):
        # The browser went away or pressed stop: leaving `chat_stream` closed the upstream
        # connection, which stops the generation. Keep what was generated and bill it. The
        # record is shielded so a second cancellation cannot lose it.
        end = services.StreamEnd(text="".join(parts), stopped=True, generation_id=generation_id)
        await asyncio.shield(in_thread(services.reply_finish)(turn=turn, end=end))
        raise
    except Exception as exc:
        # Whatever went wrong (a bug included), the reply is recorded and the hold closed
        # below instead of staying open until it expires.
        expected = isinstance(exc, _UPSTREAM_FAILURES)
        logger.log(
            logging.WARNING if expected else logging.ERROR,
            "Reply %s failed: %r",
            turn.message_id,
            exc,
            exc_info=not expected,
        )
        error, failure = str(exc) or type(exc).__name__, exc
    end = services.StreamEnd(text="".join(parts), usage=usage, error=error, generation_id=generation_id)
    balance = await in_thread(services.reply_finish)(turn=turn, end=end)
    if error and parts:
        logger.warning("Reply %s broke off: %s", turn.message_id, error)
        text = _("Ответ прервался из-за ошибки модели. Списана стоимость только полученной части.")
        yield _line({"type": "error", "text": text})
    elif error:
        yield _line({"type": "error", "text": _failure_text(failure)})
    elif balance is not None:
        yield _line({"type": "balance", "balance": float(balance)})


class _SignedOut(Exception):
    pass


class _Throttled(Exception):
    def __init__(self, wait: float | None):
        self.wait = wait


_SendThrottle = throttle_for("chat_send")


def _reply_start(*, request: HttpRequest, **fields) -> services.Turn:
    """Loads the user, checks the send limit (`RATE_LIMITS["chat_send"]`, the API's throttle)
    and starts the reply: one trip to a thread before the first token."""
    if not request.user.is_authenticated:
        raise _SignedOut
    throttle = _SendThrottle()
    if not throttle.allow_request(request, None):
        raise _Throttled(throttle.wait())
    return services.reply_start(user=request.user, **fields)


def _media_reply(*, user, model: AIModel, fields: dict) -> JsonResponse:
    """Image and video models answer JSON, not a stream: the generation runs in the background
    and lands on the chat's assistant message (poll `/api/media/generations/<id>`). Runs on a
    thread: it writes, and the generation's shape reads the database."""
    try:
        chat, generation, _answer = services.media_reply_start(
            user=user, model=model, text=fields["text"], chat_id=fields["chat_id"]
        )
    except _REFUSED as exc:
        return _refusal(exc)
    body = {"type": "media", "chat_id": chat.pk, "generation": GenerationSerializer(generation).data}
    if generation.status == Generation.Status.FAILED:
        return JsonResponse({**body, "detail": generation.error}, status=503)
    return JsonResponse(body, status=202)


@require_POST
async def send(request: HttpRequest) -> HttpResponse:
    """`{"message", "model", "chat_id"?, "image_urls"?}` → NDJSON (see the module docstring)."""
    # The session is read in the event loop (config.cache); the user is loaded on the thread
    # that starts the reply, where an unknown or stale session still ends in a 401.
    if not await request.session.ahas_key(SESSION_KEY):
        return _error(401, SIGNED_OUT)
    try:
        fields = _parse(request)
    except _BadRequest as exc:
        return _error(400, exc)
    try:
        turn = await in_thread(_reply_start)(request=request, **fields)
    except _SignedOut:
        return _error(401, SIGNED_OUT)
    except _Throttled as exc:
        response = _error(429, throttled_detail(exc.wait))
        response["Retry-After"] = str(max(1, round(exc.wait or 1)))
        return response
    except services.ModelIsMedia as media:
        # request.user was loaded on the thread above.
        return await in_thread(_media_reply)(user=request.user, model=media.model, fields=fields)
    except _REFUSED as exc:
        return _refusal(exc)
    response = StreamingHttpResponse(_relay(turn), content_type="application/x-ndjson")
    response["Cache-Control"] = "no-cache"
    # Proxies must pass each line on at once, not collect the reply.
    response["X-Accel-Buffering"] = "no"
    return response
