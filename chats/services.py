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

import json
import logging
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

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


class MessageNotFound(ChatNotFound):
    """The message to resend from is not a question in the user's chat."""


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
                # The ledger is written in the site's language whoever's request runs this; the
                # statement shows it in the reader's (wallets.views).
                description=gettext_noop("Ответ модели %(model)s") % {"model": turn.model_name},
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


def _resend_prepare(*, chat: Chat, resend_from) -> list[str]:
    """Replaces the chat from question `resend_from` on (regenerate: the same text again; edit:
    a new text): that question, its reply and everything after them go, and the new question
    takes their place. Charges already made stay in the ledger; the new reply is billed as any
    other. Returns the pictures the question carried (sent again unless others are given).
    """
    if isinstance(resend_from, bool) or not isinstance(resend_from, int):
        raise prompt.MessageRejected(_("Некорректный resend_from."))
    question = chat.messages.filter(pk=resend_from, role=Message.Role.USER).first()
    if question is None:
        raise MessageNotFound(resend_from)
    images = question.image_urls or ([question.image_url] if question.image_url else [])
    # Message ids grow with time within a chat (the question and its reply are one INSERT).
    chat.messages.filter(pk__gte=question.pk).delete()
    return images


def reply_start(
    *,
    user,
    model_id: str,
    text: str,
    chat_id: int | None = None,
    image_urls: Sequence[str] = (),
    resend_from: int | None = None,
) -> Turn:
    """Stores the user's message and reserves the reply's cost; see the module docstring.

    An ordinary turn is a few set-based statements (`_turn_record`, the hold) with no transaction
    around them; a turn that cannot start removes what it stored. `resend_from` (a question's id
    in chat `chat_id`) regenerates or edits: the chat from that question on is replaced by `text`
    and its new reply (`_resend_prepare`), all in one transaction, so a refused resend (402…)
    leaves the chat as it was.

    Raises:
        ModelNotFound: unknown or disabled model.
        ModelIsMedia: an image or video model (the caller dispatches to `media_reply_start`).
        ChatNotConfigured: no OpenRouter key, so no chat model can answer.
        ChatNotFound: `chat_id` is not one of the user's chats.
        MessageNotFound: `resend_from` is not a question in that chat.
        prompt.MessageRejected: too long for the model, or images for a model that cannot see them.
        InsufficientFunds: the available balance cannot pay for a minimal reply.
    """
    fields = {"user": user, "model_id": model_id, "text": text, "chat_id": chat_id, "image_urls": image_urls}
    if resend_from is None:
        return _turn_start(**fields)
    if chat_id is None:
        raise prompt.MessageRejected(_("Чтобы отправить сообщение заново, укажите chat_id."))
    with transaction.atomic():
        chat = Chat.objects.filter(pk=chat_id, user=user).first()
        if chat is None:
            raise ChatNotFound(chat_id)
        return _turn_start(**fields, resent_images=_resend_prepare(chat=chat, resend_from=resend_from))


def _turn_start(
    *, user, model_id: str, text: str, chat_id: int | None, image_urls: Sequence[str], resent_images=()
) -> Turn:
    """`reply_start`'s turn: checks, records, hold. `resent_images` are a resent question's
    pictures, sent again unless others are given (and only to a model that sees them)."""
    model = catalog.enabled_model(model_id=model_id)
    if model is None:
        raise ModelNotFound(model_id)
    if model.is_media:
        raise ModelIsMedia(model)
    if not openrouter.is_configured():
        raise ChatNotConfigured
    if resent_images and not image_urls:
        image_urls = resent_images if model.supports_vision else []
    if image_urls and not model.supports_vision:
        raise prompt.MessageRejected(
            _("Эта модель не понимает изображения: выберите модель с пометкой «зрение».")
        )
    # Only the user's own uploads go upstream: the provider fetches each URL, and it must not
    # be pointed at arbitrary addresses (or at somebody else's pictures) through us.
    if not all(media_services.upload_url_is_owned(user=user, url=url) for url in image_urls):
        raise prompt.MessageRejected(_("Прикладывать можно только свои изображения, загруженные через сайт."))
    question = Message(
        role=Message.Role.USER,
        content=text,
        image_url=image_urls[0] if image_urls else "",
        image_urls=list(image_urls),
        model=model.model_id,
    )
    answer = Message(role=Message.Role.ASSISTANT, model=model.model_id, status=Message.Status.PENDING)
    title = text.strip()[:TITLE_LENGTH] if chat_id is None else None
    recent = _turn_record(user_id=user.pk, chat_id=chat_id, title=title, question=question, answer=answer)
    if recent is None:
        raise ChatNotFound(chat_id)
    turn = Turn(
        user_id=user.pk,
        chat_id=answer.chat_id,
        message_id=answer.pk,
        model_id=model.model_id,
        model_name=model.name,
        cost_input=model.cost_input,
        cost_output=model.cost_output,
        messages=[],
        prompt_tokens=0,
        max_tokens=0,
        hold_reference=f"msg:{answer.pk}",
        chat_created=chat_id is None,
    )
    try:
        turn.messages, turn.prompt_tokens = prompt.trim_to_context(
            prompt.history_of(recent, vision=model.supports_vision),
            prompt.payload(question, vision=model.supports_vision),
            context_length=model.context_length,
        )
        _reserve(turn=turn, context_length=model.context_length)
    except Exception:
        # Refused (402, or too long for the model): the turn leaves no trace.
        _turn_discard(turn=turn, question_id=question.pk)
        raise
    return turn


