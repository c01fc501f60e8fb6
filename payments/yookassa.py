"""The one client of YooKassa's API, through the official `yookassa` SDK.

The SDK sends no HTTP timeout (its `Configuration.timeout` is a retry back-off, not a socket
timeout), so a YooKassa that stops answering would hang a request or a worker forever. Our
`_BoundedApiClient` gives every request a connect and read timeout (`YOOKASSA_TIMEOUT`) and
does not retry a timed-out read. The SDK keeps its configuration in class attributes; it is
set from Django settings before every call, so tests and settings changes take effect.

Answers are plain dicts (the API's JSON objects), which is what we store and compare.
"""

from __future__ import annotations

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


class YooKassaRefused(Exception):
    """YooKassa answered with an error (4xx/5xx JSON body): the request was not carried out."""

    def __init__(self, content: dict | None):
        self.content = content or {}
        super().__init__(self.content.get("description") or self.content.get("code") or "YooKassa error")


class _TimeoutSession(requests.Session):
    def request(self, method, url, **kwargs):
        kwargs.setdefault("timeout", settings.YOOKASSA_TIMEOUT)
        return super().request(method, url, **kwargs)


class _BoundedApiClient(ApiClient):
    def get_session(self) -> requests.Session:
        session = _TimeoutSession()
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
        raise YooKassaUnavailable(str(exc)) from exc
    except AttributeError as exc:
        # With no HTTP answer at all the SDK's error handler reads `.response` of None; the
        # network error it was handling is the real cause.
        if isinstance(exc.__context__, requests.RequestException):
            raise YooKassaUnavailable(str(exc.__context__)) from exc.__context__
        raise


def payment_create(*, body: dict, idempotence_key: str) -> dict:
    return _call(lambda: _Payment.create(body, idempotence_key))


def payment_find(payment_id: str) -> dict:
    return _call(lambda: _Payment.find_one(payment_id))


def refund_create(*, payment_id: str, amount: Decimal, idempotence_key: str) -> dict:
    body = {"payment_id": payment_id, "amount": {"value": str(amount), "currency": "RUB"}}
    return _call(lambda: _Refund.create(body, idempotence_key))


def refund_find(refund_id: str) -> dict:
    return _call(lambda: _Refund.find_one(refund_id))
