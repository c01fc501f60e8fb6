"""A fake OpenRouter API on 127.0.0.1, spoken to by the real `chats.openrouter` client.

- `POST /api/v1/chat/completions` with `stream: true`: OpenAI-style SSE in HTTP chunked
  encoding, `: OPENROUTER PROCESSING` comment lines first, one `data:` event per token at
  `pace` seconds apart, usage (`prompt_tokens`, `completion_tokens`, `cost`) in the last event,
  then `data: [DONE]`; the `X-Generation-Id` header names the generation. It honours
  `max_tokens` (stops with `finish_reason: "length"`).
- `GET /api/v1/generation?id=…`: the generation's stats (404 for the first
  `generation_misses` asks, as OpenRouter does until it has recorded it). `generation_answer`
  makes it answer otherwise: "html" (a maintenance page under HTTP 200), "not-an-object"
  (`{"data": []}`), "no-counts" (`{"data": {"tokens_prompt": "many"}}`), "error" (HTTP 500) or
  "hang" (nothing until the client times out).
- `GET /api/v1/models`: the model list with USD-per-token prices.

Knobs on `FakeOpenRouter` (the value of the `openrouter` fixture in tests/conftest.py): `tokens`, `pace`,
`first_byte_delay`, `status` (401/402/429/502 before any content), `error_after` (the
mid-stream error event after N tokens, under HTTP 200), `drop_after` (the connection closes
after N tokens without usage or `[DONE]`), `usage_in_stream`, `hang` (headers never come),
`together` (all the token events in one write, as a proxy that buffered them would send).
It records every request (`chat_requests()`), sets `closed_early` when the client hung up
mid-stream and `finished` when a stream was written to its end.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections.abc import Callable

from tests.fakes.server import FakeHandler, FakeServer

API_KEY = "test-openrouter-key"
PREFIX = "/api/v1"


# The wire format, also spoken by bench/chat_relay.py's asyncio server (at 100 streams this
# threaded one would be the bench's bottleneck) ----------------------------------------------
PROCESSING = b": OPENROUTER PROCESSING\n\n"
DONE = b"data: [DONE]\n\n"


def chunk(data: bytes) -> bytes:
    """One piece of an HTTP/1.1 chunked body; an empty one ends the body."""
    return b"%x\r\n%s\r\n" % (len(data), data)


def sse(data: dict) -> bytes:
    return b"data: " + json.dumps(data).encode() + b"\n\n"


def token_event(generation_id: str, model: str | None, text: str) -> dict:
    return {
        "id": generation_id,
        "model": model,
        "choices": [{"index": 0, "delta": {"role": "assistant", "content": text}}],
    }


def final_event(generation_id: str, reason: str, usage: dict | None = None) -> dict:
    final: dict = {
        "id": generation_id,
        "choices": [{"index": 0, "delta": {"content": ""}, "finish_reason": reason}],
    }
    if usage is not None:
        final["usage"] = usage
    return final


def usage(prompt_tokens: int, completion_tokens: int) -> dict:
    return {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "total_tokens": prompt_tokens + completion_tokens,
        "cost": round((prompt_tokens + completion_tokens) * 1e-6, 8),
    }


class OpenRouterHandler(FakeHandler):
    # Each event leaves at once, as from a real server (Nagle would hold small writes back).
    disable_nagle_algorithm = True

    def route(self, method: str, path: str) -> None:
        state: FakeOpenRouter = self.fake.openrouter
        if self.headers.get("Authorization") != f"Bearer {API_KEY}":
            self.send_json({"error": {"code": 401, "message": "No auth credentials found"}}, 401)
            return
        if method == "POST" and path == f"{PREFIX}/chat/completions":
            self._completion(state)
        elif method == "GET" and path == f"{PREFIX}/generation":
            self._generation(state)
        elif method == "GET" and path == f"{PREFIX}/models":
            self.send_json({"data": state.models})
        else:
            self.send_json({"error": {"code": 404, "message": f"{method} {path}"}}, 404)

    def _write(self, data: bytes) -> None:
        self.wfile.write(chunk(data))

    def _event(self, data: dict) -> None:
        self._write(sse(data))

    def _completion(self, state: FakeOpenRouter) -> None:
        if state.hang:
            # Answers nothing (bounded, so a stuck thread cannot outlive the test run).
            state.release.wait(30)
            return
        body = self.json_body()
        # Per-request behaviour (`plan`) over the fake's knobs: concurrent requests can each
        # end differently.
        plan = state.plan(body) if state.plan else {}
        status = plan.get("status", state.status)
        error_after = plan.get("error_after", state.error_after)
        drop_after = plan.get("drop_after", state.drop_after)
        if status != 200:
            self.send_json({"error": {"code": status, "message": f"fake error {status}"}}, status)
            return
        generation_id = state.next_generation_id()
        limit = body.get("max_tokens") or len(state.tokens)
        tokens = state.tokens[:limit]
        sent = 0
        held_back = b""
        try:
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Transfer-Encoding", "chunked")
            self.send_header("X-Generation-Id", generation_id)
            self.end_headers()
            self._write(PROCESSING)
            if state.first_byte_delay:
                time.sleep(state.first_byte_delay)
                self._write(PROCESSING)
            for token in tokens:
                if error_after is not None and sent == error_after:
                    self._event(
                        {
                            "id": generation_id,
                            "error": {"code": 502, "message": "Provider returned error"},
                            "choices": [{"index": 0, "delta": {"content": ""}, "finish_reason": "error"}],
                        }
                    )
                    self._write(b"")
                    return
                if drop_after is not None and sent == drop_after:
                    # No terminating chunk: the connection just closes.
                    self.close_connection = True
                    return
                event = token_event(generation_id, body.get("model"), token)
                if state.together:
                    held_back += sse(event)
                else:
                    self._event(event)
                sent += 1
                # OpenRouter bills what the model generated, delivered or not.
                state.record_generation(generation_id, sent)
                if state.pace:
                    time.sleep(state.pace)
            if held_back:
                self._write(held_back)
            reason = "length" if len(tokens) < len(state.tokens) else "stop"
            self._event(
                final_event(generation_id, reason, state.usage(sent) if state.usage_in_stream else None)
            )
            self._write(DONE)
            self._write(b"")
            state.finished.set()
        except (BrokenPipeError, ConnectionResetError):
            state.closed_early.set()
            self.close_connection = True
        finally:
            state.record_generation(generation_id, sent)

    def _generation(self, state: FakeOpenRouter) -> None:
        answer = state.generation_answer
        if answer == "hang":
            state.release.wait(30)
            return
        if answer in GENERATION_ANSWERS:
            status, content_type, body = GENERATION_ANSWERS[answer]
            self.send_bytes(body, content_type, status)
            return
        generation_id = (self.query.get("id") or [""])[0]
        with self.fake.lock:
            stats = state.generations.get(generation_id)
            missing = stats is None or state.generation_misses > 0
            if stats is not None and state.generation_misses > 0:
                state.generation_misses -= 1
        if missing:
            self.send_json({"error": {"code": 404, "message": "Generation not found"}}, 404)
        else:
            self.send_json({"data": stats})


# What /generation answers instead of the record, by `FakeOpenRouter.generation_answer`.
GENERATION_ANSWERS = {
    "html": (200, "text/html", b"<html><body><h1>We'll be right back</h1></body></html>"),
    "not-an-object": (200, "application/json", b'{"data": []}'),
    "no-counts": (200, "application/json", b'{"data": {"id": "x", "tokens_prompt": "many"}}'),
    "error": (500, "application/json", b'{"error": {"code": 500, "message": "Internal Server Error"}}'),
}


class FakeOpenRouter:
    def __init__(self, server: FakeServer):
        self.server = server
        self.tokens: list[str] = ["Hello", ", ", "world", "!"]
        self.pace = 0.0
        self.first_byte_delay = 0.0
        self.prompt_tokens = 20
        self.status = 200
        self.error_after: int | None = None
        self.drop_after: int | None = None
        self.usage_in_stream = True
        self.together = False
        self.hang = False
        self.generation_misses = 0
        self.generation_answer: str | None = None
        # `plan(request body) -> {"status" | "error_after" | "drop_after": …}` overrides those
        # knobs for one request.
        self.plan: Callable[[dict], dict] | None = None
        self.generations: dict[str, dict] = {}
        self.models: list[dict] = []
        self.release = threading.Event()
        self.closed_early = threading.Event()
        self.finished = threading.Event()
        self._ids = itertools.count(1)

    @property
    def base_url(self) -> str:
        return f"{self.server.url}{PREFIX}"

    @property
    def text(self) -> str:
        return "".join(self.tokens)

    def next_generation_id(self) -> str:
        with self.server.lock:
            return f"gen-{next(self._ids)}"

    def usage(self, completion_tokens: int) -> dict:
        return usage(self.prompt_tokens, completion_tokens)

    def record_generation(self, generation_id: str, completion_tokens: int) -> None:
        usage = self.usage(completion_tokens)
        with self.server.lock:
            self.generations[generation_id] = {
                "id": generation_id,
                "tokens_prompt": self.prompt_tokens,
                "tokens_completion": completion_tokens,
                "native_tokens_prompt": self.prompt_tokens,
                "native_tokens_completion": completion_tokens,
                "total_cost": usage["cost"],
            }

    def chat_requests(self) -> list:
        return self.server.requests_to(f"{PREFIX}/chat/completions", "POST")

    def generation_requests(self) -> list:
        return self.server.requests_to(f"{PREFIX}/generation", "GET")
