"""A real HTTP server on 127.0.0.1, on a free port, for fakes of external services.

Each fake (OpenRouter, YooKassa, Casdoor, Fal) subclasses `FakeHandler`, routes by method and
path, and keeps its state on the `FakeServer` (reachable as `self.fake` in the handler), so
tests can prepare answers and read back what was sent. The production clients talk to it over
HTTP exactly as they would to the real service; only the base URL differs.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

POLL_INTERVAL = 0.01


class RecordedRequest:
    def __init__(
        self,
        method: str,
        path: str,
        query: dict[str, list[str]],
        headers: dict,
        body: bytes,
        peer: tuple[str, int] | None = None,
    ):
        self.method = method
        self.path = path
        self.query = query
        self.headers = headers
        self.body = body
        # The client's address and port: requests on one kept-alive connection share it.
        self.peer = peer

    def json(self) -> Any:
        return json.loads(self.body or b"null")

    def __repr__(self) -> str:
        return f"<{self.method} {self.path}>"


class FakeHandler(BaseHTTPRequestHandler):
    """Dispatches `do_<METHOD>` to `route(method, path)`; subclasses implement `route`."""

    protocol_version = "HTTP/1.1"
    fake: FakeServer

    def log_message(self, format: str, *args) -> None:
        pass

    def _handle(self) -> None:
        split = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        self.request_record = RecordedRequest(
            self.command,
            split.path,
            parse_qs(split.query),
            dict(self.headers.items()),
            body,
            self.client_address,
        )
        with self.fake.lock:
            self.fake.requests.append(self.request_record)
        if self.fake.on_request is not None:
            self.fake.on_request(self.request_record)
        self.route(self.command, split.path)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _handle

    def route(self, method: str, path: str) -> None:
        raise NotImplementedError

    # Answers ----------------------------------------------------------------------------------
    def send_json(self, data: Any, status: int = 200, headers: dict | None = None) -> None:
        body = json.dumps(data).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def send_bytes(self, body: bytes, content_type: str, status: int = 200) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    @property
    def query(self) -> dict[str, list[str]]:
        return self.request_record.query

    def json_body(self) -> Any:
        return self.request_record.json()


class FakeServer:
    """Runs `handler_class` on 127.0.0.1:<free port> in a daemon thread until `stop()`."""

    def __init__(self, handler_class: type[FakeHandler]):
        self.lock = threading.Lock()
        self.requests: list[RecordedRequest] = []
        # Called with each request before it is answered: a test can change the fake's
        # behaviour from the Nth request on.
        self.on_request: Callable[[RecordedRequest], None] | None = None
        handler = type(handler_class.__name__, (handler_class,), {"fake": self})
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.httpd.daemon_threads = True
        # `stop()` waits for the serving loop to notice the request; the default 0.5 s poll made
        # every test that used a fake wait out up to half a second at teardown.
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": POLL_INTERVAL}, daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> FakeServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def requests_to(self, path: str, method: str | None = None) -> list[RecordedRequest]:
        with self.lock:
            return [r for r in self.requests if r.path == path and (method is None or r.method == method)]
