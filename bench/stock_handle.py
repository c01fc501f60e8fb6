"""config.asgi with the stream handler's copied `handle` swapped back for Django's own: the
same short in-loop middleware chain, Django's request bookkeeping (a thread per request for the
request signals and the response's close). Measures what the copy in config/stream.py saves:

    .venv/bin/python bench/chat_relay.py --app bench.stock_handle:application ...
"""

from django.core.handlers.asgi import ASGIHandler

from config import asgi
from config.stream import StreamHandler


class StockStreamHandler(StreamHandler):
    handle = ASGIHandler.handle


# `http_app` looks the stream handler up at each request.
asgi.stream_asgi_app = StockStreamHandler()
application = asgi.application
