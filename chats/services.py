"""Chats and the billing of replies.

A reply is paid through a hold (`wallets.services`):

1. `reply_start` (one transaction, before any byte goes upstream) checks the model and the
   chat, stores the user's message and a pending assistant message, and reserves money: the
   prompt's estimated cost plus a completion budget. The budget (`max_tokens` sent upstream) is
   cut to what the available balance can pay, so a reply can never cost more than its hold and
   the wallet never goes below zero, whatever runs in parallel. Too little for
   CHAT_MIN_COMPLETION_TOKENS is `InsufficientFunds` (402).
2. `reply_finish` (after the stream) settles the hold with the usage OpenRouter reported, at
   the prices in `chats.pricing`, never more than the hold. An upstream failure before any
   content releases the hold: no charge. A reply that ended without usage (stopped, connection
   lost, error mid-stream) is kept as `partial` and settled later by a task from OpenRouter's
   own record of the generation, or, if that never comes, from an estimate of the streamed
   text (`reply_settle_from_generation`, `reply_settle_estimated`).

3. Crash recovery: before the first content is relayed the reply records OpenRouter's generation
   id (`reply_record_generation`), and while it streams it saves its progress (the text so far,
   with the time) in the cache every CHAT_REPLY_HEARTBEAT_SECONDS. If the server dies mid-reply
   the reply stays `pending` and its progress goes stale: `replies_sweep` (Celery beat, every
   minute) finds it past CHAT_REPLY_GRACE_SECONDS, keeps the saved text, marks it `interrupted`
   and settles the hold from OpenRouter's record of the generation (the same task as a stopped
   reply, with its retries and estimate), or releases it when the upstream never started.

The hold's reference is `msg:<assistant message id>`, which its ledger entry keeps, with the
chat, the model and its display name in the metadata (the statement shows them).

An image or video model chosen in the chat is not streamed: `media_reply_start` hands the
prompt to the media service and keeps a message pointing at the generation.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from catalog import selectors as catalog
from catalog.models import AIModel
from chats import openrouter, prompt, tasks
from chats.models import Chat, Message
from chats.pricing import estimate_tokens, reply_cost, token_price
from media import services as media_services
from media.models import Generation
from wallets import selectors as wallets
from wallets.models import KOPECK, Hold
from wallets.services import InsufficientFunds, hold_place, hold_release, hold_settle, round_up_to_kopeck

logger = logging.getLogger(__name__)

TITLE_LENGTH = 60
# The most pending replies one sweep looks at (a crash leaves at most a server's open streams).
SWEEP_BATCH = 1000


class ModelNotFound(Exception):
    """No enabled catalog model has this id."""


class ChatNotFound(Exception):
    """No chat with this id belongs to the user."""


class ChatNotConfigured(Exception):
    """OPENROUTER_API_KEY is not set: chat models cannot answer (media models still can)."""


class ModelIsMedia(Exception):
    """The model generates images or video: the media service serves it, not the stream."""

    def __init__(self, model: AIModel):
        super().__init__(model.model_id)
        self.model = model


@dataclass
class Turn:
    """A reply in progress: what to send upstream and which hold pays for it."""

    user_id: int
    chat_id: int
    message_id: int
    model_id: str
    model_name: str
    cost_input: Decimal
    cost_output: Decimal
    messages: list[dict]
    prompt_tokens: int
    max_tokens: int
    hold_reference: str
    chat_created: bool = False


@dataclass(frozen=True)
class StreamEnd:
    """How a reply's stream ended, as the stream view saw it."""

    text: str
    usage: openrouter.Usage | None = None
    # A message for the log when the reply failed (upstream error, timeout, lost connection).
    error: str = ""
    # The user stopped it or went away.
    stopped: bool = False
    generation_id: str = ""


def _reserve(*, turn: Turn, context_length: int) -> Hold:
    """Places the turn's hold, cutting its completion budget to what the wallet can pay."""
    prompt_cost = turn.prompt_tokens * token_price(turn.cost_input)
    out_price = token_price(turn.cost_output)
    max_tokens = min(settings.CHAT_MAX_COMPLETION_TOKENS, context_length - turn.prompt_tokens)
    metadata = {
        "chat_id": turn.chat_id,
        "model": turn.model_id,
        "model_name": turn.model_name,
        "cost_input": str(turn.cost_input),
        "cost_output": str(turn.cost_output),
        "prompt_tokens": turn.prompt_tokens,
    }
    # Parallel replies race for the same money; each attempt re-reads what is left.
    for _attempt in range(3):
        if max_tokens < settings.CHAT_MIN_COMPLETION_TOKENS:
            break
        amount = max(round_up_to_kopeck(prompt_cost + max_tokens * out_price), KOPECK)
        try:
            hold = hold_place(
                user=turn.user_id,
                amount=amount,
                reference=turn.hold_reference,
                description=_("Ответ модели %(model)s") % {"model": turn.model_id},
                metadata={**metadata, "max_tokens": max_tokens},
            )
        except InsufficientFunds:
            available = wallets.available_of(user_id=turn.user_id)
            if out_price > 0:
                max_tokens = min(max_tokens, math.floor((available - prompt_cost) / out_price))
            elif available < KOPECK:
                break
            continue
        turn.max_tokens = max_tokens
        return hold
    raise InsufficientFunds


