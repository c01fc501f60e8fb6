"""The model catalog: which AI models the site offers and at what price.

Its own small app at the bottom of the graph (it imports none of ours): chats prices replies
from it, media prices generations from it, and neither has to import the other to find a model.
The rows are seeded by a migration (chats/migrations/0003_seed_catalog.py, from when the catalog
lived in chats) and edited in admin; `manage.py sync_models` (chats) takes chat models' prices
from OpenRouter.
"""

from decimal import Decimal

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

# Chat models' prices are in USD per this many tokens.
MILLION = Decimal(1_000_000)


class AIModel(models.Model):
    """One entry of the catalog.

    Chat models are priced in USD per 1M tokens (OpenRouter's prices); image and video models
    at a fixed RUB price per generation.
    """

    class Kind(models.TextChoices):
        CHAT = "chat", _("чат")
        IMAGE = "image", _("изображение")
        VIDEO = "video", _("видео")

    MEDIA_KINDS = (Kind.IMAGE, Kind.VIDEO)

    model_id = models.CharField(_("ID модели"), max_length=200, unique=True, help_text="openai/gpt-4o")
    name = models.CharField(_("название"), max_length=200)
    group = models.CharField(_("группа"), max_length=100)
    group_icon = models.TextField(_("иконка группы (SVG)"), blank=True)
    kind = models.CharField(_("вид"), max_length=10, choices=Kind.choices, default=Kind.CHAT)
    cost_input = models.DecimalField(
        _("вход, $ за 1M токенов"), max_digits=12, decimal_places=4, default=Decimal(0)
    )
    cost_output = models.DecimalField(
        _("выход, $ за 1M токенов"), max_digits=12, decimal_places=4, default=Decimal(0)
    )
    price_per_generation = models.DecimalField(
        _("цена генерации, ₽"), max_digits=12, decimal_places=2, null=True, blank=True
    )
    supports_vision = models.BooleanField(_("понимает изображения"), default=False)
    context_length = models.PositiveIntegerField(_("контекст, токенов"), default=8192)
    enabled = models.BooleanField(_("включена"), default=True)
    group_order = models.PositiveIntegerField(_("порядок группы"), default=0)
    order = models.PositiveIntegerField(_("порядок"), default=0)

    class Meta:
        verbose_name = _("AI-модель")
        verbose_name_plural = _("AI-модели")
        ordering = ["group_order", "group", "order", "name"]
        constraints = [
            models.CheckConstraint(
                # NULL > 0 is unknown, which a CHECK lets through: the price must be there.
                condition=Q(kind="chat") | Q(price_per_generation__isnull=False, price_per_generation__gt=0),
                name="catalog_media_model_has_price",
                # Also checked by model validation, so the admin's form says it.
                violation_error_message=_("Для изображений и видео укажите цену генерации больше нуля."),
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_media(self) -> bool:
        return self.kind != self.Kind.CHAT
