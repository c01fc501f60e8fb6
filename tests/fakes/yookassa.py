"""A fake YooKassa API v3 on 127.0.0.1, spoken to by the real `yookassa` SDK.

`POST /v3/payments` (Basic auth shop id / secret key checked; the same Idempotence-Key
returns the same payment), `GET /v3/payments/{id}`, `POST /v3/refunds`, `GET /v3/refunds/{id}`.
Tests move payments along with `succeed` / `cancel` / `set_status`, build the notification
YooKassa would send with `notification(...)`, and post it to a live server with `deliver(...)`.
`hang = True` makes every request wait without answering (the timeout test).

The `yookassa` fixture (tests/conftest.py) starts it and points the settings at it.
"""

from __future__ import annotations

import base64
import copy
import threading
import uuid
from datetime import UTC, datetime
from decimal import Decimal

import httpx

from tests.fakes.server import FakeHandler, FakeServer

SHOP_ID = "506751"
SECRET_KEY = "test_secret_key"
# An address inside YooKassa's published ranges, for the Django test client's REMOTE_ADDR.
YOOKASSA_IP = "185.71.76.10"


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _error(code: str, description: str) -> dict:
    return {"type": "error", "id": str(uuid.uuid4()), "code": code, "description": description}


class YooKassaHandler(FakeHandler):
    # http.server sends the headers and the body in two writes; with Nagle's algorithm on, the
    # body waits for the client's delayed ACK of the headers (40 ms on Linux) on every answer of
    # a kept-alive connection. YooKassa's servers answer in one go; so does this fake.
    disable_nagle_algorithm = True

    def route(self, method: str, path: str) -> None:
        state: FakeYooKassa = self.fake.yookassa
        if state.hang:
            # Answer nothing until the test ends (bounded, so a stuck thread ends soon after).
            state.release.wait(120)
            return
        if self.headers.get("Authorization") != state.basic_auth:
            self.send_json(_error("invalid_credentials", "Authentication by given credentials failed"), 401)
            return
        parts = path.strip("/").split("/")
        if method == "GET" and state.find_answer is not None:
            self._misbehave(state.find_answer, parts[-1])
            return
        if method == "POST" and parts == ["v3", "payments"]:
            self._create(state.create_payment)
        elif method == "GET" and len(parts) == 3 and parts[:2] == ["v3", "payments"]:
            self._find(state.payments, parts[2])
        elif method == "POST" and parts == ["v3", "refunds"]:
            self._create(state.create_refund)
        elif method == "GET" and len(parts) == 3 and parts[:2] == ["v3", "refunds"]:
            self._find(state.refunds, parts[2])
        else:
            self.send_json(_error("not_found", f"{method} {path}"), 404)

    def _misbehave(self, answer: str, object_id: str) -> None:
        """What a look-up answers instead of the object, by `FakeYooKassa.find_answer`."""
        if answer == "hang":
            self.fake.yookassa.release.wait(120)
        elif answer == "html":
            self.send_bytes(b"<html><body>Service temporarily unavailable</body></html>", "text/html")
        elif answer == "error":
            self.send_bytes(b"<html><body>502 Bad Gateway</body></html>", "text/html", 500)
        elif answer == "list":
            self.send_json([{"id": object_id, "status": "succeeded"}])
        elif answer == "another-id":
            with self.fake.lock:
                obj = copy.deepcopy(next(iter(self.fake.yookassa.payments.values())))
            obj["id"] = "0000-another"
            self.send_json(obj)
        elif answer == "no-amount":
            self.send_json({"id": object_id, "status": "succeeded", "paid": True, "amount": "lots"})

    def _create(self, create) -> None:
        key = self.headers.get("Idempotence-Key")
        if not key:
            self.send_json(_error("invalid_request", "Idempotence-Key header is required"), 400)
            return
        answer, status = create(key, self.json_body())
        self.send_json(answer, status)

    def _find(self, objects: dict, object_id: str) -> None:
        with self.fake.lock:
            obj = copy.deepcopy(objects.get(object_id))
        if obj is None:
            self.send_json(_error("not_found", "Object not found"), 404)
        else:
            self.send_json(obj)


