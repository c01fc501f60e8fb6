"""The one client of YooKassa's API, through the official `yookassa` SDK.

The SDK sends no HTTP timeout (its `Configuration.timeout` is a retry back-off, not a socket
timeout), so a YooKassa that stops answering would hang a request or a worker forever. Our
`_BoundedApiClient` gives every request a connect and read timeout (`YOOKASSA_TIMEOUT`) and
does not retry a timed-out read. The SDK keeps its configuration in class attributes; it is
set from Django settings before every call, so tests and settings changes take effect.

Answers are plain dicts (the API's JSON objects), which is what we store and compare. An answer
that is not the object asked for (an HTML page under 200, JSON of another shape, another id, an
amount that is not money) is `YooKassaBadAnswer`, a kind of `YooKassaUnavailable`: callers treat
it as "no answer", so nothing moves on it and YooKassa (or our poller) asks again.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import requests
from django.conf import settings
from requests.adapters import HTTPAdapter
from urllib3 import Retry
from yookassa import Configuration
from yookassa import Payment as SdkPayment
from yookassa import Refund as SdkRefund
from yookassa.client import ApiClient
from yookassa.domain.exceptions import ApiError


class YooKassaNotConfigured(Exception):
    """YOOKASSA_SHOP_ID or YOOKASSA_SECRET_KEY is not set."""


class YooKassaUnavailable(Exception):
    """No answer in time (timeout, refused connection): the outcome is unknown, retry later."""


class YooKassaBadAnswer(YooKassaUnavailable):
    """YooKassa answered, but not with the object asked for: treated as no answer."""


class YooKassaRefused(Exception):
    """YooKassa answered with an error (4xx/5xx JSON body): the request was not carried out."""

    def __init__(self, content: dict | None):
        self.content = content or {}
        super().__init__(self.content.get("description") or self.content.get("code") or "YooKassa error")


class _PooledSession(requests.Session):
    """Bounds every request by YOOKASSA_TIMEOUT and outlives the call: the SDK builds a session
    per call and closes it after, a new TCP and TLS handshake each time; this one (one per
    thread, requests' sessions are not thread-safe) keeps its connections alive for the next."""

    def request(self, method, url, **kwargs):
        kwargs.setdefault("timeout", settings.YOOKASSA_TIMEOUT)
        return super().request(method, url, **kwargs)

    def close(self) -> None:
        pass  # called by the SDK after every request; the pool stays open


_sessions = threading.local()


class _BoundedApiClient(ApiClient):
    def get_session(self) -> requests.Session:
        session = getattr(_sessions, "session", None)
        if session is not None:
            return session
        session = _sessions.session = _PooledSession()
        # As the SDK does: retry POSTs that YooKassa answers with 202 ("still processing").
        # Unlike the SDK, network failures are not retried (connect=0, read=0): one call waits
        # at most YOOKASSA_TIMEOUT, and the caller (YooKassa's own redelivery, the poller, the
        # user's next click) decides whether to try again.
        retries = Retry(
            total=self.max_attempts,
            connect=0,
            read=0,
            backoff_factor=self.timeout / 1000,
            allowed_methods=["POST"],
            status_forcelist=[202],
        )
        adapter = HTTPAdapter(max_retries=retries)
        session.mount("https://", adapter)
        session.mount("http://", adapter)
        return session


class _Payment(SdkPayment):
    def __init__(self) -> None:
        self.client = _BoundedApiClient()


class _Refund(SdkRefund):
    def __init__(self) -> None:
        self.client = _BoundedApiClient()


def is_configured() -> bool:
    return bool(settings.YOOKASSA_SHOP_ID and settings.YOOKASSA_SECRET_KEY)


def _call(operation: Callable[[], Any]) -> dict:
    if not is_configured():
        raise YooKassaNotConfigured(
            "YooKassa is not configured: set YOOKASSA_SHOP_ID and YOOKASSA_SECRET_KEY."
        )
    Configuration.configure(
        settings.YOOKASSA_SHOP_ID, settings.YOOKASSA_SECRET_KEY, api_url=settings.YOOKASSA_API_URL.rstrip("/")
    )
    try:
        return dict(operation())
    except ApiError as exc:
        raise YooKassaRefused(exc.content) from exc
    except requests.RequestException as exc:
        # A body that is not JSON is one too (requests' JSONDecodeError).
        raise YooKassaUnavailable(str(exc)) from exc
    except AttributeError as exc:
        # With no HTTP answer at all the SDK's error handler reads `.response` of None; the
        # network error it was handling is the real cause.
        if isinstance(exc.__context__, requests.RequestException):
            raise YooKassaUnavailable(str(exc.__context__)) from exc.__context__
        raise YooKassaBadAnswer(f"the SDK could not read the answer: {exc!r}") from exc
    except (TypeError, ValueError, KeyError) as exc:
        # JSON the SDK's objects cannot be built from (a list, wrong field types).
        raise YooKassaBadAnswer(f"the SDK could not read the answer: {exc!r}") from exc


def _object(answer: dict, *, object_id: str | None = None) -> dict:
    """`answer` if it is a payment or refund as the API describes one: an id (the one asked
    for), a status and an amount in money; else YooKassaBadAnswer."""
    amount = answer.get("amount")
    problems = []
    if not isinstance(answer.get("id"), str) or not answer["id"] or (object_id and answer["id"] != object_id):
        problems.append(f"id {answer.get('id')!r}")
    if not isinstance(answer.get("status"), str):
        problems.append(f"status {answer.get('status')!r}")
    if not isinstance(amount, dict) or not isinstance(amount.get("currency"), str):
        problems.append(f"amount {amount!r}")
    else:
        try:
            if not Decimal(str(amount.get("value"))).is_finite():
                problems.append(f"amount {amount!r}")
        except ArithmeticError:
            problems.append(f"amount {amount!r}")
    if problems:
        raise YooKassaBadAnswer("not the object asked for: " + ", ".join(problems))
    return answer


def payment_create(*, body: dict, idempotence_key: str) -> dict:
    payment = _object(_call(lambda: _Payment.create(body, idempotence_key)))
    confirmation = payment.get("confirmation")
    if not isinstance(confirmation, dict) or not isinstance(confirmation.get("confirmation_token"), str):
        raise YooKassaBadAnswer(f"a created payment without a confirmation token: {confirmation!r}")
    return payment


def payment_find(payment_id: str) -> dict:
    return _object(_call(lambda: _Payment.find_one(payment_id)), object_id=payment_id)


def refund_create(*, payment_id: str, amount: Decimal, idempotence_key: str) -> dict:
    body = {"payment_id": payment_id, "amount": {"value": str(amount), "currency": "RUB"}}
    return _object(_call(lambda: _Refund.create(body, idempotence_key)))


def refund_find(refund_id: str) -> dict:
    return _object(_call(lambda: _Refund.find_one(refund_id)), object_id=refund_id)
