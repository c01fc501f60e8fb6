"""Fal.ai's queue API, over httpx with bounded timeouts.

`POST {FAL_QUEUE_URL}/{model}` with the arguments answers `request_id`, `status_url` and
`response_url`; the status URL answers `IN_QUEUE`, `IN_PROGRESS` or `COMPLETED`; the response
URL then holds the result (file URLs that expire) or the model's error. Every queue call carries
`Authorization: Key <FAL_KEY>`; file downloads carry nothing, so the key never reaches a file
host. A result file is fetched only from `FAL_FILE_HOSTS` (Fal's CDN by default: whatever else an
answer names, an internal address included, is refused), never following a redirect, within a
size cap, and streamed into a temporary file rather than memory.

Any answer the client cannot use (not JSON, not an object, missing fields) is a `FalError`, so a
caller handles one family of errors: `FalUnavailable` (ask again later) or `FalRefused` (final).
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from typing import IO
from urllib.parse import urlsplit

import httpx
from django.conf import settings

IN_QUEUE = "IN_QUEUE"
IN_PROGRESS = "IN_PROGRESS"
COMPLETED = "COMPLETED"


class FalError(Exception):
    """Fal could not do what was asked; the message is for logs, not for users."""


class FalNotConfigured(FalError):
    """FAL_KEY is not set."""


class FalUnavailable(FalError):
    """Network trouble or a 5xx: asking again later may work."""


class FalRefused(FalError):
    """Fal answered, and the answer is final: a rejected request or a failed job."""


@dataclass(frozen=True)
class Submission:
    request_id: str
    status_url: str
    response_url: str


@dataclass(frozen=True)
class Status:
    status: str
    # Set when the job finished with an error instead of a result.
    error: str = ""


@dataclass(frozen=True)
class File:
    """A downloaded result: `content` is a temporary file at its start; close it when done."""

    content: IO[bytes]
    content_type: str
    size: int


# Files up to this size stay in memory while they download; larger ones go to disk.
SPOOL_BYTES = 1024 * 1024


def _timeout() -> httpx.Timeout:
    return httpx.Timeout(settings.FAL_TIMEOUT, connect=min(settings.FAL_TIMEOUT, 5.0))


def _queue_client() -> httpx.Client:
    if not settings.FAL_KEY:
        raise FalNotConfigured("FAL_KEY is not set")
    return httpx.Client(timeout=_timeout(), headers={"Authorization": f"Key {settings.FAL_KEY}"})


def _on_queue(url: str) -> str:
    """Our key goes only to Fal's queue host, whatever a response claims."""
    queue, target = urlsplit(settings.FAL_QUEUE_URL), urlsplit(url)
    if (target.scheme, target.netloc) != (queue.scheme, queue.netloc):
        raise FalRefused(f"Fal pointed at {url!r}, outside its queue {settings.FAL_QUEUE_URL!r}")
    return url


def _json(response: httpx.Response) -> dict:
    if response.status_code >= 500:
        raise FalUnavailable(f"Fal answered {response.status_code}: {response.text[:300]}")
    try:
        body = response.json()
    except ValueError as exc:
        raise FalUnavailable(f"Fal answered {response.status_code} with no JSON") from exc
    if response.status_code >= 400:
        raise FalRefused(f"Fal answered {response.status_code}: {_detail(body)}")
    if not isinstance(body, dict):
        raise FalRefused("Fal answered JSON that is not an object")
    return body


def _detail(body) -> str:
    detail = body.get("detail", body) if isinstance(body, dict) else body
    return str(detail)[:500]


def _call(method: str, url: str, **kwargs) -> dict:
    with _queue_client() as client:
        try:
            response = client.request(method, url, **kwargs)
        except httpx.HTTPError as exc:
            raise FalUnavailable(f"{method} {url}: {exc!r}") from exc
    return _json(response)


def submit(*, model: str, arguments: dict) -> Submission:
    body = _call("POST", f"{settings.FAL_QUEUE_URL}/{model}", json=arguments)
    try:
        return Submission(
            request_id=str(body["request_id"]),
            status_url=_on_queue(body["status_url"]),
            response_url=_on_queue(body["response_url"]),
        )
    except (KeyError, TypeError) as exc:
        raise FalRefused(f"Fal's submit answer lacks {exc}") from exc


def status(*, status_url: str) -> Status:
    body = _call("GET", _on_queue(status_url))
    state = body.get("status")
    if state not in (IN_QUEUE, IN_PROGRESS, COMPLETED):
        raise FalRefused(f"unknown Fal status {state!r}")
    return Status(status=state, error=_detail(body["error"]) if body.get("error") else "")


def result(*, response_url: str) -> dict:
    return _call("GET", _on_queue(response_url))


def result_file_urls(result: dict) -> list[str]:
    """The file URLs of a result: `images: [{url}]` (image models), `image` or `video: {url}`."""
    files = list(result.get("images") or [])
    files += [result[key] for key in ("image", "video") if isinstance(result.get(key), dict)]
    return [file["url"] for file in files if isinstance(file, dict) and isinstance(file.get("url"), str)]


def file_host_allowed(url: str) -> bool:
    """Whether `url` is on one of `FAL_FILE_HOSTS` (scheme://host[:port], `*.` for subdomains)."""
    target = urlsplit(url)
    if not target.hostname:
        return False
    for allowed in settings.FAL_FILE_HOSTS:
        origin = urlsplit(allowed)
        if target.scheme != origin.scheme or target.port != origin.port:
            continue
        host = origin.hostname or ""
        if target.hostname == host or (
            host.startswith("*.") and target.hostname.endswith(host[1:]) and target.hostname != host[2:]
        ):
            return True
    return False


def download(*, url: str, max_bytes: int) -> File:
    """Fetches one result file into a temporary file, refusing it past `max_bytes` as it streams.

    Raises:
        FalRefused: a host outside FAL_FILE_HOSTS, an answer other than 200, or too large.
        FalUnavailable: the file host is unreachable or failing (5xx).
    """
    if not file_host_allowed(url):
        raise FalRefused(f"{url!r} is not on an allowed file host (FAL_FILE_HOSTS)")
    # Handed to the caller open (it closes it), or closed here on failure.
    content = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)  # noqa: SIM115
    try:
        with (
            httpx.Client(timeout=_timeout(), follow_redirects=False) as client,
            client.stream("GET", url) as response,
        ):
            if response.status_code >= 500:
                raise FalUnavailable(f"GET {url} answered {response.status_code}")
            if response.status_code != 200:
                raise FalRefused(f"GET {url} answered {response.status_code}")
            declared = response.headers.get("Content-Length") or "0"
            if not declared.isdigit() or int(declared) > max_bytes:
                raise FalRefused(f"{url} declares {declared!r} bytes, more than {max_bytes} or not a size")
            size = 0
            for chunk in response.iter_bytes():
                size += len(chunk)
                if size > max_bytes:
                    raise FalRefused(f"{url} is larger than {max_bytes} bytes")
                content.write(chunk)
            content_type = response.headers.get("Content-Type", "").split(";")[0].strip().lower()
    except httpx.HTTPError as exc:
        content.close()
        raise FalUnavailable(f"GET {url}: {exc!r}") from exc
    except FalError:
        content.close()
        raise
    content.seek(0)
    return File(content=content, content_type=content_type, size=size)