@transaction.atomic
def reply_start(
    *, user, model_id: str, text: str, chat_id: int | None = None, image_urls: Sequence[str] = ()
) -> Turn:
    """Stores the user's message and reserves the reply's cost; see the module docstring.

    Raises:
        ModelNotFound: unknown or disabled model.
        ModelIsMedia: an image or video model (the caller dispatches to `media_reply_start`).
        ChatNotConfigured: no OpenRouter key, so no chat model can answer.
        ChatNotFound: `chat_id` is not one of the user's chats.
        prompt.MessageRejected: too long for the model, or images for a model that cannot see them.
        InsufficientFunds: the available balance cannot pay for a minimal reply.
    """
    model = catalog.enabled_model(model_id=model_id)
    if model is None:
        raise ModelNotFound(model_id)
    if model.is_media:
        raise ModelIsMedia(model)
    if not openrouter.is_configured():
        raise ChatNotConfigured
    if image_urls and not model.supports_vision:
        raise prompt.MessageRejected(
            _("Эта модель не понимает изображения: выберите модель с пометкой «зрение».")
        )
    # Only the user's own uploads go upstream: the provider fetches each URL, and it must not
    # be pointed at arbitrary addresses (or at somebody else's pictures) through us.
    if not all(media_services.upload_url_is_owned(user=user, url=url) for url in image_urls):
        raise prompt.MessageRejected(_("Прикладывать можно только свои изображения, загруженные через сайт."))
    if chat_id is None:
        chat = Chat.objects.create(user=user, model=model.model_id, title=text.strip()[:TITLE_LENGTH])
        history: list[dict] = []
    else:
        chat = Chat.objects.filter(pk=chat_id, user=user).first()
        if chat is None:
            raise ChatNotFound(chat_id)
        history = prompt.history(chat, vision=model.supports_vision)
    question = Message(
        chat=chat,
        role=Message.Role.USER,
        content=text,
        image_url=image_urls[0] if image_urls else "",
        image_urls=list(image_urls),
        model=model.model_id,
    )
    messages, prompt_tokens = prompt.trim_to_context(
        history, prompt.payload(question, vision=model.supports_vision), context_length=model.context_length
    )
    answer = Message(
        chat=chat, role=Message.Role.ASSISTANT, model=model.model_id, status=Message.Status.PENDING
    )
    # One INSERT for both (the stream's first token waits on this transaction).
    Message.objects.bulk_create([question, answer])
    turn = Turn(
        user_id=user.pk,
        chat_id=chat.pk,
        message_id=answer.pk,
        model_id=model.model_id,
        model_name=model.name,
        cost_input=model.cost_input,
        cost_output=model.cost_output,
        messages=messages,
        prompt_tokens=prompt_tokens,
        max_tokens=0,
        hold_reference=f"msg:{answer.pk}",
        chat_created=chat_id is None,
    )
    # Last, so the wallet row is locked only for the moment before the commit.
    _reserve(turn=turn, context_length=model.context_length)
    return turn


def _settle(
    *,
    message_id: int,
    hold_reference: str,
    prices: tuple[Decimal, Decimal],
    usage: openrouter.Usage,
    fields: dict,
) -> Hold:
    """Charges `usage` at `prices` (USD per 1M in, out) from the hold and records it on the reply."""
    cost = reply_cost(
        cost_input=prices[0],
        cost_output=prices[1],
        tokens_in=usage.prompt_tokens,
        tokens_out=usage.completion_tokens,
    )
    hold = hold_settle(
        reference=hold_reference,
        amount=cost,
        metadata={"tokens_in": usage.prompt_tokens, "tokens_out": usage.completion_tokens},
    )
    Message.objects.filter(pk=message_id).update(
        tokens_in=usage.prompt_tokens,
        tokens_out=usage.completion_tokens,
        cost=hold.charged or Decimal(0),
        **fields,
    )
    return hold


