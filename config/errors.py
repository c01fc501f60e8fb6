"""Error answers: JSON under /api/, HTML elsewhere.

Django's handler404/handler500 and CSRF failure view cover requests that never reach a DRF view;
`api_exception_handler` shapes DRF's own errors the same way: `{"detail": "..."}`.
"""

import logging
import re

from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from rest_framework.exceptions import NotFound, Throttled
from rest_framework.views import exception_handler

from config.api import throttled_detail

logger = logging.getLogger(__name__)

_DJANGO_404 = re.compile(r"No .* matches the given query\.")


def is_api(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    if is_api(request):
        return JsonResponse({"detail": _("Не найдено.")}, status=404)
    return render(request, "404.html", status=404)


def server_error(request: HttpRequest) -> HttpResponse:
    if is_api(request):
        return JsonResponse({"detail": _("Внутренняя ошибка сервера.")}, status=500)
    return render(request, "500.html", status=500)


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    if is_api(request):
        return JsonResponse({"detail": _("Некорректный запрос.")}, status=400)
    return render(request, "400.html", status=400)


def permission_denied(request: HttpRequest, exception: Exception) -> HttpResponse:
    if is_api(request):
        return JsonResponse({"detail": _("Доступ запрещён.")}, status=403)
    return render(request, "403.html", status=403)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    logger.warning("CSRF failure on %s: %s", request.path, reason)
    if is_api(request):
        return JsonResponse({"detail": _("Проверка CSRF не пройдена. Обновите страницу.")}, status=403)
    return render(request, "403.html", {"reason": reason}, status=403)


def _flat(value) -> list:
    if isinstance(value, dict):
        return [message for item in value.values() for message in _flat(item)]
    if isinstance(value, list):
        return [message for item in value for message in _flat(item)]
    return [value]


def api_exception_handler(exc: Exception, context: dict):
    if isinstance(exc, Http404) and (not exc.args or _DJANGO_404.fullmatch(str(exc.args[0]))):
        # get_object_or_404's text is English and names the model ("No Generation matches the
        # given query."); our own Http404s keep their (translated) text.
        exc = NotFound(_("Не найдено."))
    elif isinstance(exc, Throttled):
        # DRF's own text; the status and Retry-After stay.
        exc = Throttled(wait=exc.wait, detail=throttled_detail(exc.wait))
    response = exception_handler(exc, context)
    if response is None:
        logger.exception("Unhandled error in %s", context.get("view"), exc_info=exc)
        return None  # Django's handler500 answers, as JSON for /api/.
    if isinstance(response.data, dict) and "detail" not in response.data:
        # One wrong field: its own message is the one to show ("Опишите, что нужно сгенерировать.").
        messages = [message for value in response.data.values() for message in _flat(value)]
        detail = messages[0] if len(messages) == 1 else _("Некорректные данные.")
        response.data = {"detail": str(detail), "errors": response.data}
    elif isinstance(response.data, list):
        response.data = {"detail": " ".join(str(item) for item in response.data)}
    return response
