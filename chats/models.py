from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class AIModel(models.Model):
    """One entry of the model catalog (admin-editable; seeded by a data migration).

    Chat models are priced in USD per 1M tokens (OpenRouter's prices); image and video models
    at a fixed RUB price per generation.
    """

    class Kind(models.TextChoices):
        CHAT = "chat", _("чат")
        IMAGE = "image", _("изображение")
        VIDEO = "video", _("видео")

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
                name="chats_media_model_has_price",
                # Also checked by model validation, so the admin's form says it.
                violation_error_message=_("Для изображений и видео укажите цену генерации больше нуля."),
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_media(self) -> bool:
        return self.kind != self.Kind.CHAT


class Chat(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="chats")
    model = models.CharField(_("модель"), max_length=200, help_text="openai/gpt-4o")
    title = models.CharField(_("название"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("создан"), auto_now_add=True)
    updated_at = models.DateTimeField(_("изменён"), auto_now=True)

    class Meta:
        verbose_name = _("чат")
        verbose_name_plural = _("чаты")
        indexes = [
            # The chat list: one user's chats, most recently active first.
            models.Index(fields=["user", "-updated_at"], name="chats_chat_user_recent"),
        ]

    def __str__(self) -> str:
        return self.title or f"#{self.pk}"


class Message(models.Model):
    class Role(models.TextChoices):
        USER = "user", _("пользователь")
        ASSISTANT = "assistant", _("ассистент")
        SYSTEM = "system", _("система")

    class Status(models.TextChoices):
        PENDING = "pending", _("в работе")
        COMPLETE = "complete", _("готово")
        PARTIAL = "partial", _("прервано")
        ERROR = "error", _("ошибка")

    chat = models.ForeignKey(Chat, on_delete=models.CASCADE, related_name="messages")
    role = models.CharField(_("роль"), max_length=10, choices=Role.choices)
    content = models.TextField(_("текст"), blank=True)
    image_url = models.URLField(_("изображение"), max_length=1000, blank=True)
    # Every picture attached to a vision prompt; `image_url` keeps the first (the legacy
    # system's single column, which the import fills).
    image_urls = models.JSONField(_("изображения"), default=list, blank=True)
    attachment_url = models.URLField(_("вложение"), max_length=1000, blank=True)
    model = models.CharField(_("модель"), max_length=200, blank=True)
    tokens_in = models.PositiveIntegerField(_("токенов на входе"), default=0)
    tokens_out = models.PositiveIntegerField(_("токенов на выходе"), default=0)
    cost = models.DecimalField(_("стоимость, ₽"), max_digits=14, decimal_places=2, default=Decimal(0))
    status = models.CharField(_("состояние"), max_length=10, choices=Status.choices, default=Status.COMPLETE)
    error = models.TextField(_("ошибка"), blank=True)
    created_at = models.DateTimeField(_("время"), auto_now_add=True)

    class Meta:
        verbose_name = _("сообщение")
        verbose_name_plural = _("сообщения")
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["chat", "created_at", "id"], name="chats_message_history")]

    def __str__(self) -> str:
        return f"{self.role}: {self.content[:50]}"
