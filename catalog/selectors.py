"""Reads of the catalog: the enabled models, in the order admins set."""

from __future__ import annotations

from django.conf import settings
from django.core.cache import cache
from django.db.models import QuerySet

from catalog.models import AIModel


def enabled_models() -> QuerySet[AIModel]:
    return AIModel.objects.filter(enabled=True).order_by("group_order", "group", "order", "name")


def enabled_model(*, model_id: str) -> AIModel | None:
    """The enabled model with this id, or None when there is none (or it is switched off).

    Every chat message reads it, so it is cached for CATALOG_CACHE_SECONDS; saving or deleting
    a model clears its entry at once (catalog.apps).
    """
    key = model_cache_key(model_id)
    model = cache.get(key)
    if model is None:
        model = AIModel.objects.filter(model_id=model_id, enabled=True).first()
        if model is not None:
            cache.set(key, model, timeout=settings.CATALOG_CACHE_SECONDS)
    return model


def model_cache_key(model_id: str) -> str:
    return f"catalog:model:{model_id}"


def media_models() -> QuerySet[AIModel]:
    """The enabled image and video models, priced per generation."""
    return enabled_models().filter(kind__in=AIModel.MEDIA_KINDS)
