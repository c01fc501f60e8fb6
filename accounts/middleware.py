"""Session lifetime: an inactivity timeout and an absolute lifetime.

Django alone gives a session a fixed age from its last save. Saving on every request would
renew it but costs a write per request (the chat stream's first token waits on it), so the
session is saved at most once per SESSION_TOUCH_INTERVAL: each save pushes the expiry
SESSION_COOKIE_AGE ahead, capped at SESSION_ABSOLUTE_LIFETIME after sign-in, and records
"last seen" for the usersessions page. A session past its absolute lifetime is ended.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from allauth.usersessions.models import UserSession
from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.utils import timezone

from config.threads import in_thread

STARTED_KEY = "_session_started_at"
SEEN_KEY = "_session_seen_at"

# What `_renewal` decides for a session past its absolute lifetime.
END = "end"


@dataclass(frozen=True)
class _Renewal:
    """A session's lifetime written afresh: its start, "last seen" now, and its new expiry."""

    started: float
    seen: float
    expiry: int

    @property
    def values(self) -> dict[str, float]:
        return {STARTED_KEY: self.started, SEEN_KEY: self.seen}


def expiry_seconds(*, started: float, now: float) -> int:
    remaining = settings.SESSION_ABSOLUTE_LIFETIME - (now - started)
    return max(1, int(min(settings.SESSION_COOKIE_AGE, remaining)))


def _renewal(*, started: float | None, seen: float | None, now: float) -> str | _Renewal | None:
    """The lifetime rules, for a signed-in session last seen at `seen`: END past the absolute
    lifetime; a renewal when it was last written more than SESSION_TOUCH_INTERVAL ago (or never);
    None when it stays as it is."""
    if started is not None and now - started > settings.SESSION_ABSOLUTE_LIFETIME:
        return END
    if started is not None and seen is not None and now - seen < settings.SESSION_TOUCH_INTERVAL:
        return None
    started = started or now
    return _Renewal(started=started, seen=now, expiry=expiry_seconds(started=started, now=now))


def mark_signed_in(session) -> None:
    """Starts the absolute lifetime; called when a user signs in."""
    renewal = _renewal(started=None, seen=None, now=time.time())
    session.update(renewal.values)
    session.set_expiry(renewal.expiry)


def _record_seen(*, session_key: str, ip: str) -> None:
    fields = {"last_seen_at": timezone.now()}
    if ip:
        fields["ip"] = ip
    UserSession.objects.filter(session_key=session_key).update(**fields)


def session_lifetime(get_response):
    """Applies `_renewal` to each request's session, on Django's sync path and on the async one
    (where the session is read with its async methods: the stream's handler stays in the loop)."""
    if iscoroutinefunction(get_response):

        async def middleware(request):
            session = request.session
            renewal = None
            if await session.ahas_key(SESSION_KEY):
                now = time.time()
                renewal = _renewal(
                    started=await session.aget(STARTED_KEY), seen=await session.aget(SEEN_KEY), now=now
                )
                if renewal == END:
                    await session.aflush()
                elif renewal:
                    await session.aupdate(renewal.values)
                    await session.aset_expiry(renewal.expiry)
            response = await get_response(request)
            if renewal and renewal != END and session.session_key:
                await in_thread(_record_seen)(
                    session_key=session.session_key, ip=request.META.get("REMOTE_ADDR", "")
                )
            return response

        return markcoroutinefunction(middleware)

    def middleware(request):
        session = request.session
        renewal = None
        if SESSION_KEY in session:
            renewal = _renewal(started=session.get(STARTED_KEY), seen=session.get(SEEN_KEY), now=time.time())
            if renewal == END:
                session.flush()
            elif renewal:
                session.update(renewal.values)
                session.set_expiry(renewal.expiry)
        response = get_response(request)
        if renewal and renewal != END and session.session_key:
            _record_seen(session_key=session.session_key, ip=request.META.get("REMOTE_ADDR", ""))
        return response

    return middleware


session_lifetime.sync_capable = True
session_lifetime.async_capable = True