def reply_finish(*, turn: Turn, end: StreamEnd) -> Decimal | None:
    """Records the reply and settles its hold; returns the wallet's balance afterwards.

    Returns None when nothing was charged because the reply failed before any content. A reply
    that ended without usage is settled by a task from OpenRouter's record of the generation;
    the balance returned then still holds its reservation (the live balance follows).
    """
    now = timezone.now()
    with transaction.atomic():
        Chat.objects.filter(pk=turn.chat_id).update(updated_at=now)
        failed_early = end.error and not end.text
        if failed_early or (end.stopped and not end.text and not end.generation_id):
            # Nothing was delivered: the provider does not bill a failed request, and one
            # stopped before it even started cannot be looked up.
            hold_release(reference=turn.hold_reference)
            status = Message.Status.ERROR if failed_early else Message.Status.PARTIAL
            Message.objects.filter(pk=turn.message_id).update(status=status, error=end.error)
            return None
        status = Message.Status.PARTIAL if end.stopped or end.error else Message.Status.COMPLETE
        fields = {"content": end.text, "status": status, "error": end.error}
        if end.usage is not None:
            hold = _settle(
                message_id=turn.message_id,
                hold_reference=turn.hold_reference,
                prices=(turn.cost_input, turn.cost_output),
                usage=end.usage,
                fields=fields,
            )
            # The charge's ledger entry already knows the balance it left.
            return hold.entry.balance_after if hold.entry else wallets.balance_of(user_id=turn.user_id)
        Message.objects.filter(pk=turn.message_id).update(
            tokens_in=turn.prompt_tokens, tokens_out=estimate_tokens(end.text), **fields
        )
        if end.generation_id:
            transaction.on_commit(
                lambda: tasks.reply_settle_from_generation.delay(turn.message_id, end.generation_id)
            )
        else:
            reply_settle_estimated(message_id=turn.message_id)
    return wallets.balance_of(user_id=turn.user_id)


# Crash recovery --------------------------------------------------------------------------------
def reply_progress_key(message_id: int) -> str:
    """The cache key of a streaming reply's progress: `{"text": …, "at": unix time}`."""
    return f"chats:reply-progress:{message_id}"


def reply_progress(*, text: str) -> dict:
    return {"text": text, "at": time.time()}


def reply_progress_timeout() -> int:
    """How long a reply's saved progress is kept: past the grace and the next sweeps."""
    return int(settings.CHAT_REPLY_GRACE_SECONDS) + 15 * 60


def reply_record_generation(*, message_id: int, generation_id: str) -> None:
    """Notes OpenRouter's generation id on the pending reply (one UPDATE), so that a reply whose
    server dies can still be billed from OpenRouter's record of it."""
    Message.objects.filter(pk=message_id, status=Message.Status.PENDING).update(
        upstream_generation_id=generation_id[: Message._meta.get_field("upstream_generation_id").max_length]
    )


def replies_sweep(*, now: float | None = None) -> int:
    """Finishes replies whose server stopped mid-stream; returns how many it finished.

    A reply is abandoned when it is still `pending` and neither it started nor its progress
    moved within CHAT_REPLY_GRACE_SECONDS (see the module docstring). Image and video replies
    are pending while their generation runs and are not this sweep's.
    """
    now = time.time() if now is None else now
    stale_before = now - settings.CHAT_REPLY_GRACE_SECONDS
    pending = list(
        Message.objects.filter(
            role=Message.Role.ASSISTANT,
            status=Message.Status.PENDING,
            generation__isnull=True,
            created_at__lt=datetime.fromtimestamp(stale_before, tz=UTC),
        )
        .order_by("created_at")
        .values_list("pk", flat=True)[:SWEEP_BATCH]
    )
    if not pending:
        return 0
    progress = cache.get_many([reply_progress_key(pk) for pk in pending])
    swept = 0
    for message_id in pending:
        saved = progress.get(reply_progress_key(message_id))
        if saved is not None and saved["at"] >= stale_before:
            continue  # still streaming
        swept += reply_interrupt(message_id=message_id, text=saved["text"] if saved else "")
    return swept


