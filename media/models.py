"""Uploaded pictures and Fal.ai generations, both owned by one user.

Files live in the default storage (S3 when configured, local disk otherwise); the rows keep the
storage name and the public URL the site hands out, so "is this URL one of the user's own
uploads?" is a lookup, not string parsing.
"""

import uuid
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Upload(models.Model):
    gallery_kind = "upload"

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="uploads", verbose_name=_("владелец")
    )
    name = models.CharField(_("имя в хранилище"), max_length=300, unique=True)
    url = models.URLField(_("адрес"), max_length=1000)
    content_type = models.CharField(_("тип"), max_length=50)
    size = models.PositiveIntegerField(_("размер, байт"))
    width = models.PositiveIntegerField(_("ширина"))
    height = models.PositiveIntegerField(_("высота"))
    created_at = models.DateTimeField(_("загружено"), auto_now_add=True)

    class Meta:
        verbose_name = _("загрузка")
        verbose_name_plural = _("загрузки")
        indexes = [
            # The gallery: one user's uploads, newest first.
            models.Index(fields=["owner", "-created_at"], name="media_upload_owner_recent"),
            # The vision check: is this URL one of the user's uploads?
            models.Index(fields=["owner", "url"], name="media_upload_owner_url"),
        ]

    def __str__(self) -> str:
        return self.name


class Generation(models.Model):
    """One image or video generation: a hold on the wallet, a Fal queue request, its results.

    The hold (`hold_reference`) is placed before the request is submitted and closed exactly once:
    settled when the result is copied into our storage, released when Fal fails or the deadline
    passes. `wallets.services` makes closing idempotent by that reference, so a task that runs
    twice charges once.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("в очереди")
        RUNNING = "running", _("генерируется")
        COMPLETED = "completed", _("готово")
        FAILED = "failed", _("ошибка")

    ACTIVE = (Status.PENDING, Status.RUNNING)
    gallery_kind = "generation"

    id = models.UUIDField("ID", primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="generations",
        verbose_name=_("пользователь"),
    )
    model = models.CharField(_("модель"), max_length=200, help_text="fal-ai/flux/schnell")
    kind = models.CharField(_("вид"), max_length=10)
    prompt = models.TextField(_("запрос"))
    price = models.DecimalField(_("цена, ₽"), max_digits=12, decimal_places=2)
    status = models.CharField(_("состояние"), max_length=10, choices=Status.choices, default=Status.PENDING)
    hold_reference = models.CharField(_("ключ резерва"), max_length=200)
    fal_request_id = models.CharField(_("ID запроса Fal"), max_length=200, blank=True)
    # Where Fal said to ask about this request; the poller asks nowhere else.
    status_url = models.URLField(_("адрес статуса"), max_length=1000, blank=True)
    response_url = models.URLField(_("адрес результата"), max_length=1000, blank=True)
    result_urls = models.JSONField(_("результаты"), default=list, blank=True)
    error = models.TextField(_("ошибка"), blank=True)
    created_at = models.DateTimeField(_("создана"), auto_now_add=True)
    updated_at = models.DateTimeField(_("изменена"), auto_now=True)
    finished_at = models.DateTimeField(_("завершена"), null=True, blank=True)

    class Meta:
        verbose_name = _("генерация")
        verbose_name_plural = _("генерации")
        indexes = [
            # The gallery: one user's generations, newest first.
            models.Index(fields=["user", "-created_at"], name="media_generation_user_recent"),
        ]
        constraints = [
            # One hold per generation: the charge can never be taken twice under two keys.
            models.UniqueConstraint(fields=["hold_reference"], name="media_generation_hold_unique"),
            # Fal's request id names one job; a replayed submit cannot create a second row for it.
            models.UniqueConstraint(
                fields=["fal_request_id"], condition=~Q(fal_request_id=""), name="media_generation_fal_unique"
            ),
            models.CheckConstraint(condition=Q(price__gt=Decimal(0)), name="media_generation_price_positive"),
            # A finished generation says when it finished; a running one has not.
            models.CheckConstraint(
                condition=Q(status__in=["pending", "running"], finished_at__isnull=True)
                | (Q(status__in=["completed", "failed"]) & Q(finished_at__isnull=False)),
                name="media_generation_finished_consistently",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.model}: {self.prompt[:50]}"

    @property
    def is_active(self) -> bool:
        return self.status in self.ACTIVE
