"""Reads for the gallery: one user's uploads and generations together, newest first."""

from __future__ import annotations

from django.conf import settings
from django.core.paginator import Page, Paginator
from django.db.models import CharField, Value
from django.db.models.functions import Cast

from media.models import Generation, Upload


def gallery_page(*, user, number) -> Page:
    """One page of the user's gallery; its items are `Upload`s and `Generation`s.

    The two tables are paged together through one UNION of (kind, id, time), so a page costs
    three queries whatever its size: the count, the page of keys, and one fetch per table.
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
    keys = uploads.union(generations, all=True).order_by("-created_at", "-item_id")
    page = Paginator(keys, settings.MEDIA_GALLERY_PAGE_SIZE).get_page(number)
    ids = {"upload": [], "generation": []}
    for kind, item_id, _created_at in page.object_list:
        ids[kind].append(item_id)
    found = {
        **{("upload", str(item.pk)): item for item in Upload.objects.filter(pk__in=ids["upload"])},
        **{
            ("generation", str(item.pk)): item for item in Generation.objects.filter(pk__in=ids["generation"])
        },
    }
    page.object_list = [found[(kind, item_id)] for kind, item_id, _created_at in page.object_list]
    return page
