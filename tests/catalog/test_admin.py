"""The catalog in admin, through Django's test client as a superuser, and what the app serves
after an edit."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from catalog.models import AIModel

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("catalog")]

CHANGELIST = reverse("admin:catalog_aimodel_changelist")


def change_url(model: AIModel) -> str:
    return reverse("admin:catalog_aimodel_change", args=[model.pk])


def change_form(model: AIModel, **changes) -> dict[str, str]:
    """The AIModel change form as a browser would submit it; checkboxes only when ticked."""
    data = {
        "model_id": model.model_id,
        "name": model.name,
        "kind": model.kind,
        "group": model.group,
        "group_order": str(model.group_order),
        "group_icon": model.group_icon,
        "order": str(model.order),
        "cost_input": str(model.cost_input),
        "cost_output": str(model.cost_output),
        "price_per_generation": "" if model.price_per_generation is None else str(model.price_per_generation),
        "context_length": str(model.context_length),
        "enabled": model.enabled,
        "supports_vision": model.supports_vision,
        **changes,
    }
    for checkbox in ("enabled", "supports_vision"):
        if data.pop(checkbox):
            data[checkbox] = "on"
    return data


def catalog_ids(client) -> dict[str, dict]:
    groups = client.get(reverse("chats-models")).json()
    return {model["id"]: model for group in groups for model in group["models"]}


def test_the_catalog_list_and_a_model_page_show_the_seeded_models(admin_client):
    gpt4o = AIModel.objects.get(model_id="openai/gpt-4o")

    listing = admin_client.get(CHANGELIST)
    assert listing.status_code == 200
    assert "openai/gpt-4o" in listing.content.decode()
    assert "fal-ai/recraft-v3" in listing.content.decode()

    page = admin_client.get(change_url(gpt4o))
    assert page.status_code == 200
    assert 'name="cost_output"' in page.content.decode()
    assert 'value="openai/gpt-4o"' in page.content.decode()


def test_the_catalog_list_filters_and_searches(admin_client):
    images = admin_client.get(f"{CHANGELIST}?kind__exact=image").content.decode()
    assert "fal-ai/recraft-v3" in images
    assert "openai/gpt-4o" not in images

    found = admin_client.get(f"{CHANGELIST}?q=recraft").content.decode()
    assert "fal-ai/recraft-v3" in found
    assert "openai/gpt-4o" not in found


def test_editing_a_model_changes_the_catalog_the_app_serves(admin_client, client):
    gpt4o = AIModel.objects.get(model_id="openai/gpt-4o")
    mini = AIModel.objects.get(model_id="openai/gpt-4o-mini")
    assert catalog_ids(client)["openai/gpt-4o"]["cost_output"] == 10
    assert "openai/gpt-4o-mini" in catalog_ids(client)

    response = admin_client.post(change_url(gpt4o), change_form(gpt4o, cost_output="12.5"))
    assert response.status_code == 302, response.content.decode()
    response = admin_client.post(change_url(mini), change_form(mini, enabled=False))
    assert response.status_code == 302, response.content.decode()

    gpt4o.refresh_from_db()
    mini.refresh_from_db()
    assert gpt4o.cost_output == Decimal("12.5")
    assert mini.enabled is False
    catalog = catalog_ids(client)
    assert catalog["openai/gpt-4o"]["cost_output"] == 12.5
    assert "openai/gpt-4o-mini" not in catalog


def test_prices_and_switches_can_be_edited_right_in_the_list(admin_client, client, chat_model):
    response = admin_client.post(
        f"{CHANGELIST}?q=test/pricey",
        {
            "form-TOTAL_FORMS": "1",
            "form-INITIAL_FORMS": "1",
            "form-0-id": str(chat_model.pk),
            "form-0-cost_input": "200",
            "form-0-cost_output": "2000",
            "form-0-order": "7",
            # "enabled" left unticked.
            "_save": "Сохранить",
        },
    )

    assert response.status_code == 302, response.content.decode()
    chat_model.refresh_from_db()
    assert (chat_model.cost_input, chat_model.cost_output, chat_model.order, chat_model.enabled) == (
        Decimal("200"),
        Decimal("2000"),
        7,
        False,
    )
    assert "test/pricey" not in catalog_ids(client)


def test_a_media_model_cannot_be_saved_without_a_generation_price(admin_client):
    recraft = AIModel.objects.get(model_id="fal-ai/recraft-v3")
    price = recraft.price_per_generation

    # The check constraint (validated by the form before the database sees it).
    for empty in ("", "0"):
        response = admin_client.post(change_url(recraft), change_form(recraft, price_per_generation=empty))
        assert response.status_code == 200
        assert "Для изображений и видео укажите цену генерации больше нуля." in response.content.decode()
    recraft.refresh_from_db()
    assert recraft.price_per_generation == price
