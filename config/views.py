import logging

from django.core.cache import cache
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from config.celery import app as celery_app

logger = logging.getLogger(__name__)


def home(request: HttpRequest) -> HttpResponse:
    features = [
        {
            "icon": "ph-chats-circle",
            "title": _("Чат с 50+ моделями"),
            "text": _("Ответ появляется по мере генерации, история сохраняется."),
        },
        {
            "icon": "ph-image",
            "title": _("Картинки и видео"),
            "text": _("Генерация изображений и видео, анализ ваших фотографий."),
        },
        {
            "icon": "ph-wallet",
            "title": _("Честная оплата"),
            "text": _("Рублёвый кошелёк, списание за фактические токены, баланс не уходит в минус."),
        },
    ]
    return render(request, "home.html", {"features": features})


def _check_database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


def _check_cache() -> None:
    cache.set("healthz", "ok", 5)
    if cache.get("healthz") != "ok":
        raise RuntimeError("cache did not return what was written")


def _check_broker() -> None:
    with celery_app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1, timeout=2)


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """State of the database, cache and broker: 200 when all are up, 503 otherwise.

    Failure reasons go to the log, not the answer: the endpoint is public.
    """
    checks = {"database": _check_database, "cache": _check_cache, "broker": _check_broker}
    state = {}
    for name, check in checks.items():
        try:
            check()
            state[name] = "up"
        except Exception:
            logger.exception("healthz: %s is down", name)
            state[name] = "down"
    healthy = all(value == "up" for value in state.values())
    return JsonResponse({"status": "ok" if healthy else "fail", **state}, status=200 if healthy else 503)
