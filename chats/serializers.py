"""The chats API's shapes: each serializer builds the answer and describes it in the schema."""

from __future__ import annotations

from django.utils.translation import gettext as gettext_now
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field, extend_schema_serializer
from rest_framework import serializers

from catalog.models import AIModel
from chats.models import Chat, Message
from config.api import DateTimeField, NumberField, StrictSerializer


class CatalogModelSerializer(serializers.ModelSerializer):
    """A model of the old AI_MODELS_GROUPS: prices in USD per 1M tokens, as JSON numbers."""

    id = serializers.CharField(source="model_id")
    cost_input = NumberField()
    cost_output = NumberField()

    class Meta:
        model = AIModel
        fields = ["id", "name", "cost_input", "cost_output"]


@extend_schema_serializer(component_name="ModelGroup")
class CatalogGroupSerializer(serializers.Serializer):
    name = serializers.CharField()
    icon = serializers.CharField()
    models = CatalogModelSerializer(many=True)


class ChatSerializer(serializers.ModelSerializer):
    created_at = DateTimeField()
    updated_at = DateTimeField()

    class Meta:
        model = Chat
        fields = ["id", "title", "model", "created_at", "updated_at"]


class ChatPageSerializer(serializers.Serializer):
    """A page of the user's chats (20 a page, `?page=N`), as DRF's page-number pagination
    writes it."""

    count = serializers.IntegerField()
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = ChatSerializer(many=True)


class _TitleField(serializers.CharField):
    """A chat's title: a string (trimmed and cut to length by the service)."""

    default_error_messages = {"invalid": _("Название должно быть строкой.")}

    def __init__(self, **kwargs) -> None:
        super().__init__(required=False, default="", allow_blank=True, trim_whitespace=False, **kwargs)

    def to_internal_value(self, data) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return data


class ChatCreateSerializer(StrictSerializer):
    """A new empty chat: the model it talks to and, optionally, a title."""

    model = serializers.CharField(required=False, default="", allow_blank=True, trim_whitespace=False)
    title = _TitleField()


class ChatRenameSerializer(StrictSerializer):
    """A chat's new title."""

    title = _TitleField()


@extend_schema_serializer(component_name="ChatMessage")
class MessageSerializer(serializers.ModelSerializer):
    """A message with what its reply cost: tokens, RUB (a decimal string) and status, and for a
    reply that failed, what the reader is told (`error`, "" otherwise)."""

    image_urls = serializers.SerializerMethodField()
    error = serializers.SerializerMethodField()
    cost = serializers.DecimalField(max_digits=14, decimal_places=2)
    created_at = DateTimeField()

    class Meta:
        model = Message
        fields = [
            "id",
            "role",
            "content",
            "image_urls",
            "model",
            "tokens_in",
            "tokens_out",
            "cost",
            "status",
            "error",
            "created_at",
        ]

    # Absolute from S3, site-relative (/uploads/...) from local disk.
    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_image_urls(self, message: Message) -> list[str]:
        # Messages imported from the old system keep their one picture in `image_url` only.
        return message.image_urls or ([message.image_url] if message.image_url else [])

    def get_error(self, message: Message) -> str:
        # `Message.error` keeps what went wrong for the log; the reader gets a sentence. A
        # generation's error is already written for the reader (the gallery shows it).
        if message.role != Message.Role.ASSISTANT:
            return ""
        if message.generation_id and message.error:
            return message.error
        if message.status == Message.Status.ERROR:
            return gettext_now(
                "Модель сейчас недоступна. Деньги не списаны: попробуйте ещё раз или выберите другую модель."
            )
        if message.status == Message.Status.PARTIAL and message.error:
            return gettext_now(
                "Ответ прервался из-за ошибки модели. Списана стоимость только полученной части."
            )
        return ""