# The turn's records in one statement (one round trip on the first token's path): the chat,
# created or touched (which also proves it is the user's), the question and the pending reply,
# and the chat's recent history as it was before them. Its shape is `Message`'s columns.
_TURN_SQL = """
WITH chat AS (
    {chat}
), added AS (
    INSERT INTO chats_message (chat_id, role, content, image_url, image_urls, attachment_url, model,
                               tokens_in, tokens_out, cost, status, upstream_generation_id, error,
                               generation_id, created_at)
    SELECT chat.id, m.role, m.content, m.image_url, m.image_urls::jsonb, '', %(model)s, 0, 0, 0, m.status,
           '', '', NULL, %(now)s
    FROM chat, (VALUES (1, %(question_role)s, %(text)s, %(image_url)s, %(image_urls)s, %(question_status)s),
                       (2, %(answer_role)s, '', '', '[]', %(answer_status)s))
               AS m (n, role, content, image_url, image_urls, status)
    ORDER BY m.n
    RETURNING id, role
)
SELECT true, chat.id, added.id, added.role, NULL, NULL, NULL FROM chat, added
UNION ALL
(SELECT false, h.chat_id, h.id, h.role, h.content, h.image_url, h.image_urls
 FROM chats_message h
 WHERE h.chat_id = (SELECT id FROM chat) AND h.role = ANY(%(history_roles)s)
   AND h.status = ANY(%(history_statuses)s)
 ORDER BY h.created_at DESC, h.id DESC
 LIMIT %(history_limit)s)
"""
_TURN_CHAT_TOUCH = (
    "UPDATE chats_chat SET updated_at = %(now)s WHERE id = %(chat_id)s AND user_id = %(user_id)s RETURNING id"
)
_TURN_CHAT_CREATE = (
    "INSERT INTO chats_chat (user_id, model, title, created_at, updated_at) "
    "VALUES (%(user_id)s, %(model)s, %(title)s, %(now)s, %(now)s) RETURNING id"
)


def _turn_record(
    *, user_id: int, chat_id: int | None, title: str | None, question: Message, answer: Message
) -> list[Message] | None:
    """Stores `question` and `answer` in the chat (a new one titled `title` when `chat_id` is
    None) and returns the chat's recent finished messages before them, newest first; None when
    the chat is not the user's (nothing stored)."""
    now = timezone.now()
    if connection.vendor != "postgresql":
        return _turn_record_orm(
            user_id=user_id, chat_id=chat_id, title=title, question=question, answer=answer, now=now
        )
    params = {
        "user_id": user_id,
        "chat_id": chat_id,
        "title": title,
        "model": question.model,
        "now": now,
        "text": question.content,
        "image_url": question.image_url,
        "image_urls": json.dumps(question.image_urls),
        "question_role": question.role,
        "question_status": question.status,
        "answer_role": answer.role,
        "answer_status": answer.status,
        "history_roles": list(prompt.HISTORY_ROLES),
        "history_statuses": list(prompt.HISTORY_STATUSES),
        "history_limit": settings.CHAT_HISTORY_MESSAGES,
    }
    sql = _TURN_SQL.format(chat=_TURN_CHAT_CREATE if chat_id is None else _TURN_CHAT_TOUCH)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    recent = []
    for added, row_chat_id, message_id, role, content, image_url, image_urls in rows:
        if added:
            stored = question if role == question.role else answer
            stored.pk, stored.chat_id, stored.created_at = message_id, row_chat_id, now
            stored._state.adding, stored._state.db = False, connection.alias
        else:
            images = json.loads(image_urls) if isinstance(image_urls, str) else image_urls
            recent.append(
                Message(id=message_id, role=role, content=content, image_url=image_url, image_urls=images)
            )
    return recent if answer.pk is not None else None


@transaction.atomic
def _turn_record_orm(*, user_id, chat_id, title, question, answer, now) -> list[Message] | None:
    """`_TURN_SQL` in steps (SQLite)."""
    if chat_id is None:
        chat = Chat.objects.create(user_id=user_id, model=question.model, title=title)
    else:
        chat = Chat.objects.filter(pk=chat_id, user_id=user_id).first()
        if chat is None:
            return None
        chat.save(update_fields=["updated_at"])
    recent = prompt.recent(chat)
    question.chat = answer.chat = chat
    Message.objects.bulk_create([question, answer])
    return recent


def _turn_discard(*, turn: Turn, question_id: int) -> None:
    """Removes a turn that could not start (nothing was sent upstream, nothing held)."""
    if turn.chat_created:
        Chat.objects.filter(pk=turn.chat_id).delete()
    else:
        Message.objects.filter(pk__in=[question_id, turn.message_id]).delete()


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
    # No transaction: each step is one statement, the hold's first, so a crash between them
    # leaves the reply pending with its hold closed, which the sweeper finishes without
    # charging again. (The chat was marked active when the turn started.)
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
        # The settle returned the wallet as it left it.
        return hold.wallet.balance
    Message.objects.filter(pk=turn.message_id).update(
        tokens_in=turn.prompt_tokens, tokens_out=estimate_tokens(end.text), **fields
    )
    if end.generation_id:
        tasks.reply_settle_from_generation.delay(turn.message_id, end.generation_id)
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
