"""The streamed endpoints' own Django handler: the same views, a short chain that stays in the
event loop.

Django runs a `MiddlewareMixin` middleware under ASGI by sending each of its hooks to a thread
(`sync_to_async`), and a sync-only one (WhiteNoise, allauth's) turns the rest of the chain sync:
measured on the chat stream at 100 concurrent replies, the site's chain cost a dozen thread
hops per request and most of the time to the first token. The hooks kept here (security,
session, locale, CSRF, authentication) do no I/O in the request direction, so they run in the
loop; the session is read through the cache's native async client (config.cache) and saved on
a thread only when it changed. Left out, as they have nothing to do for a JSON request that
answers NDJSON: static files, common (slash redirects), messages, allauth's account and
user-session middleware (activity tracking is off; `accounts.middleware.session_lifetime` keeps
the session's lifetime here too), frame options and CSP (not a document).

`STREAM_PATHS` (settings) go to this handler; config/asgi.py routes them.
"""

from __future__ import annotations

import asyncio
import contextlib

from django.conf import settings
from django.contrib.auth.middleware import AuthenticationMiddleware
from django.contrib.sessions.middleware import SessionMiddleware
from django.core import signals
from django.core.exceptions import RequestAborted
from django.core.handlers.asgi import ASGIHandler, get_script_prefix
from django.middleware.csrf import CsrfViewMiddleware
from django.middleware.locale import LocaleMiddleware
from django.middleware.security import SecurityMiddleware
from django.urls import set_script_prefix

from config.threads import in_thread


class _InLoop:
    """Runs a Django middleware's request and response hooks in the event loop: only for
    middleware whose hooks do no I/O (a blocking call here would stall every stream)."""

    sync_capable = False
    async_capable = True

    async def __acall__(self, request):
        response = None
        if hasattr(self, "process_request"):
            response = self.process_request(request)
        response = response or await self.get_response(request)
        if hasattr(self, "process_response"):
            response = self.process_response(request, response)
        return response


class InLoopSecurityMiddleware(_InLoop, SecurityMiddleware):
    pass


class InLoopLocaleMiddleware(_InLoop, LocaleMiddleware):
    pass


class InLoopAuthenticationMiddleware(_InLoop, AuthenticationMiddleware):
    pass


class InLoopCsrfViewMiddleware(_InLoop, CsrfViewMiddleware):
    async def process_view(self, request, callback, callback_args, callback_kwargs):
        # Reads the cookie and the header (or the already-read body): no I/O.
        return super().process_view(request, callback, callback_args, callback_kwargs)


class InLoopSessionMiddleware(_InLoop, SessionMiddleware):
    """The session store is lazy (nothing is read until used); saving a changed session writes
    to the cache and the database, so that one response goes through a thread."""

    async def __acall__(self, request):
        self.process_request(request)
        response = await self.get_response(request)
        if request.session.modified:
            return await in_thread(self.process_response)(request=request, response=response)
        return self.process_response(request, response)


# Replies being streamed: a stopping server waits for them to record what they relayed.
IN_FLIGHT: set[asyncio.Task] = set()


async def drain(*, timeout: float) -> None:
    """Waits up to `timeout` seconds for the replies in flight to finish their bookkeeping.

    uvicorn cancels the requests still open when its graceful shutdown times out and does not
    wait for them; the lifespan shutdown (config/asgi.py) calls this before the process exits.
    """
    if IN_FLIGHT:
        await asyncio.wait(set(IN_FLIGHT), timeout=timeout)


class StreamHandler(ASGIHandler):
    """Django's ASGI handler with `settings.STREAM_MIDDLEWARE` as its chain, and its request's
    bookkeeping kept in the loop.

    Django's `handle` sends `request_started` and closes the response (`request_finished`)
    through thread-sensitive `sync_to_async`, inside a `ThreadSensitiveContext`: a new thread
    per request, started from the event loop and joined by another new thread at the end. The
    receivers (`reset_queries`, `close_old_connections`, `close_caches`, `reset_urlconf`) have
    nothing to do in the loop's thread (the views' database work runs on `in_thread`, which
    hands its connection back), so here they are called in place; a test lists them, so a new
    one gets looked at. Otherwise this is Django 5.2's `ASGIHandler.handle`: the same
    disconnect handling cancels the view when the client goes.
    """

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            raise ValueError(f"The stream handler serves HTTP only, not {scope['type']}.")
        await self.handle(scope, receive, send)

    async def handle(self, scope, receive, send):
        try:
            body_file = await self.read_body(receive)
        except RequestAborted:
            return
        set_script_prefix(get_script_prefix(scope))
        signals.request_started.send(sender=self.__class__, scope=scope)
        request, error_response = self.create_request(scope, body_file)
        if request is None:
            body_file.close()
            await self.send_response(error_response, send)
            error_response.close()
            return

        async def process_request():
            response = await self.run_get_response(request)
            with contextlib.suppress(asyncio.CancelledError):  # the client went away meanwhile
                await self.send_response(response, send)
            return response

        disconnect = asyncio.create_task(self.listen_for_disconnect(receive))
        respond = asyncio.create_task(process_request())
        IN_FLIGHT.add(respond)
        respond.add_done_callback(IN_FLIGHT.discard)
        try:
            try:
                await asyncio.wait((disconnect, respond), return_when=asyncio.FIRST_COMPLETED)
            except asyncio.CancelledError:
                # The server is stopping and its grace period is over: the view sees the
                # cancellation and records its reply; `drain` (at lifespan shutdown) waits for it.
                disconnect.cancel()
                respond.cancel()
                raise
            for task in (disconnect, respond):
                if task.done():
                    with contextlib.suppress(RequestAborted):
                        task.result()
                else:
                    # The view sees the cancellation (the stream records its partial reply).
                    task.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await task
            try:
                response = respond.result()
            except asyncio.CancelledError:
                signals.request_finished.send(sender=self.__class__)
            else:
                response.close()
        finally:
            body_file.close()

    def load_middleware(self, is_async=False):
        # BaseHandler reads the chain from settings.MIDDLEWARE; it is swapped for the build
        # only (once, at start-up, before any request).
        site_chain = settings.MIDDLEWARE
        settings.MIDDLEWARE = settings.STREAM_MIDDLEWARE
        try:
            super().load_middleware(is_async)
        finally:
            settings.MIDDLEWARE = site_chain
