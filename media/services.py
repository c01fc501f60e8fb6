"""Uploads for vision prompts and paid media generation.

Uploads: a file is accepted only if Pillow decodes it completely as JPEG, PNG, WebP or GIF
within the size and pixel limits; the stored copy is re-encoded from pixels, so EXIF (GPS),
XMP and comments are gone. Animated images keep their first frame.

Generations: `generation_start` reserves the model's fixed price (a wallet hold), submits the
job to Fal and returns at once; `generation_poll` (run by a Celery task, again and again until
the job ends) asks Fal once, copies
the result into our storage and settles the hold, or releases it when Fal fails or the deadline
passes. Finishing is claimed by a conditional UPDATE on the generation's status, and the hold is
closed under its own reference, so running the task twice (or two at once) charges once.
"""

from __future__ import annotations

import io
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.base import File as DjangoFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from PIL import Image, ImageOps, UnidentifiedImageError

from catalog.models import AIModel
from media import fal, tasks
from media.models import Generation, Upload
from media.signals import generation_finished
from wallets.services import hold_place, hold_release, hold_settle

logger = logging.getLogger(__name__)

# Pillow format → (file extension, content type).
IMAGE_FORMATS = {
    "JPEG": ("jpg", "image/jpeg"),
    "PNG": ("png", "image/png"),
    "WEBP": ("webp", "image/webp"),
    "GIF": ("gif", "image/gif"),
}
VIDEO_TYPES = {"video/mp4": "mp4", "video/webm": "webm"}
# What survives re-encoding: how the pixels look, nothing about who or where.
IMAGE_INFO_KEPT = ("transparency", "icc_profile", "background")


class ImageRejected(Exception):
    """The file is not an image we accept; the message says why, in the user's language."""


class UploadQuotaExceeded(Exception):
    """The user's uploads of the last MEDIA_UPLOAD_QUOTA_DAYS already take
    MEDIA_UPLOAD_QUOTA_BYTES; `retry_after` seconds from now enough of them leave the window."""

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class PromptEmpty(ValueError):
    pass


class NotAMediaModel(ValueError):
    """The model is unknown, switched off, or generates text rather than media."""


@dataclass(frozen=True)
class CleanFile:
    data: bytes
    extension: str
    content_type: str
    width: int = 0
    height: int = 0


def megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):g}"


def image_clean(data: bytes, *, max_bytes: int) -> CleanFile:
    """Decodes `data` fully and re-encodes its first frame without metadata.

    Raises:
        ImageRejected: too large, not one of our formats, too many pixels, or damaged.
    """
    if len(data) > max_bytes:
        raise ImageRejected(_("Файл больше %(limit)s МБ.") % {"limit": megabytes(max_bytes)})
    try:
        with Image.open(io.BytesIO(data), formats=list(IMAGE_FORMATS)) as image:
            # Only the header is read so far: refuse a decompression bomb before decoding it.
            if image.width * image.height > settings.MEDIA_UPLOAD_MAX_PIXELS:
                raise ImageRejected(_("Слишком большое изображение по числу пикселей."))
            image.load()
            # Phones often write MPO (a JPEG with extra pictures appended); we keep the JPEG.
            image_format = "JPEG" if image.format == "MPO" else image.format
            if image_format == "JPEG":
                # Phones record rotation in EXIF; apply it before EXIF goes.
                image = ImageOps.exif_transpose(image)
            image.info = {key: value for key, value in image.info.items() if key in IMAGE_INFO_KEPT}
            out = io.BytesIO()
            options = {"quality": 90} if image_format in ("JPEG", "WEBP") else {}
            image.save(out, format=image_format, **options)
            width, height = image.size
    except Image.DecompressionBombError as exc:
        raise ImageRejected(_("Слишком большое изображение по числу пикселей.")) from exc
    except UnidentifiedImageError as exc:
        raise ImageRejected(_("Это не изображение: поддерживаются JPEG, PNG, WebP и GIF.")) from exc
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        raise ImageRejected(_("Изображение повреждено или обрезано.")) from exc
    extension, content_type = IMAGE_FORMATS[image_format]
    return CleanFile(out.getvalue(), extension, content_type, width, height)


