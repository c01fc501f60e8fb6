"""The media API's shapes: each serializer builds the answer and describes it in the schema."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field, extend_schema_serializer
from rest_framework import serializers

from config.api import DateTimeField, StrictSerializer
from config.input import NONBLANK_TEXT_PATTERN
from media.models import Generation, Upload


class GenerationSerializer(serializers.ModelSerializer):
    """A generation as its page polls it: pending, running, completed (with the files in our
    storage) or failed (with a readable error)."""

    id = serializers.CharField()
    status = serializers.ChoiceField(choices=Generation.Status.choices)
    price = serializers.DecimalField(max_digits=12, decimal_places=2)
    # Absolute from S3, site-relative (/uploads/...) from local disk.
    result_urls = serializers.ListField(child=serializers.CharField())
    message_id = serializers.SerializerMethodField()
    created_at = DateTimeField()

    class Meta:
        model = Generation
        fields = [
            "id",
            "status",
            "model",
            "kind",
            "prompt",
            "price",
            "result_urls",
            "error",
            "message_id",
            "created_at",
        ]

    @extend_schema_field(serializers.IntegerField(allow_null=True))
    def get_message_id(self, generation: Generation) -> int | None:
        # The chat message showing the job, when the chat started it. chats.Message points here
        # (media imports nothing of chats); `chat_message` is the reverse name it declares.
        message = getattr(generation, "chat_message", None)
        return message.pk if message is not None else None


class GenerateRequestSerializer(StrictSerializer):
    """An image or video to generate: the media model and what to draw."""

    model = serializers.CharField(min_length=1, max_length=200, trim_whitespace=False)
    # Something to draw: text with at least one character that is not a space (the service
    # strips it; the schema says the same with its pattern).
    prompt = serializers.RegexField(
        NONBLANK_TEXT_PATTERN,
        max_length=4000,
        trim_whitespace=False,
        error_messages={
            "invalid": _("Опишите, что нужно сгенерировать."),
            "blank": _("Опишите, что нужно сгенерировать."),
        },
    )


@extend_schema_field({"type": "string", "format": "binary"})
class _PictureField(serializers.FileField):
    """A picture sent as a multipart file; media.services.image_clean decides whether it is one."""


class UploadRequestSerializer(StrictSerializer):
    """A picture for a vision prompt (JPEG, PNG, WebP or GIF), as a multipart file."""

    file = _PictureField(error_messages={"required": _("Выберите файл изображения.")})


@extend_schema_serializer(component_name="UploadResponse")
class UploadSerializer(serializers.ModelSerializer):
    """A stored picture: its public URL, to attach to a vision prompt (absolute from S3,
    site-relative from local disk)."""

    url = serializers.CharField()

    class Meta:
        model = Upload
        fields = ["url"]
