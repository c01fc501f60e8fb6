"""A fake Fal.ai queue on 127.0.0.1, spoken to by `media.fal` over HTTP.

`POST /{model}` (the `Authorization: Key …` header checked) queues a job and answers
`request_id`, `status_url`, `response_url`; each status request moves a job one step along
IN_QUEUE → IN_PROGRESS → COMPLETED; the response URL then answers the result, whose file URLs
this server serves itself under `/files/`. A test chooses what happens next with
`outcome`: "complete" (default), "fail" (the model errors), "never" (the job never leaves
IN_PROGRESS). `gate`, when cleared, keeps every job IN_PROGRESS until the test sets it.
`status_errors` / `result_errors` make the next N status / result requests answer 503; `status_host` puts another host
into the status and response URLs a submit answers. `status_answer` / `result_answer` make every
status / result request answer otherwise until reset: "html" (a maintenance page under 200),
"error" (HTTP 500) or "hang" (nothing until the client times out). `file_host` puts another
origin into the result's file URLs (the files stay here).

The `fal` fixture (tests/conftest.py) starts it and points the settings at it.
"""

from __future__ import annotations

import io
import threading
import uuid

from PIL import Image

from tests.fakes.server import FakeHandler, FakeServer

FAL_KEY = "test-fal-key"
STEPS = ["IN_QUEUE", "IN_PROGRESS", "COMPLETED"]


def png_bytes(size: tuple[int, int] = (64, 48), color: str = "purple") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, format="PNG")
    return out.getvalue()


# The first bytes of an MP4 file: enough for the type check, which is all the app looks at.
MP4_BYTES = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + b"\x00" * 64


class FalHandler(FakeHandler):
    def route(self, method: str, path: str) -> None:
        state: FakeFal = self.fake.fal
        if method == "GET" and path.startswith("/files/"):
            file = state.files.get(path.removeprefix("/files/"))
            if file is None:
                self.send_json({"detail": "Not found"}, 404)
            else:
                self.send_bytes(file[0], file[1])
            return
        if self.headers.get("Authorization") != f"Key {FAL_KEY}":
            self.send_json({"detail": "Unauthorized"}, 401)
            return
        if method == "POST":
            self.send_json(state.submit(path.strip("/"), self.json_body()))
        elif method == "GET" and self._misbehave(
            state.status_answer if path.endswith("/status") else state.result_answer
        ):
            return
        elif method == "GET" and path.endswith("/status"):
            answer, status = state.status(path.split("/")[-2])
            if state.status_errors > 0:
                state.status_errors -= 1
                answer, status = {"detail": "Service Unavailable"}, 503
            self.send_json(answer, status)
        elif method == "GET" and "/requests/" in path:
            answer, status = state.result(path.split("/")[-1])
            if state.result_errors > 0:
                state.result_errors -= 1
                answer, status = {"detail": "Service Unavailable"}, 503
            self.send_json(answer, status)
        else:
            self.send_json({"detail": f"{method} {path}"}, 404)

    def _misbehave(self, answer: str | None) -> bool:
        """Answers as `answer` says instead of the API; False when it says nothing."""
        if answer == "hang":
            self.fake.fal.release.wait(30)
        elif answer == "html":
            self.send_bytes(b"<html><body>Fal is down for maintenance</body></html>", "text/html")
        elif answer == "error":
            self.send_json({"detail": "Internal Server Error"}, 500)
        return answer is not None


class FakeFal:
    def __init__(self, server: FakeServer):
        self.server = server
        self.url = server.url
        self.lock = server.lock
        self.outcome = "complete"
        self.status_errors = 0
        self.result_errors = 0
        self.status_answer: str | None = None
        self.result_answer: str | None = None
        self.file_host = ""
        self.release = threading.Event()
        self.status_host = ""
        self.gate = threading.Event()
        self.gate.set()
        self.jobs: dict[str, dict] = {}
        self.files: dict[str, tuple[bytes, str]] = {}
        # What a completed job returns: a list of (bytes, content type), one per file.
        self.result_files: list[tuple[bytes, str]] = [(png_bytes(), "image/png")]

    def submit(self, model: str, arguments: dict) -> dict:
        request_id = str(uuid.uuid4())
        base = f"{self.status_host or self.url}/{model}/requests/{request_id}"
        with self.lock:
            self.jobs[request_id] = {
                "model": model,
                "arguments": arguments,
                "step": 0,
                "outcome": self.outcome,
            }
        return {
            "request_id": request_id,
            "status_url": f"{base}/status",
            "response_url": base,
            "cancel_url": f"{base}/cancel",
        }

    def status(self, request_id: str) -> tuple[dict, int]:
        with self.lock:
            job = self.jobs.get(request_id)
            if job is None:
                return {"detail": "Request not found"}, 404
            done = job["outcome"] != "never" and self.gate.is_set()
            job["step"] = min(job["step"] + 1, len(STEPS) - 1 if done else 1)
            state = STEPS[job["step"]]
        return {"status": state, "request_id": request_id, "queue_position": 0}, (
            200 if state == "COMPLETED" else 202
        )

    def result(self, request_id: str) -> tuple[dict, int]:
        with self.lock:
            job = self.jobs.get(request_id)
        if job is None or STEPS[job["step"]] != "COMPLETED":
            return {"detail": "Request is still in progress"}, 400
        if job["outcome"] == "fail":
            return {"detail": "Model failed: NSFW content detected"}, 422
        urls = []
        for data, content_type in self.result_files:
            name = f"{uuid.uuid4().hex}"
            with self.lock:
                self.files[name] = (data, content_type)
            urls.append({"url": f"{self.file_host or self.url}/files/{name}", "content_type": content_type})
        if self.result_files and self.result_files[0][1].startswith("video/"):
            return {"video": urls[0]}, 200
        return {"images": urls, "seed": 42, "has_nsfw_concepts": [False]}, 200

    def submits(self) -> list:
        return [r for r in self.server.requests if r.method == "POST"]