def reply_interrupt(*, message_id: int, text: str) -> bool:
    """Marks a reply whose server stopped as `interrupted` with `text` (what was received) and
    closes its hold: charged by OpenRouter's record of the generation (a task, retried, then an
    estimate of `text`), or released if the upstream never started. False when the reply was
    no longer pending (it finished, or another sweep got there first)."""
    with transaction.atomic():
        # Claim by update: whoever moves it out of `pending` finishes it, exactly once.
        claimed = Message.objects.filter(pk=message_id, status=Message.Status.PENDING).update(
            status=Message.Status.INTERRUPTED,
            content=text,
            tokens_out=estimate_tokens(text),
            error="server stopped mid-reply",
        )
        if claimed != 1:
            return False
        generation_id = Message.objects.values_list("upstream_generation_id", flat=True).get(pk=message_id)
        reference = f"msg:{message_id}"
        if not Hold.objects.filter(reference=reference, status=Hold.Status.OPEN).exists():
            pass  # closed already (its TTL ran out): nothing left to bill
        elif generation_id:
            transaction.on_commit(lambda: tasks.reply_settle_from_generation.delay(message_id, generation_id))
        elif text:
            reply_settle_estimated(message_id=message_id)
        else:
            hold_release(reference=reference)
    logger.warning(
        "Reply %s interrupted (generation %r, %s characters kept)", message_id, generation_id, len(text)
    )
    return True


def reply_settle(*, message_id: int, usage: openrouter.Usage) -> Hold:
    """Settles a reply's hold from `usage`, at the prices the hold recorded; idempotent."""
    reference = f"msg:{message_id}"
    with transaction.atomic():
        hold = Hold.objects.select_for_update().get(reference=reference)
        if hold.status != Hold.Status.OPEN:
            return hold  # settled already, or expired and released
        prices = (Decimal(hold.metadata["cost_input"]), Decimal(hold.metadata["cost_output"]))
        return _settle(message_id=message_id, hold_reference=reference, prices=prices, usage=usage, fields={})


def reply_settle_from_generation(*, message_id: int, generation_id: str) -> Hold:
    """Settles a reply that ended without usage by OpenRouter's record of its generation.

    Raises:
        openrouter.OpenRouterError: no record yet (`GenerationNotReady`) or OpenRouter cannot be
            asked; the task retries, then settles by `reply_settle_estimated`.
    """
    return reply_settle(message_id=message_id, usage=openrouter.generation_stats(generation_id))


def reply_settle_estimated(*, message_id: int) -> Hold:
    """Settles from the estimated prompt and the streamed text, when OpenRouter has no record."""
    message = Message.objects.get(pk=message_id)
    hold = Hold.objects.get(reference=f"msg:{message_id}")
    usage = openrouter.Usage(
        prompt_tokens=int(hold.metadata.get("prompt_tokens", 0)),
        completion_tokens=estimate_tokens(message.content),
    )
    return reply_settle(message_id=message_id, usage=usage)


def media_reply_start(
    *, user, model: AIModel, text: str, chat_id: int | None = None
) -> tuple[Chat, Generation, Message]:
    """An image or video model chosen in the chat: the media service generates, the chat keeps
    the prompt and an assistant message pointing at the generation (chats.receivers puts the
    result on it when the job finishes). Returns the chat, the generation and that message.

    Raises:
        ChatNotFound: `chat_id` is not one of the user's chats.
        media.services.PromptEmpty, InsufficientFunds: nothing was started (nothing is kept).
    """
    with transaction.atomic():
        if chat_id is None:
            chat = Chat.objects.create(user=user, model=model.model_id, title=text.strip()[:TITLE_LENGTH])
        else:
            chat = Chat.objects.filter(pk=chat_id, user=user).first()
            if chat is None:
                raise ChatNotFound(chat_id)
        question = Message.objects.create(
            chat=chat, role=Message.Role.USER, content=text, model=model.model_id
        )
    answer = Message(
        chat=chat, role=Message.Role.ASSISTANT, model=model.model_id, status=Message.Status.PENDING
    )

    def attach(generation: Generation) -> None:
        answer.generation = generation
        answer.save()

    # Committed first: the media service calls Fal outside any transaction.
    try:
        generation = media_services.generation_start(user=user, model=model, prompt=text, on_created=attach)
    except Exception:
        question.delete()
        if chat_id is None:
            chat.delete()
        raise
    return chat, generation, answer


# Chats -----------------------------------------------------------------------------------------
def chat_create(*, user, model_id: str, title: str = "") -> Chat:
    """An empty chat with an enabled model.

    Raises:
        ModelNotFound: unknown or disabled model.
    """
    if catalog.enabled_model(model_id=model_id) is None:
        raise ModelNotFound(model_id)
    return Chat.objects.create(
        user=user, model=model_id, title=title.strip()[: Chat._meta.get_field("title").max_length]
    )


def chat_rename(*, chat: Chat, title: str) -> Chat:
    chat.title = title.strip()[: Chat._meta.get_field("title").max_length]
    chat.save(update_fields=["title", "updated_at"])
    return chat


def chat_delete(*, chat: Chat) -> None:
    # Charges stay in the ledger (their metadata keeps the chat id); the messages go.
    chat.delete()
