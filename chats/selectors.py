"""Reads for chats: a user's chats and a chat's messages."""

from __future__ import annotations

import re

from django.db.models import QuerySet
from django.http import Http404
from django.utils.translation import gettext as _

from chats.models import Chat, Message


def user_chats(*, user, query: str = "") -> QuerySet[Chat]:
    """The user's chats, most recently active first (the `chats_chat_user_recent` index); with
    `query`, only those whose title contains it (any case)."""
    chats = Chat.objects.filter(user=user)
    if query:
        # A case-blind regex of the literal text, not `icontains`: SQLite's LIKE folds case for
        # ASCII only («борщ» missed «Борща»); its REGEXP is Python's, PostgreSQL's `~*` is Unicode.
        chats = chats.filter(title__iregex=re.escape(query))
    return chats.order_by("-updated_at", "-id")


def user_chat(*, user, chat_id: int) -> Chat:
    """The user's own chat; anybody else's is a 404, as if it did not exist."""
    chat = Chat.objects.filter(pk=chat_id, user=user).first()
    if chat is None:
        raise Http404(_("Чат не найден."))
    return chat


def chat_messages(*, chat: Chat) -> QuerySet[Message]:
    return chat.messages.exclude(role=Message.Role.SYSTEM).order_by("created_at", "id")
