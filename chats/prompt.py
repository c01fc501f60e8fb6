"""What goes upstream for a reply: the chat's recent history and the new message as OpenAI-style
messages (pictures as `image_url` parts for vision models), trimmed to the model's context, and
the estimated number of prompt tokens the hold is sized by."""

from __future__ import annotations

from django.conf import settings
from django.utils.translation import gettext as _

from chats.models import Chat, Message
from chats.pricing import estimate_tokens

# Role and separators chat formats add around each message, and what providers add to a
# request (chat template, their own system text); counted so the hold covers the real prompt.
MESSAGE_OVERHEAD_TOKENS = 4
REQUEST_OVERHEAD_TOKENS = 32


class MessageRejected(ValueError):
    """The message cannot be sent as it is (too long for the model, images it cannot see)."""


def payload(message: Message, *, vision: bool) -> dict:
    """One message as the upstream API takes it."""
    images = message.image_urls or ([message.image_url] if message.image_url else [])
    if not (vision and images and message.role == Message.Role.USER):
        return {"role": message.role, "content": message.content}
    parts: list[dict] = [{"type": "text", "text": message.content}] if message.content else []
    parts += [{"type": "image_url", "image_url": {"url": url}} for url in images]
    return {"role": message.role, "content": parts}


def _payload_tokens(payload: dict) -> int:
    content = payload["content"]
    if isinstance(content, str):
        return estimate_tokens(content) + MESSAGE_OVERHEAD_TOKENS
    tokens = MESSAGE_OVERHEAD_TOKENS
    for part in content:
        tokens += estimate_tokens(part["text"]) if part["type"] == "text" else settings.CHAT_IMAGE_TOKENS
    return tokens


# The messages a reply's history is made of.
HISTORY_ROLES = (Message.Role.USER, Message.Role.ASSISTANT)
HISTORY_STATUSES = (Message.Status.COMPLETE, Message.Status.PARTIAL, Message.Status.INTERRUPTED)


def recent(chat: Chat) -> list[Message]:
    """The chat's last CHAT_HISTORY_MESSAGES finished messages, newest first (`history_of`
    turns them into the payload; chats.services reads them with the turn's records on
    PostgreSQL)."""
    return list(
        Message.objects.filter(chat=chat, role__in=HISTORY_ROLES, status__in=HISTORY_STATUSES)
        .order_by("-created_at", "-id")
        .only("role", "content", "image_url", "image_urls")[: settings.CHAT_HISTORY_MESSAGES]
    )


def history_of(recent: list[Message], *, vision: bool) -> list[dict]:
    """`recent` (newest first, as read) as the upstream payload, oldest first."""
    payloads = [payload(message, vision=vision) for message in reversed(recent)]
    return [item for item in payloads if item["content"]]


def trim_to_context(history: list[dict], new: dict, *, context_length: int) -> tuple[list[dict], int]:
    """Drops the oldest messages until the prompt leaves room for a minimal reply; returns the
    messages to send and their estimated tokens.

    Raises:
        MessageRejected: the new message alone does not fit.
    """
    room = context_length - settings.CHAT_MIN_COMPLETION_TOKENS
    tokens = REQUEST_OVERHEAD_TOKENS + _payload_tokens(new)
    if tokens > room:
        raise MessageRejected(_("Сообщение слишком длинное для этой модели."))
    kept: list[dict] = []
    for item in reversed(history):
        cost = _payload_tokens(item)
        if tokens + cost > room:
            break
        kept.append(item)
        tokens += cost
    return [*reversed(kept), new], tokens
