"""The seeded catalog and the invariant the database keeps on it."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from catalog.models import AIModel

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("catalog")]


def test_the_catalog_is_seeded_with_fifty_models_and_media_models_by_the_keyword_rule():
    chat_models = AIModel.objects.filter(kind=AIModel.Kind.CHAT)
    assert chat_models.count() >= 50
    for provider in (
        "openai/",
        "anthropic/",
        "google/",
        "meta-llama/",
        "mistralai/",
        "deepseek/",
        "qwen/",
        "x-ai/",
    ):
        assert chat_models.filter(model_id__startswith=provider).exists(), provider
    keywords = ["recraft", "flux", "midjourney", "veo", "sora", "luma", "video", "image"]
    for model in AIModel.objects.all():
        assert model.is_media == any(keyword in model.model_id.lower() for keyword in keywords), model
        if model.is_media:
            assert model.price_per_generation > 0
    assert set(AIModel.objects.filter(model_id__contains="veo").values_list("kind", flat=True)) == {"video"}
    assert AIModel.objects.get(model_id="fal-ai/recraft-v3").kind == AIModel.Kind.IMAGE
    assert all(model.group_icon.startswith("<svg") for model in AIModel.objects.all())


@pytest.mark.parametrize("price", [None, Decimal("0")])
def test_the_database_refuses_a_media_model_without_a_price(price):
    # The media service reserves this price before a generation: a model without one could
    # generate for free.
    with pytest.raises(IntegrityError), transaction.atomic():
        AIModel.objects.create(
            model_id="fal-ai/free",
            name="Free",
            group="Media",
            kind=AIModel.Kind.IMAGE,
            price_per_generation=price,
        )