def _storage_name(folder: str, extension: str) -> str:
    return f"{folder}/{timezone.now():%Y/%m}/{uuid.uuid4()}.{extension}"


def _upload_quota_check(*, user, size: int) -> None:
    """Uploads are never deleted, so what one user may store is bounded per window: at most
    MEDIA_UPLOAD_QUOTA_BYTES in the last MEDIA_UPLOAD_QUOTA_DAYS. Not locked: parallel uploads
    (few, RATE_LIMITS["upload"]) may pass it by a file each, which is the price of not holding a
    row lock while the file goes to storage."""
    quota = settings.MEDIA_UPLOAD_QUOTA_BYTES
    since = timezone.now() - timedelta(days=settings.MEDIA_UPLOAD_QUOTA_DAYS)
    stored = list(
        Upload.objects.filter(owner=user, created_at__gte=since)
        .order_by("created_at")
        .values_list("created_at", "size")
    )
    over = sum(stored_size for _, stored_size in stored) + size - quota
    if over <= 0:
        return
    # Seconds until the oldest uploads whose bytes must go have left the window.
    freed, leaves = 0, since
    for created_at, stored_size in stored:
        freed, leaves = freed + stored_size, created_at
        if freed >= over:
            break
    raise UploadQuotaExceeded(
        _("Лимит хранилища: не больше %(limit)s МБ картинок за %(days)s дн. Повторите позже.")
        % {"limit": megabytes(quota), "days": settings.MEDIA_UPLOAD_QUOTA_DAYS},
        retry_after=max(1, int((leaves - since).total_seconds()) + 1),
    )


def upload_create(*, user, file: UploadedFile) -> Upload:
    """Stores the user's picture for a vision prompt; nothing is stored if it is refused.

    Raises:
        ImageRejected: see `image_clean`.
        UploadQuotaExceeded: see `_upload_quota_check`.
    """
    limit = settings.MEDIA_UPLOAD_MAX_BYTES
    if file.size is not None and file.size > limit:
        # Refuse by the declared size before reading a large file into memory.
        raise ImageRejected(_("Файл больше %(limit)s МБ.") % {"limit": megabytes(limit)})
    clean = image_clean(file.read(limit + 1), max_bytes=limit)
    _upload_quota_check(user=user, size=len(clean.data))
    name = default_storage.save(_storage_name("uploads", clean.extension), ContentFile(clean.data))
    try:
        return Upload.objects.create(
            owner=user,
            name=name,
            url=default_storage.url(name),
            content_type=clean.content_type,
            size=len(clean.data),
            width=clean.width,
            height=clean.height,
        )
    except Exception:
        default_storage.delete(name)
        raise


def upload_url_is_owned(*, user, url: str) -> bool:
    """Whether `url` is one of `user`'s own uploads (the only images a vision prompt may use)."""
    return Upload.objects.filter(owner=user, url=url).exists()


