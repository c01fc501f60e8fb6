"""Routes for testing how errors are answered: one that fails, one that needs a CSRF token."""

from django.http import JsonResponse
from django.urls import path

from config.urls import handler400, handler403, handler404, handler500  # noqa: F401


def boom(request):
    raise RuntimeError("boom")


def echo(request):
    return JsonResponse({"ok": True})


urlpatterns = [path("api/boom", boom), path("boom", boom), path("api/echo", echo)]
