"""Session lifetime: an inactivity timeout and an absolute lifetime.

Django alone gives a session a fixed age from its last save. Saving on every request would
renew it but costs a write per request (the chat stream's first token waits on it), so the
session is saved at most once per SESSION_TOUCH_INTERVAL: each save pushes the expiry
SESSION_COOKIE_AGE ahead, capped at SESSION_ABSOLUTE_LIFETIME after sign-in, and records
"last seen" for the usersessions page. A session past its absolute lifetime is ended.
"""

from __future__ import annotations

import time

from allauth.usersessions.models import UserSession
from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.utils import timezone

from config.threads import in_thread

STARTED_KEY = "_session_started_at"
SEEN_KEY = "_session_seen_at"

KEEP, TOUCH, END = "keep", "touch", "end"


def decide(*, started: float | None, seen: float | None, now: float) -> str:
    if started is not None and now - started > settings.SESSION_ABSOLUTE_LIFETIME:
        return END
    if started is None or seen is None or now - seen >= settings.SESSION_TOUCH_INTERVAL:
        return TOUCH
    return KEEP


def expiry_seconds(*, started: float, now: float) -> int:
    remaining = settings.SESSION_ABSOLUTE_LIFETIME - (now - started)
    return max(1, int(min(settings.SESSION_COOKIE_AGE, remaining)))


def mark_signed_in(session) -> None:
    """Starts the absolute lifetime; called when a user signs in."""
    now = time.time()
    session[STARTED_KEY] = now
    session[SEEN_KEY] = now
    session.set_expiry(expiry_seconds(started=now, now=now))


def _record_seen(*, session_key: str, ip: str) -> None:
    fields = {"last_seen_at": timezone.now()}
    if ip:
        fields["ip"] = ip
    UserSession.objects.filter(session_key=session_key).update(**fields)


def session_lifetime(get_response):
    if iscoroutinefunction(get_response):

        async def middleware(request):
            session = request.session
            touched = False
            if await session.ahas_key(SESSION_KEY):
                started, seen = await session.aget(STARTED_KEY), await session.aget(SEEN_KEY)
                action = decide(started=started, seen=seen, now=time.time())
                if action == END:
                    await session.aflush()
                elif action == TOUCH:
                    now = time.time()
                    started = started or now
                    await session.aset(STARTED_KEY, started)
                    await session.aset(SEEN_KEY, now)
                    await session.aset_expiry(expiry_seconds(started=started, now=now))
                    touched = True
            response = await get_response(request)
            if touched and session.session_key:
                await in_thread(_record_seen)(
                    session_key=session.session_key, ip=request.META.get("REMOTE_ADDR", "")
                )
            return response

        return markcoroutinefunction(middleware)

    def middleware(request):
        session = request.session
        touched = False
        if SESSION_KEY in session:
            started, seen = session.get(STARTED_KEY), session.get(SEEN_KEY)
            action = decide(started=started, seen=seen, now=time.time())
            if action == END:
                session.flush()
            elif action == TOUCH:
                now = time.time()
                started = started or now
                session[STARTED_KEY] = started
                session[SEEN_KEY] = now
                session.set_expiry(expiry_seconds(started=started, now=now))
                touched = True
        response = get_response(request)
        if touched and session.session_key:
            _record_seen(session_key=session.session_key, ip=request.META.get("REMOTE_ADDR", ""))
        return response

    return middleware


session_lifetime.sync_capable = True
session_lifetime.async_capable = True
