"""Signal receivers, connected in ChatsConfig.ready(): the hooks the apps below offer."""

from __future__ import annotations

from decimal import Decimal

from catalog.models import AIModel
from chats.models import Message
from media.models import Generation
from media.signals import generation_finished


def on_generation_finished(sender, generation: Generation, **kwargs) -> None:
    """The image or video model's reply shows the finished job: its file, or its error."""
    if generation.status == Generation.Status.COMPLETED:
        url = generation.result_urls[0] if generation.result_urls else ""
        is_video = generation.kind == AIModel.Kind.VIDEO
        fields = {
            "image_url": "" if is_video else url,
            "attachment_url": url if is_video else "",
            "status": Message.Status.COMPLETE,
            "cost": generation.price,
        }
    else:
        fields = {"status": Message.Status.ERROR, "error": generation.error, "cost": Decimal(0)}
    Message.objects.filter(generation=generation).update(**fields)


def connect() -> None:
    generation_finished.connect(on_generation_finished, dispatch_uid="chats.on_generation_finished")
