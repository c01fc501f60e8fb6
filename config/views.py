import logging

from django.core.cache import cache
from django.db import connection
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponsePermanentRedirect,
    HttpResponseRedirect,
    JsonResponse,
)
from django.shortcuts import render
from django.urls import reverse
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


@require_GET
def legal_page(request: HttpRequest, page: str) -> HttpResponse:
    """The offer, the privacy policy or the contacts: templates/legal/<page>.html, which an
    operator may replace (TEMPLATE_OVERRIDES_DIR); the seller's details come from settings."""
    return render(request, f"legal/{page}.html")


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


# The old system's addresses ---------------------------------------------------------------------
# Bookmarks, the landing pages and the providers' consoles still point at the FastAPI system's
# URLs; each leads to its new home. Permanent (301) where the meaning is the same.
OLD_PROVIDERS = ("vk", "google", "yandex", "telegram")


def _redirect_with_query(request: HttpRequest, name: str, *, permanent: bool) -> HttpResponse:
    url = reverse(name)
    if request.META.get("QUERY_STRING"):
        url = f"{url}?{request.META['QUERY_STRING']}"
    return (HttpResponsePermanentRedirect if permanent else HttpResponseRedirect)(url)


def old_login(request: HttpRequest, provider: str = "") -> HttpResponse:
    """`/login` and `/login/{provider}-direct`: the sign-in page, or the provider's sign-in."""
    if provider in OLD_PROVIDERS:
        return _redirect_with_query(request, f"{provider}_login", permanent=True)
    if provider in ("", "email"):
        return _redirect_with_query(request, "account_login", permanent=True)
    raise Http404


def old_callback(request: HttpRequest, provider: str) -> HttpResponse:
    """`/callback/{provider}`: the provider's callback, with everything it sent along."""
    if provider not in OLD_PROVIDERS:
        raise Http404
    return _redirect_with_query(request, f"{provider}_callback", permanent=True)


def old_logout(request: HttpRequest) -> HttpResponse:
    # The old GET signed out at once; ours asks first (a link must not sign anyone out), so the
    # meaning differs and the redirect is temporary.
    return _redirect_with_query(request, "account_logout", permanent=False)