def generation_start(
    *, user, model: AIModel, prompt: str, on_created: Callable[[Generation], object] | None = None
) -> Generation:
    """Reserves the model's price, submits the job to Fal and returns without waiting.

    `on_created(generation)` runs inside the transaction that reserves the money and records the
    job, before anything is submitted: the chat attaches its message there, so the job cannot
    finish (`generation_finished`) before the message that shows it exists.

    Raises:
        PromptEmpty: nothing to generate from.
        NotAMediaModel: the model is switched off or is a chat model.
        wallets.services.InsufficientFunds: the available balance cannot cover the price.
    """
    prompt = prompt.strip()
    if not prompt:
        raise PromptEmpty(_("Опишите, что нужно сгенерировать."))
    if not model.enabled or not model.is_media:
        raise NotAMediaModel(model.model_id)
    generation_id = uuid.uuid4()
    reference = f"fal:{generation_id}"
    with transaction.atomic():
        hold_place(
            user=user,
            amount=model.price_per_generation,
            reference=reference,
            # In the site's language whoever's request runs this (see wallets.views._describe).
            description=gettext_noop("Генерация: %(model)s") % {"model": model.name},
            metadata={
                "generation": True,
                "model": model.model_id,
                "model_name": model.name,
                "generation_id": str(generation_id),
            },
            # The hold must outlive the job's deadline, or the expiry sweep would free it mid-job.
            ttl=timedelta(seconds=settings.MEDIA_GENERATION_TIMEOUT + settings.WALLET_HOLD_TTL_SECONDS),
        )
        generation = Generation.objects.create(
            id=generation_id,
            user=user,
            model=model.model_id,
            kind=model.kind,
            prompt=prompt,
            price=model.price_per_generation,
            hold_reference=reference,
        )
        if on_created is not None:
            on_created(generation)
    # The network call happens after the hold is committed and outside any transaction.
    try:
        submission = fal.submit(model=model.model_id, arguments={"prompt": prompt})
    except fal.FalNotConfigured:
        return _fail(generation, error=_("Генерация изображений не настроена. Деньги не списаны."))
    except fal.FalError as exc:
        logger.warning("Fal refused generation %s: %s", generation.pk, exc)
        return _fail(generation, error=_("Сервис генерации недоступен, попробуйте позже. Деньги не списаны."))
    Generation.objects.filter(pk=generation.pk).update(
        fal_request_id=submission.request_id,
        status_url=submission.status_url,
        response_url=submission.response_url,
    )
    generation.refresh_from_db()
    transaction.on_commit(lambda: tasks.generation_poll.delay(str(generation.pk)))
    return generation


def generation_poll(*, generation_id) -> Generation:
    """Asks Fal once about the job and finishes it when it completed or its deadline passed.

    Returns the generation; while it is still active the caller asks again later (the task
    re-enqueues itself, so no worker waits on Fal). Safe to run again or in parallel: a
    finished generation is returned as it is.
    """
    generation = Generation.objects.get(pk=generation_id)
    if not generation.is_active:
        return generation
    if timezone.now() >= generation.created_at + timedelta(seconds=settings.MEDIA_GENERATION_TIMEOUT):
        return _fail(generation, error=_("Генерация не завершилась вовремя. Деньги не списаны."))
    try:
        state = fal.status(status_url=generation.status_url)
    except fal.FalUnavailable as exc:
        logger.info("Fal status for generation %s unavailable, will ask again: %s", generation.pk, exc)
        return generation
    except fal.FalError as exc:
        logger.warning("Fal status for generation %s refused: %s", generation.pk, exc)
        return _fail(generation, error=_("Генерация не удалась. Деньги не списаны."))
    if state.status == fal.COMPLETED:
        return _complete(generation, error=state.error)
    if state.status == fal.IN_PROGRESS and generation.status == Generation.Status.PENDING:
        Generation.objects.filter(pk=generation.pk, status=Generation.Status.PENDING).update(
            status=Generation.Status.RUNNING
        )
        generation.refresh_from_db()
    return generation