class FakeYooKassa:
    def __init__(self, server: FakeServer):
        self.server = server
        self.lock = server.lock
        self.payments: dict[str, dict] = {}
        self.refunds: dict[str, dict] = {}
        self.idempotence: dict[str, str] = {}
        self.hang = False
        # Set to make every GET answer otherwise until reset: "hang", "html" (a page under
        # 200), "error" (HTTP 500 with a page), "list", "another-id", "no-amount".
        self.find_answer: str | None = None
        # Set to answer creates without `confirmation` (no token for the widget).
        self.create_without_token = False
        self.release = threading.Event()
        # Set to an error dict to make the next creates answer 400 with it.
        self.refuse: dict | None = None
        # New refunds start in this state; "pending" lets a test finish them with set_refund_status.
        self.refund_status = "succeeded"
        self.shop_id, self.secret_key = SHOP_ID, SECRET_KEY
        token = base64.b64encode(f"{SHOP_ID}:{SECRET_KEY}".encode()).decode()
        self.basic_auth = f"Basic {token}"

    @property
    def url(self) -> str:
        return f"{self.server.url}/v3"

    @property
    def requests(self):
        return self.server.requests

    def requests_to(self, path: str, method: str | None = None):
        return self.server.requests_to(path, method)

    # Server side ------------------------------------------------------------------------------
    def create_payment(self, key: str, body: dict) -> tuple[dict, int]:
        with self.lock:
            if key in self.idempotence:
                return copy.deepcopy(self.payments[self.idempotence[key]]), 200
            if self.refuse is not None:
                return self.refuse, 400
            if "payment_method_data" in body and body.get("confirmation", {}).get("type") == "embedded":
                return _error("invalid_request", "payment_method_data is not allowed with embedded"), 400
            payment_id = f"{uuid.uuid4().hex[:8]}-000f-5000-8000-{uuid.uuid4().hex[:12]}"
            payment = {
                "id": payment_id,
                "status": "pending",
                "paid": False,
                "amount": body["amount"],
                "confirmation": {"type": "embedded", "confirmation_token": f"ct-{payment_id}"},
                "created_at": _now(),
                "description": body.get("description", ""),
                "metadata": body.get("metadata", {}),
                "recipient": {"account_id": SHOP_ID, "gateway_id": "2046531"},
                "refundable": False,
                "test": True,
            }
            if self.create_without_token:
                del payment["confirmation"]
            self.payments[payment_id] = payment
            self.idempotence[key] = payment_id
            return copy.deepcopy(payment), 200

    def create_refund(self, key: str, body: dict) -> tuple[dict, int]:
        with self.lock:
            if key in self.idempotence:
                return copy.deepcopy(self.refunds[self.idempotence[key]]), 200
            if self.refuse is not None:
                return self.refuse, 400
            payment = self.payments.get(body.get("payment_id"))
            if payment is None or payment["status"] != "succeeded":
                return _error("invalid_request", "Payment is not refundable"), 400
            refunded = sum(
                Decimal(r["amount"]["value"])
                for r in self.refunds.values()
                if r["payment_id"] == payment["id"]
            )
            if refunded + Decimal(body["amount"]["value"]) > Decimal(payment["amount"]["value"]):
                return _error("invalid_request", "Refund amount exceeds the payment"), 400
            refund_id = f"{uuid.uuid4().hex[:8]}-0015-5000-9000-{uuid.uuid4().hex[:12]}"
            refund = {
                "id": refund_id,
                "payment_id": payment["id"],
                "status": self.refund_status,
                "created_at": _now(),
                "amount": body["amount"],
            }
            self.refunds[refund_id] = refund
            self.idempotence[key] = refund_id
            return copy.deepcopy(refund), 200

    # Test side --------------------------------------------------------------------------------
    def set_status(self, payment_id: str, status: str, **changes) -> dict:
        with self.lock:
            payment = self.payments[payment_id]
            payment["status"] = status
            if status == "succeeded":
                payment.update(
                    paid=True,
                    refundable=True,
                    captured_at=_now(),
                    income_amount=payment["amount"],
                    payment_method={"type": "bank_card", "id": payment_id, "saved": False},
                )
            elif status == "canceled":
                payment["cancellation_details"] = {"party": "yoo_money", "reason": "expired_on_confirmation"}
            payment.update(changes)
            return copy.deepcopy(payment)

    def set_refund_status(self, refund_id: str, status: str) -> dict:
        with self.lock:
            self.refunds[refund_id]["status"] = status
            return copy.deepcopy(self.refunds[refund_id])

    def succeed(self, payment_id: str, **changes) -> dict:
        return self.set_status(payment_id, "succeeded", **changes)

    def cancel(self, payment_id: str) -> dict:
        return self.set_status(payment_id, "canceled")

    def notification(self, event: str, object_id: str, **overrides) -> dict:
        """The body YooKassa posts: the event and the object as it was at that moment."""
        with self.lock:
            obj = copy.deepcopy(
                self.refunds.get(object_id) or self.payments.get(object_id) or {"id": object_id}
            )
        obj.update(overrides)
        return {"type": "notification", "event": event, "object": obj}

    def deliver(self, base_url: str, event: str, object_id: str) -> httpx.Response:
        """Posts the notification to a live server's webhook, as YooKassa does."""
        return httpx.post(
            f"{base_url}/api/payment/webhook", json=self.notification(event, object_id), timeout=10
        )

    def only_payment(self) -> dict:
        with self.lock:
            (payment,) = self.payments.values()
            return copy.deepcopy(payment)
