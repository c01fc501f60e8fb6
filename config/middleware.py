from asgiref.sync import iscoroutinefunction
from django.contrib.auth import SESSION_KEY
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.cache import patch_cache_control
from django.utils.decorators import sync_and_async_middleware
from django.utils.translation import gettext_lazy as _

from config.errors import is_api

# Lazy: translated per request, in the request's language (this module is imported once, at start).
_DETAILS = {
    400: _("Некорректный запрос."),
    403: _("Доступ запрещён."),
    404: _("Не найдено."),
    405: _("Метод не разрешён."),
}


def _as_json_error(request: HttpRequest, response: HttpResponse) -> HttpResponse:
    if response.status_code < 400 or not is_api(request) or response.streaming:
        return response
    if response.get("Content-Type", "").startswith("application/json"):
        return response
    detail = _DETAILS.get(response.status_code, _("Внутренняя ошибка сервера."))
    json_response = JsonResponse({"detail": str(detail)}, status=response.status_code)
    if response.has_header("Allow"):
        json_response["Allow"] = response["Allow"]
    return json_response


@sync_and_async_middleware
def api_json_errors(get_response):
    """Errors under /api/ are JSON whoever produced them.

    Django's own answers (`require_POST`'s empty 405, DEBUG's technical 404 page) are HTML;
    this turns them into `{"detail": ...}`. Sync and async alike, so async views (the chat
    stream) are not pushed onto a thread.
    """
    if iscoroutinefunction(get_response):

        async def middleware(request: HttpRequest) -> HttpResponse:
            return _as_json_error(request, await get_response(request))

    else:

        def middleware(request: HttpRequest) -> HttpResponse:
            return _as_json_error(request, get_response(request))

    return middleware


def _no_store(response: HttpResponse, private: bool) -> HttpResponse:
    if private:
        patch_cache_control(response, no_store=True, private=True)
    return response


@sync_and_async_middleware
def private_no_store(get_response):
    """`Cache-Control: no-store` on every private answer: all of /api/ (balances, chats,
    payments; the one public route, the catalog, costs nothing to refetch) and every page of a
    signed-in session, so that neither a shared cache nor the browser's back button keeps them.

    "Signed in" is read from the session (the user id it carries), which the stream's in-loop
    chain can ask without loading the user. Listed right after the session middleware: every
    later answer (a CSRF refusal, api_json_errors' rewrite) passes through it.
    """
    if iscoroutinefunction(get_response):

        async def middleware(request: HttpRequest) -> HttpResponse:
            response = await get_response(request)
            return _no_store(response, is_api(request) or await request.session.ahas_key(SESSION_KEY))

    else:

        def middleware(request: HttpRequest) -> HttpResponse:
            response = get_response(request)
            return _no_store(response, is_api(request) or SESSION_KEY in request.session)

    return middleware
