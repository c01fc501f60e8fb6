from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Chat(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="chats",
        verbose_name=_("пользователь"),
    )
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
        # The server stopped mid-reply (a crash, a kill): the sweeper kept what was received
        # and settled the hold (chats.services.replies_sweep).
        INTERRUPTED = "interrupted", _("оборвано")

    chat = models.ForeignKey(Chat, on_delete=models.CASCADE, related_name="messages", verbose_name=_("чат"))
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
    status = models.CharField(_("состояние"), max_length=12, choices=Status.choices, default=Status.COMPLETE)
    # OpenRouter's id of the reply's generation, recorded before the first content is relayed:
    # after a crash the sweeper asks OpenRouter what that generation cost.
    upstream_generation_id = models.CharField(
        _("генерация OpenRouter"), max_length=200, blank=True, default="", db_default=""
    )
    error = models.TextField(_("ошибка"), blank=True)
    # An image or video model's reply: the generation that produces it. Media knows nothing of
    # chats; when the generation finishes, chats.receivers copies its result onto this message.
    generation = models.OneToOneField(
        "media.Generation",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="chat_message",
        verbose_name=_("генерация"),
    )
    created_at = models.DateTimeField(_("время"), auto_now_add=True)

    class Meta:
        verbose_name = _("сообщение")
        verbose_name_plural = _("сообщения")
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(fields=["chat", "created_at", "id"], name="chats_message_history"),
            # The sweeper's query: replies still pending, oldest first (a handful at any time).
            models.Index(
                fields=["created_at"],
                condition=models.Q(status="pending", role="assistant"),
                name="chats_message_pending",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.role}: {self.content[:50]}"
