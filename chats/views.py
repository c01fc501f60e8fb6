"""Chat pages, the chats JSON API and the streamed reply (`POST /api/chats/send`).

The stream is a plain async view: Django's async path with no thread hop before the first
token except the one that places the hold (`services.reply_start`, one transaction); the
reply is recorded and the hold settled after the stream.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from contextlib import aclosing
from decimal import Decimal

import httpx
from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.decorators import api_view, authentication_classes, permission_classes
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.pagination import PageNumberPagination
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response

from chats import openrouter, selectors, services
from chats.models import Chat, Message
from config.threads import in_thread
from media import services as media_services
from media.models import Generation
from media.views import generation_json
from wallets.models import Wallet
from wallets.services import InsufficientFunds

logger = logging.getLogger(__name__)


class _ChatPages(PageNumberPagination):
    page_size = 20


def _chat_json(chat: Chat) -> dict:
    return {
        "id": chat.pk,
        "title": chat.title,
        "model": chat.model,
        "created_at": chat.created_at.isoformat(),
        "updated_at": chat.updated_at.isoformat(),
    }


def _message_json(message: Message) -> dict:
    return {
        "id": message.pk,
        "role": message.role,
        "content": message.content,
        "image_urls": message.image_urls or ([message.image_url] if message.image_url else []),
        "model": message.model,
        "tokens_in": message.tokens_in,
        "tokens_out": message.tokens_out,
        "cost": str(message.cost),
        "status": message.status,
        "created_at": message.created_at.isoformat(),
    }


_CHAT = inline_serializer(
    "Chat",
    {
        "id": serializers.IntegerField(),
        "title": serializers.CharField(),
        "model": serializers.CharField(),
        "created_at": serializers.DateTimeField(),
        "updated_at": serializers.DateTimeField(),
    },
)


def _title(request: Request) -> str:
    title = request.data.get("title", "") if isinstance(request.data, dict) else ""
    if not isinstance(title, str):
        raise ValidationError({"title": [_("Название должно быть строкой.")]})
    return title


# Catalog -----------------------------------------------------------------------------------------
@extend_schema(
    responses=inline_serializer(
        "ModelGroup",
        {
            "name": serializers.CharField(),
            "icon": serializers.CharField(),
            "models": inline_serializer(
                "CatalogModel",
                {
                    "id": serializers.CharField(),
                    "name": serializers.CharField(),
                    "cost_input": serializers.FloatField(),
                    "cost_output": serializers.FloatField(),
                },
                many=True,
            ),
        },
        many=True,
    )
)
@api_view(["GET"])
@authentication_classes([])
@permission_classes([AllowAny])
def models_list(request: Request) -> Response:
    """The enabled models, grouped; prices in USD per 1M tokens (the old AI_MODELS_GROUPS)."""
    return Response(selectors.catalog_groups())


# Chats -------------------------------------------------------------------------------------------
@extend_schema(methods=["GET"], operation_id="chats_list", responses=_CHAT)
@extend_schema(
    methods=["POST"],
    request=inline_serializer(
        "ChatCreate", {"model": serializers.CharField(), "title": serializers.CharField()}
    ),
    responses={201: _CHAT},
)
@api_view(["GET", "POST"])
def chats(request: Request) -> Response:
    """The user's chats, most recently active first (paginated), or a new empty chat."""
    if request.method == "POST":
        model_id = request.data.get("model") if isinstance(request.data, dict) else None
        try:
            chat = services.chat_create(
                user=request.user, model_id=str(model_id or ""), title=_title(request)
            )
        except services.ModelNotFound as exc:
            raise NotFound(_("Такой модели нет.")) from exc
        return Response(_chat_json(chat), status=201)
    paginator = _ChatPages()
    page = paginator.paginate_queryset(selectors.user_chats(user=request.user), request)
    return paginator.get_paginated_response([_chat_json(chat) for chat in page])


