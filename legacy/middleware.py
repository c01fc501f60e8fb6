"""The old system's sign-in cookie, honoured once: nobody is signed out by the switch-over.

The FastAPI system kept people signed in with a `session_id` cookie (HttpOnly, SameSite=Lax,
no expiry). The import stores the sha256 of every such session with its owner
(`LegacySession`). A page load that brings one signs its owner in with a fresh Django session,
as long as the old session is younger than SESSION_ABSOLUTE_LIFETIME (which keeps counting
from the old sign-in), and deletes both the stored record (so the cookie works once) and the
cookie. An unknown, forged, expired or already used cookie signs nobody in and is deleted too.

Only page loads carry it out: GET and HEAD requests to our own origin, SITE_URL's host and
scheme (https in production: the cookie is never taken over plain HTTP there). A POST would have its CSRF token rotated under it by the sign-in. The chat
stream's own chain (STREAM_MIDDLEWARE) leaves this out: its requests come from a page that was
loaded first, and its path to the first token stays free of the extra work.
"""

from __future__ import annotations

import logging
import time
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth import login

from accounts.middleware import STARTED_KEY, expiry_seconds
from legacy.services import legacy_session_claim

logger = logging.getLogger(__name__)

COOKIE = "session_id"


def _ours(request) -> bool:
    """A page load on our own origin: SITE_URL's host and scheme (https in production)."""
    site = urlsplit(settings.SITE_URL)
    return (
        request.method in ("GET", "HEAD")
        and request.scheme == site.scheme
        and request.get_host().lower() == site.netloc.lower()
    )


def legacy_session_cookie(get_response):
    def middleware(request):
        session_id = request.COOKIES.get(COOKIE)
        if session_id is None or not _ours(request):
            return get_response(request)
        stored = legacy_session_claim(session_id=session_id)
        if stored is None:
            logger.info("Old session cookie ignored: unknown, expired or already used")
        elif request.user.is_authenticated:
            logger.info(
                "Old session of user %s dropped: already signed in as %s", stored.user_id, request.user.pk
            )
        else:
            login(request, stored.user, backend="django.contrib.auth.backends.ModelBackend")
            # The absolute lifetime keeps counting from the old sign-in, not from now.
            started = stored.created_at.timestamp()
            request.session[STARTED_KEY] = started
            request.session.set_expiry(expiry_seconds(started=started, now=time.time()))
            logger.info("Old session honoured: user %s signed in with a new session", stored.user_id)
        response = get_response(request)
        response.set_cookie(
            COOKIE,
            "",
            max_age=0,
            expires="Thu, 01 Jan 1970 00:00:00 GMT",
            path="/",
            secure=request.is_secure(),
            httponly=True,
            samesite="Lax",
        )
        return response

    return middleware