def _complete(generation: Generation, *, error: str) -> Generation:
    """Copies a completed job's files into our storage and charges for it, once."""
    try:
        if error:
            raise fal.FalRefused(error)
        urls = fal.result_file_urls(fal.result(response_url=generation.response_url))
    except fal.FalUnavailable:
        raise  # Fal's trouble, not the job's: the task asks again
    except fal.FalError as exc:
        logger.warning("Fal generation %s failed: %s", generation.pk, exc)
        return _fail(generation, error=_("Модель не смогла выполнить запрос. Деньги не списаны."))
    stored: list[str] = []
    try:
        if not urls:
            raise fal.FalRefused("the result has no files")
        for url in urls[: settings.MEDIA_RESULT_MAX_FILES]:
            stored.append(_result_store(fal.download(url=url, max_bytes=settings.MEDIA_RESULT_MAX_BYTES)))
    except Exception as exc:
        # The copies are made outside any transaction: undo them whatever went wrong.
        for name in stored:
            default_storage.delete(name)
        if isinstance(exc, fal.FalUnavailable) or not isinstance(exc, (fal.FalError, ImageRejected)):
            raise  # a file host, our storage or database in trouble: the task tries again
        logger.warning("Could not collect the result of generation %s: %s", generation.pk, exc)
        return _fail(generation, error=_("Не удалось получить результат генерации. Деньги не списаны."))

    result_urls = [default_storage.url(name) for name in stored]
    with transaction.atomic():
        claimed = Generation.objects.filter(pk=generation.pk, status__in=Generation.ACTIVE).update(
            status=Generation.Status.COMPLETED, result_urls=result_urls, finished_at=timezone.now()
        )
        if claimed == 1:
            hold_settle(reference=generation.hold_reference, amount=generation.price)
            generation.refresh_from_db()
            generation_finished.send(sender=Generation, generation=generation)
    if claimed != 1:
        # Another run of the task finished it first; its files are the ones on record.
        for name in stored:
            default_storage.delete(name)
        generation.refresh_from_db()
    return generation


def _result_store(file: fal.File) -> str:
    """Stores one downloaded result under generations/ and returns its name: a video checked by
    its magic number and copied from the temporary file as it is, a picture decoded and
    re-encoded like an upload.

    Raises:
        ImageRejected: not the media its content type claims.
    """
    with file.content as content:
        if file.content_type in VIDEO_TYPES:
            head = content.read(12)
            # MP4 has an `ftyp` box at offset 4; WebM starts with the EBML magic number.
            if (file.content_type == "video/mp4" and head[4:8] != b"ftyp") or (
                file.content_type == "video/webm" and not head.startswith(b"\x1a\x45\xdf\xa3")
            ):
                raise ImageRejected(_("Файл результата повреждён."))
            content.seek(0)
            name = _storage_name("generations", VIDEO_TYPES[file.content_type])
            return default_storage.save(name, DjangoFile(content))
        clean = image_clean(content.read(), max_bytes=settings.MEDIA_RESULT_MAX_BYTES)
        return default_storage.save(_storage_name("generations", clean.extension), ContentFile(clean.data))


def _fail(generation: Generation, *, error: str) -> Generation:
    """Marks an unfinished generation failed and gives its hold back, once."""
    with transaction.atomic():
        failed = Generation.objects.filter(pk=generation.pk, status__in=Generation.ACTIVE).update(
            status=Generation.Status.FAILED, error=error, finished_at=timezone.now()
        )
        generation.refresh_from_db()
        if failed == 1:
            hold_release(reference=generation.hold_reference)
            generation_finished.send(sender=Generation, generation=generation)
    return generation


def generation_give_up(*, generation_id) -> Generation:
    """Fails a generation its poller could not finish (see media.tasks.generation_poll) and
    releases its hold; a finished one is returned as it is."""
    return _fail(
        Generation.objects.get(pk=generation_id),
        error=_("Не удалось получить результат генерации. Деньги не списаны."),
    )


def generations_expire(*, now=None) -> int:
    """Gives up generations whose poller died (a crashed worker) well past their deadline.

    Returns how many it failed; each releases its hold. A live poller fails its own job at the
    deadline, so this only finds the ones nobody is watching any more.
    """
    now = now or timezone.now()
    # The poller's hard time limit runs past the deadline; leave it that long to finish.
    cutoff = now - timedelta(seconds=settings.MEDIA_GENERATION_TIMEOUT + 300)
    stale = Generation.objects.filter(status__in=Generation.ACTIVE, created_at__lt=cutoff)
    failed = [
        _fail(generation, error=_("Генерация не завершилась вовремя. Деньги не списаны."))
        for generation in stale
    ]
    return sum(generation.status == Generation.Status.FAILED for generation in failed)
