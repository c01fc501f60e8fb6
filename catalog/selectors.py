"""Reads of the catalog: the enabled models, in the order admins set."""

from __future__ import annotations

from django.db.models import QuerySet

from catalog.models import AIModel


def enabled_models() -> QuerySet[AIModel]:
    return AIModel.objects.filter(enabled=True).order_by("group_order", "group", "order", "name")


def enabled_model(*, model_id: str) -> AIModel | None:
    """The enabled model with this id, or None when there is none (or it is switched off)."""
    return AIModel.objects.filter(model_id=model_id, enabled=True).first()


def media_models() -> QuerySet[AIModel]:
    """The enabled image and video models, priced per generation."""
    return enabled_models().filter(kind__in=AIModel.MEDIA_KINDS)
