"""The one ASGI application: Django for HTTP, session-authenticated websockets.

The streamed endpoints (settings.STREAM_PATHS) are served by Django too, through a handler
with a shorter middleware chain that stays in the event loop (config/stream.py).

Every HTTP request's body is bounded before it is read (config/limits.py).

Served by uvicorn in `make run` and production; `manage.py runserver` uses daphne.
"""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django_asgi_app = get_asgi_application()

# Imported after Django is set up: the routes import models.
from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402
from django.conf import settings  # noqa: E402

from chats import openrouter  # noqa: E402
from config.limits import BodyLimit  # noqa: E402
from config.routing import websocket_urlpatterns  # noqa: E402
from config.stream import StreamHandler, drain  # noqa: E402

stream_asgi_app = StreamHandler()


async def http_app(scope, receive, send):
    app = stream_asgi_app if scope["path"] in settings.STREAM_PATHS else django_asgi_app
    await app(scope, receive, send)


async def lifespan(scope, receive, send):
    """Start-up has nothing to do; at shutdown, replies cancelled by the server's graceful
    timeout record and bill what they relayed before the process exits, then the pooled
    upstream connections close."""
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await drain(timeout=settings.STREAM_DRAIN_TIMEOUT)
            await openrouter.sessions_close()
            await send({"type": "lifespan.shutdown.complete"})
            return


application = ProtocolTypeRouter(
    {
        "http": BodyLimit(http_app),
        "websocket": AllowedHostsOriginValidator(AuthMiddlewareStack(URLRouter(websocket_urlpatterns))),
        "lifespan": lifespan,
    }
)
