"""Reads for the gallery: one user's uploads and generations together, newest first."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.core.files.storage import default_storage
from django.core.paginator import Page, Paginator
from django.db.models import CharField, Value
from django.db.models.functions import Cast

from media.models import Generation, Upload


def gallery_page(*, user, number) -> Page:
    """One page of the user's gallery; its items are `Upload`s and `Generation`s.

    The two tables are paged together through one UNION of (kind, id, time), so a page costs
    four queries whatever its size: the count, the page of keys, and one fetch per table.
    """
    uploads = (
        Upload.objects.filter(owner=user)
        .annotate(item_kind=Value("upload"), item_id=Cast("pk", CharField()))
        .values_list("item_kind", "item_id", "created_at")
    )
    generations = (
        Generation.objects.filter(user=user)
        .annotate(item_kind=Value("generation"), item_id=Cast("pk", CharField()))
        .values_list("item_kind", "item_id", "created_at")
    )
    union = uploads.union(generations, all=True).order_by("-created_at", "-item_id")
    page = Paginator(union, settings.MEDIA_GALLERY_PAGE_SIZE).get_page(number)
    # The ids come back as text, and a UUID's text differs by database (SQLite drops the dashes).
    keys = [
        ("upload", int(item_id)) if kind == "upload" else ("generation", uuid.UUID(item_id))
        for kind, item_id, _created_at in page.object_list
    ]
    found = {
        ("upload", item.pk): item
        for item in Upload.objects.filter(pk__in=[pk for kind, pk in keys if kind == "upload"])
    }
    found.update(
        (("generation", item.pk), item)
        for item in Generation.objects.filter(pk__in=[pk for kind, pk in keys if kind == "generation"])
    )
    page.object_list = [found[key] for key in keys]
    return page


def public_media_base() -> str:
    """The address every stored file's public URL starts with (`/uploads/` on local disk, the
    bucket's public address with S3): pages show pictures inline only from under it."""
    return default_storage.url("")
