"""The session-lifetime middleware on both of Django's paths (sync and async handlers)."""

import time
from importlib import import_module

import pytest
from asgiref.sync import sync_to_async
from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.db import connections
from django.http import HttpResponse
from django.test import RequestFactory

from accounts.middleware import SEEN_KEY, STARTED_KEY, session_lifetime

pytestmark = pytest.mark.django_db(transaction=True)


def signed_in_request(alice, *, started: float, seen: float):
    session = import_module(settings.SESSION_ENGINE).SessionStore()
    session.update({SESSION_KEY: str(alice.pk), STARTED_KEY: started, SEEN_KEY: seen})
    session.save()
    request = RequestFactory().get("/")
    request.session = import_module(settings.SESSION_ENGINE).SessionStore(session.session_key)
    return request


async def async_view(request):
    return HttpResponse("ok")


def sync_view(request):
    return HttpResponse("ok")


@pytest.mark.asyncio
async def test_the_async_path_ends_a_session_past_its_absolute_lifetime(alice):
    request = await sync_to_async(signed_in_request)(
        alice, started=time.time() - settings.SESSION_ABSOLUTE_LIFETIME - 1, seen=time.time()
    )
    await session_lifetime(async_view)(request)
    assert not await request.session.ahas_key(SESSION_KEY)
    await sync_to_async(connections.close_all)()


@pytest.mark.asyncio
async def test_the_async_path_renews_an_idle_session_once_the_interval_passed(alice):
    old = time.time() - settings.SESSION_TOUCH_INTERVAL - 5
    request = await sync_to_async(signed_in_request)(alice, started=old, seen=old)
    await session_lifetime(async_view)(request)
    assert await request.session.aget(SEEN_KEY) > old + 5
    assert request.session.modified
    await sync_to_async(connections.close_all)()


def test_the_sync_path_leaves_a_recently_seen_session_unwritten(alice):
    request = signed_in_request(alice, started=time.time() - 60, seen=time.time() - 60)
    session_lifetime(sync_view)(request)
    assert request.session.get(SESSION_KEY) == str(alice.pk)
    assert not request.session.modified
