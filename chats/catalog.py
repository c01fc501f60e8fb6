"""The catalog as the chat shows it: grouped as the old system's AI_MODELS_GROUPS for
`/api/chats/models`, and with RUB prices for the chat and pricing pages."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from django.conf import settings
from django.utils.translation import gettext, gettext_noop

from catalog import selectors
from catalog.models import AIModel
from chats.pricing import rub_per_million, typical_reply_cost

# The group names the catalog was seeded with in Russian (chats/migrations/0003_seed_catalog.py):
# the pages show them in the reader's language. A group an admin names is shown as written.
SEEDED_GROUP_NAMES = (gettext_noop("Другие"), gettext_noop("Изображения"), gettext_noop("Видео"))


def _grouped(models: Iterable[AIModel], entry: Callable[[AIModel], object]) -> list[dict]:
    groups: dict[str, dict] = {}
    for model in models:
        group = groups.setdefault(model.group, {"name": model.group, "icon": model.group_icon, "models": []})
        group["models"].append(entry(model))
    return list(groups.values())


def api_groups() -> list[dict]:
    """`[{name, icon, models: [AIModel]}]`, enabled models only (chats.serializers renders it)."""
    return _grouped(selectors.enabled_models(), lambda model: model)


def page_groups() -> list[dict]:
    """The groups with what the chat and pricing pages show of each model: RUB prices, kind,
    vision, context length."""
    groups = _grouped(
        selectors.enabled_models(),
        lambda model: {
            "id": model.model_id,
            "name": model.name,
            "kind": model.kind,
            "vision": model.supports_vision,
            "context_length": model.context_length,
            "rub_input": str(rub_per_million(model.cost_input)),
            "rub_output": str(rub_per_million(model.cost_output)),
            "rub_per_generation": str(model.price_per_generation or ""),
            "rub_typical": str(
                model.price_per_generation
                if model.is_media
                else typical_reply_cost(cost_input=model.cost_input, cost_output=model.cost_output)
            ),
        },
    )
    for group in groups:
        if group["name"] in SEEDED_GROUP_NAMES:
            group["name"] = gettext(group["name"])
    return groups


def default_model_id(groups: list[dict]) -> str:
    """The model a new chat starts with: CHAT_DEFAULT_MODEL if it is offered, else the first chat
    model ("" when there is none)."""
    chat_models = [model["id"] for group in of_kind(groups, chat=True) for model in group["models"]]
    if settings.CHAT_DEFAULT_MODEL in chat_models:
        return settings.CHAT_DEFAULT_MODEL
    return chat_models[0] if chat_models else ""


def of_kind(groups: list[dict], *, chat: bool) -> list[dict]:
    """The page groups with only their chat models (or only their media models), empty ones left out."""
    picked = [
        {**group, "models": [model for model in group["models"] if (model["kind"] == "chat") == chat]}
        for group in groups
    ]
    return [group for group in picked if group["models"]]
