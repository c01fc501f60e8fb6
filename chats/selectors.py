"""Reads for chats: the catalog in its grouped shapes, a user's chats and messages."""

from __future__ import annotations

from decimal import Decimal

from django.db.models import QuerySet
from django.http import Http404
from django.utils.translation import gettext as _

from catalog.models import AIModel
from chats.models import Chat, Message
from chats.services import token_price

MILLION = 1_000_000


def _number(value: Decimal) -> int | float:
    """A JSON number as the old catalog wrote it: 10, not 10.0 or "10.0000"."""
    return int(value) if value == value.to_integral_value() else float(value)


def enabled_models() -> QuerySet[AIModel]:
    return AIModel.objects.filter(enabled=True).order_by("group_order", "group", "order", "name")


def _grouped(models, entry) -> list[dict]:
    groups: dict[str, dict] = {}
    for model in models:
        group = groups.setdefault(model.group, {"name": model.group, "icon": model.group_icon, "models": []})
        group["models"].append(entry(model))
    return list(groups.values())


def catalog_groups() -> list[dict]:
    """The old system's AI_MODELS_GROUPS: `[{name, icon, models: [{id, name, cost_input,
    cost_output}]}]`, USD per 1M tokens, enabled models only."""
    return _grouped(
        enabled_models(),
        lambda model: {
            "id": model.model_id,
            "name": model.name,
            "cost_input": _number(model.cost_input),
            "cost_output": _number(model.cost_output),
        },
    )


def rub_per_million(usd_per_million: Decimal) -> Decimal:
    """The user's price per 1M tokens in RUB (USD × USD_RUB_RATE × PRICE_MARKUP)."""
    return (token_price(usd_per_million) * MILLION).quantize(Decimal("0.01"))


def catalog_for_page() -> list[dict]:
    """The catalog with what the chat page and the pricing page show: RUB prices, kind, vision."""
    return _grouped(
        enabled_models(),
        lambda model: {
            "id": model.model_id,
            "name": model.name,
            "kind": model.kind,
            "vision": model.supports_vision,
            "context_length": model.context_length,
            "rub_input": str(rub_per_million(model.cost_input)),
            "rub_output": str(rub_per_million(model.cost_output)),
            "rub_per_generation": str(model.price_per_generation or ""),
        },
    )


def user_chats(*, user) -> QuerySet[Chat]:
    """The user's chats, most recently active first (the `chats_chat_user_recent` index)."""
    return Chat.objects.filter(user=user).order_by("-updated_at", "-id")


def user_chat(*, user, chat_id: int) -> Chat:
    """The user's own chat; anybody else's is a 404, as if it did not exist."""
    chat = Chat.objects.filter(pk=chat_id, user=user).first()
    if chat is None:
        raise Http404(_("Чат не найден."))
    return chat


def chat_messages(*, chat: Chat) -> QuerySet[Message]:
    return chat.messages.exclude(role=Message.Role.SYSTEM).order_by("created_at", "id")