@extend_schema(
    methods=["PATCH"],
    request=inline_serializer("ChatRename", {"title": serializers.CharField()}),
    responses=_CHAT,
)
@extend_schema(methods=["GET"], responses=_CHAT)
@extend_schema(methods=["DELETE"], responses={204: None})
@api_view(["GET", "PATCH", "DELETE"])
def chat_detail(request: Request, chat_id: int) -> Response:
    """One of the user's chats: read, rename (`{"title": ...}`) or delete. Others' are 404."""
    chat = selectors.user_chat(user=request.user, chat_id=chat_id)
    if request.method == "DELETE":
        services.chat_delete(chat=chat)
        return Response(status=204)
    if request.method == "PATCH":
        chat = services.chat_rename(chat=chat, title=_title(request))
    return Response(_chat_json(chat))


@extend_schema(
    responses=inline_serializer(
        "ChatMessage",
        {
            "id": serializers.IntegerField(),
            "role": serializers.CharField(),
            "content": serializers.CharField(),
            "image_urls": serializers.ListField(child=serializers.URLField()),
            "model": serializers.CharField(),
            "tokens_in": serializers.IntegerField(),
            "tokens_out": serializers.IntegerField(),
            "cost": serializers.CharField(),
            "status": serializers.CharField(),
            "created_at": serializers.DateTimeField(),
        },
        many=True,
    )
)
@api_view(["GET"])
def chat_messages(request: Request, chat_id: int) -> Response:
    """A chat's messages in order, with each reply's tokens, cost (RUB) and status."""
    chat = selectors.user_chat(user=request.user, chat_id=chat_id)
    return Response([_message_json(message) for message in selectors.chat_messages(chat=chat)])


# The streamed reply ------------------------------------------------------------------------------
def _line(data: dict) -> bytes:
    return json.dumps(data, ensure_ascii=False).encode() + b"\n"


def _error(status: int, detail: str) -> JsonResponse:
    return JsonResponse({"detail": detail}, status=status)


def _failure_text(exc: Exception | None) -> str:
    """What the user reads when the reply failed before any content (None: the model itself
    reported an error)."""
    if isinstance(exc, httpx.TimeoutException):
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


_UPSTREAM_FAILURES = (openrouter.OpenRouterError, httpx.TimeoutException)


class _BadRequest(ValueError):
    pass


def _parse(request: HttpRequest) -> dict:
    try:
        body = json.loads(request.body or b"{}")
    except ValueError as exc:
        raise _BadRequest(_("Тело запроса должно быть JSON.")) from exc
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
    return {"text": text, "model_id": model, "chat_id": chat_id, "image_urls": image_urls}


async def _relay(turn: services.Turn) -> AsyncIterator[bytes]:
    """meta, content…, then balance (or error): each line leaves as soon as it is known."""
    parts: list[str] = []
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
        outcome = services.Outcome(text="".join(parts), stopped=True, generation_id=generation_id)
        await asyncio.shield(in_thread(services.reply_finish)(turn=turn, outcome=outcome))
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
    outcome = services.Outcome(text="".join(parts), usage=usage, error=error, generation_id=generation_id)
    balance = await in_thread(services.reply_finish)(turn=turn, outcome=outcome)
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


def _reply_start(*, request: HttpRequest, **fields) -> services.Turn:
    """Loads the user and starts the reply: one trip to a thread before the first token."""
    if not request.user.is_authenticated:
        raise _SignedOut
    return services.reply_start(user=request.user, **fields)


@require_POST
async def send(request: HttpRequest) -> HttpResponse:
    """`{"message", "model", "chat_id"?, "image_urls"?}` → NDJSON (see DESIGN.md)."""
    signed_out = _error(401, _("Войдите, чтобы писать в чат."))
    # The session is read in the event loop (config.cache); the user is loaded on the thread
    # that starts the reply, where an unknown or stale session still ends in a 401.
    if not await request.session.ahas_key(SESSION_KEY):
        return signed_out
    try:
        fields = _parse(request)
    except _BadRequest as exc:
        return _error(400, str(exc))
    try:
        turn = await in_thread(_reply_start)(request=request, **fields)
    except _SignedOut:
        return signed_out
    except (services.ModelNotFound, services.ChatNotFound):
        return _error(404, _("Чат или модель не найдены."))
    except services.MessageRejected as exc:
        return _error(400, str(exc))
    except InsufficientFunds:
        return _error(402, _("Недостаточно средств: пополните баланс."))
    except services.ModelIsMedia as media:
        # request.user was loaded on the thread above.
        return await _media_reply(user=request.user, model=media.model, fields=fields)
    except services.ChatNotConfigured:
        return _error(503, _("Чат пока не настроен: обратитесь в поддержку."))
    response = StreamingHttpResponse(_relay(turn), content_type="application/x-ndjson")
    response["Cache-Control"] = "no-cache"
    # Proxies must pass each line on at once, not collect the reply.
    response["X-Accel-Buffering"] = "no"
    return response


