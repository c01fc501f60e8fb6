"""The catalog is edited here (prices, names, groups, order, on/off); `/api/chats/models`, the
chat and pricing pages and the gallery read it straight from the table."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from catalog.models import AIModel


@admin.register(AIModel)
class AIModelAdmin(admin.ModelAdmin):
    list_display = (
        "model_id",
        "name",
        "group",
        "kind",
        "cost_input",
        "cost_output",
        "supports_vision",
        "context_length",
        "enabled",
        "order",
    )
    list_editable = ("cost_input", "cost_output", "enabled", "order")
    list_filter = ("kind", "group", "enabled", "supports_vision")
    search_fields = ("model_id", "name")
    # As the catalog shows it.
    ordering = ("group_order", "group", "order", "name")
    list_per_page = 200
    fieldsets = (
        (None, {"fields": ("model_id", "name", "kind", "enabled")}),
        (_("Группа и порядок"), {"fields": ("group", "group_order", "group_icon", "order")}),
        (
            _("Цены"),
            {
                "fields": ("cost_input", "cost_output", "price_per_generation"),
                "description": _(
                    "Чат-модели: $ за 1M токенов (цены OpenRouter). "
                    "Изображения и видео: фиксированная цена генерации, ₽."
                ),
            },
        ),
        (_("Возможности"), {"fields": ("supports_vision", "context_length")}),
    )