async def _media_reply(*, user, model, fields: dict) -> JsonResponse:
    """Image and video models answer JSON, not a stream: the generation runs in the background
    and lands on the chat's assistant message (poll `/api/media/generations/<id>`)."""
    try:
        chat, generation = await in_thread(services.media_reply_start)(
            user=user, model=model, text=fields["text"], chat_id=fields["chat_id"]
        )
    except services.ChatNotFound:
        return _error(404, _("Чат или модель не найдены."))
    except media_services.PromptEmpty as exc:
        return _error(400, str(exc))
    except InsufficientFunds:
        return _error(402, _("Недостаточно средств: пополните баланс."))
    body = {"type": "media", "chat_id": chat.pk, "generation": generation_json(generation)}
    if generation.status == Generation.Status.FAILED:
        return JsonResponse({**body, "detail": generation.error}, status=503)
    return JsonResponse(body, status=202)


# Pages -------------------------------------------------------------------------------------------
@login_required
@require_GET
def chat_page(request: HttpRequest) -> HttpResponse:
    """The chat: the old template's variables (name, email, balance, avatar, user_id)."""
    user = request.user
    balance = Wallet.objects.filter(pk=user.pk).values_list("balance", flat=True).first() or Decimal(0)
    return render(
        request,
        "chats/chat.html",
        {
            "name": user.name,
            "email": user.email,
            "balance": int(balance),
            "avatar": user.avatar,
            "user_id": user.casdoor_id,
            "chat_config": {
                "catalog": selectors.catalog_for_page(),
                "balance": str(balance),
                "max_images": settings.CHAT_MAX_IMAGES,
                "max_chars": settings.CHAT_MAX_MESSAGE_CHARS,
                "i18n": {
                    "untitled": _("Без названия"),
                    "per_million": _("₽ за 1M токенов: вход %(input)s / выход %(output)s"),
                    "per_generation": _("%(price)s ₽ за генерацию"),
                    "vision": _("зрение"),
                    "network": _("Нет связи с сервером. Проверьте подключение и попробуйте ещё раз."),
                    "stopped": _("Остановлено"),
                    "cost": _("%(cost)s ₽ · %(tokens_in)s → %(tokens_out)s токенов"),
                    "cost_pending": _("стоимость уточняется"),
                    "rename": _("Новое название чата"),
                    "delete": _("Удалить чат вместе с сообщениями?"),
                    "generating": _("Генерация запущена: результат появится в чате и в галерее."),
                    "you": _("Вы"),
                },
            },
        },
    )


def _of_kind(groups: list[dict], *, chat: bool) -> list[dict]:
    """The groups with only their chat models (or only their media models), empty ones left out."""
    picked = [
        {**group, "models": [model for model in group["models"] if (model["kind"] == "chat") == chat]}
        for group in groups
    ]
    return [group for group in picked if group["models"]]


@require_GET
def pricing(request: HttpRequest) -> HttpResponse:
    """Every enabled model's price in RUB and how stopped and failed replies are billed."""
    groups = selectors.catalog_for_page()
    return render(
        request,
        "chats/pricing.html",
        {
            "chat_groups": _of_kind(groups, chat=True),
            "media_groups": _of_kind(groups, chat=False),
            "min_completion_tokens": settings.CHAT_MIN_COMPLETION_TOKENS,
            "max_completion_tokens": settings.CHAT_MAX_COMPLETION_TOKENS,
        },
    )
