import json
import logging
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from payments.models import Payment, PaymentNotification
from tests.helpers import balance
from wallets.models import LedgerEntry

pytestmark = pytest.mark.django_db


def test_payment_succeeded_credits_the_wallet_once_with_the_yookassa_reference(
    alice, yookassa, create_payment, post_notification
):
    payment = create_payment(alice, "500.00")
    yookassa.succeed(payment.yookassa_payment_id)

    response = post_notification(yookassa.notification("payment.succeeded", payment.yookassa_payment_id))

    assert response.status_code == 200
    assert response.json() == {"status": "processed"}
    payment.refresh_from_db()
    assert payment.status == Payment.Status.SUCCEEDED
    entry = LedgerEntry.objects.get(wallet_id=alice.pk)
    assert entry.reference == f"yookassa:{payment.yookassa_payment_id}"
    assert entry.amount == Decimal("500.00")
    assert entry.kind == LedgerEntry.Kind.TOPUP
    assert payment.credited_entry == entry
    assert balance(alice) == Decimal("500.00")
    notification = PaymentNotification.objects.get()
    assert notification.event == "payment.succeeded"
    assert notification.object_id == payment.yookassa_payment_id
    assert notification.outcome == PaymentNotification.Outcome.PROCESSED
    assert notification.source_ip == "185.71.76.10"


def test_the_payment_is_re_fetched_from_the_api_by_id(alice, yookassa, create_payment, post_notification):
    payment = create_payment(alice)
    yookassa.succeed(payment.yookassa_payment_id)
    post_notification(yookassa.notification("payment.succeeded", payment.yookassa_payment_id))
    assert len(yookassa.requests_to(f"/v3/payments/{payment.yookassa_payment_id}", "GET")) == 1


def test_a_forged_success_for_a_payment_the_api_reports_pending_credits_nothing(
    alice, yookassa, create_payment, post_notification
):
    payment = create_payment(alice)
    forged = yookassa.notification(
        "payment.succeeded", payment.yookassa_payment_id, status="succeeded", paid=True
    )

    response = post_notification(forged)

    assert response.status_code == 200
    payment.refresh_from_db()
    assert payment.status == Payment.Status.PENDING
    assert balance(alice) == 0
    assert not LedgerEntry.objects.exists()


def test_a_notification_from_outside_the_allowlist_is_refused_and_changes_nothing(
    alice, yookassa, create_payment, post_notification
):
    payment = create_payment(alice)
    yookassa.succeed(payment.yookassa_payment_id)

    response = post_notification(
        yookassa.notification("payment.succeeded", payment.yookassa_payment_id), remote_addr="203.0.113.7"
    )

    assert response.status_code == 403
    assert response["Content-Type"] == "application/json"
    payment.refresh_from_db()
    assert payment.status == Payment.Status.PENDING
    assert balance(alice) == 0
    assert not PaymentNotification.objects.exists()
    assert yookassa.requests_to(f"/v3/payments/{payment.yookassa_payment_id}") == []


def test_a_spoofed_x_forwarded_for_from_an_untrusted_peer_is_refused(
    alice, yookassa, create_payment, post_notification, settings
):
    settings.TRUSTED_PROXIES = ["10.0.0.2"]
    payment = create_payment(alice)
    yookassa.succeed(payment.yookassa_payment_id)

    response = post_notification(
        yookassa.notification("payment.succeeded", payment.yookassa_payment_id),
        remote_addr="203.0.113.7",
        HTTP_X_FORWARDED_FOR="185.71.76.10",
    )

    assert response.status_code == 403
    assert balance(alice) == 0


def test_x_forwarded_for_from_the_trusted_proxy_is_believed(
    alice, yookassa, create_payment, post_notification, settings
):
    settings.TRUSTED_PROXIES = ["10.0.0.2"]
    payment = create_payment(alice)
    yookassa.succeed(payment.yookassa_payment_id)

    response = post_notification(
        yookassa.notification("payment.succeeded", payment.yookassa_payment_id),
        remote_addr="10.0.0.2",
        HTTP_X_FORWARDED_FOR="185.71.76.10",
    )

    assert response.status_code == 200
    assert balance(alice) == Decimal("500.00")
    assert PaymentNotification.objects.get().source_ip == "185.71.76.10"


def test_the_trusted_proxy_cannot_be_fooled_by_an_address_the_client_prepended(
    alice, yookassa, create_payment, post_notification, settings
):
    settings.TRUSTED_PROXIES = ["10.0.0.2"]
    payment = create_payment(alice)
    yookassa.succeed(payment.yookassa_payment_id)

    # The client sent "X-Forwarded-For: 185.71.76.10"; Caddy appended the address it really saw.
    response = post_notification(
        yookassa.notification("payment.succeeded", payment.yookassa_payment_id),
        remote_addr="10.0.0.2",
        HTTP_X_FORWARDED_FOR="185.71.76.10, 203.0.113.7",
    )

    assert response.status_code == 403
    assert balance(alice) == 0


def test_the_trusted_proxy_itself_is_not_an_allowed_sender(
    alice, yookassa, create_payment, post_notification, settings
):
    settings.TRUSTED_PROXIES = ["10.0.0.2"]
    response = post_notification({"type": "notification"}, remote_addr="10.0.0.2")
    assert response.status_code == 403


def test_ipv6_ranges_of_the_allowlist_work(alice, yookassa, create_payment, post_notification):
    payment = create_payment(alice)
    yookassa.succeed(payment.yookassa_payment_id)
    response = post_notification(
        yookassa.notification("payment.succeeded", payment.yookassa_payment_id), remote_addr="2a02:5180::1"
    )
    assert response.status_code == 200
    assert balance(alice) == Decimal("500.00")


@pytest.mark.parametrize(
    "body",
    [
        "not json",
        "[]",
        json.dumps({"event": "payment.succeeded", "object": {"id": "x"}}),
        json.dumps({"type": "notification", "event": "payment.succeeded"}),
        json.dumps({"type": "notification", "event": "payment.succeeded", "object": {"id": 5}}),
        json.dumps({"type": "notification", "event": 1, "object": {"id": "x"}}),
    ],
)
def test_a_malformed_body_answers_400_and_is_stored(alice, yookassa, post_notification, body):
    response = post_notification(body)
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    notification = PaymentNotification.objects.get()
    assert notification.outcome == PaymentNotification.Outcome.MALFORMED
    assert notification.body == body


def test_an_unknown_payment_answers_200_and_is_logged_without_asking_the_api(
    yookassa, post_notification, caplog
):
    caplog.set_level(logging.INFO, logger="payments")
    body = {
        "type": "notification",
        "event": "payment.succeeded",
        "object": {"id": "not-ours", "status": "succeeded"},
    }

    response = post_notification(body)

    assert response.status_code == 200
    assert PaymentNotification.objects.get().outcome == PaymentNotification.Outcome.IGNORED
    assert "not-ours" in caplog.text
    assert yookassa.requests == []


def test_an_unhandled_event_answers_200(yookassa, post_notification):
    body = {"type": "notification", "event": "payout.succeeded", "object": {"id": "po-1"}}
    response = post_notification(body)
    assert response.status_code == 200
    assert PaymentNotification.objects.get().outcome == PaymentNotification.Outcome.IGNORED


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("amount", {"value": "5000.00", "currency": "RUB"}),
        ("amount", {"value": "500.00", "currency": "USD"}),
        ("metadata", {"user_id": "email_bob"}),
        ("metadata", {}),
    ],
)
def test_an_amount_currency_or_user_mismatch_credits_nothing_and_logs_an_error(
    alice, bob, yookassa, create_payment, post_notification, caplog, field, value
):
    payment = create_payment(alice, "500.00")
    yookassa.succeed(payment.yookassa_payment_id, **{field: value})

    response = post_notification(yookassa.notification("payment.succeeded", payment.yookassa_payment_id))

    assert response.status_code == 200
    payment.refresh_from_db()
    assert payment.status == Payment.Status.PENDING
    assert balance(alice) == 0
    assert balance(bob) == 0
    assert not LedgerEntry.objects.exists()
    assert PaymentNotification.objects.get().outcome == PaymentNotification.Outcome.MISMATCH
    errors = [r for r in caplog.records if r.levelno == logging.ERROR and r.name == "payments.services"]
    assert errors and payment.yookassa_payment_id in errors[0].getMessage()


def test_a_replay_a_day_later_changes_nothing(alice, yookassa, create_payment, post_notification):
    payment = create_payment(alice)
    yookassa.succeed(payment.yookassa_payment_id)
    body = yookassa.notification("payment.succeeded", payment.yookassa_payment_id)
    post_notification(body)
    # A day passes: the payment is an old record by now (the ledger is append-only).
    a_day_ago = timezone.now() - timedelta(days=1)
    Payment.objects.update(created_at=a_day_ago, updated_at=a_day_ago)

    response = post_notification(body)

    assert response.status_code == 200
    assert LedgerEntry.objects.count() == 1
    assert balance(alice) == Decimal("500.00")
    assert Payment.objects.get().updated_at == a_day_ago
    assert PaymentNotification.objects.count() == 2


def test_payment_canceled_marks_it_canceled_and_credits_nothing(
    alice, yookassa, create_payment, post_notification
):
    payment = create_payment(alice)
    yookassa.cancel(payment.yookassa_payment_id)

    post_notification(yookassa.notification("payment.canceled", payment.yookassa_payment_id))

    payment.refresh_from_db()
    assert payment.status == Payment.Status.CANCELED
    assert balance(alice) == 0


def test_waiting_for_capture_is_recorded(alice, yookassa, create_payment, post_notification):
    payment = create_payment(alice)
    yookassa.set_status(payment.yookassa_payment_id, "waiting_for_capture", paid=True)

    post_notification(yookassa.notification("payment.waiting_for_capture", payment.yookassa_payment_id))

    payment.refresh_from_db()
    assert payment.status == Payment.Status.WAITING_FOR_CAPTURE
    assert payment.provider_object["status"] == "waiting_for_capture"
    assert balance(alice) == 0


def test_out_of_order_deliveries_never_leave_a_final_state(
    alice, yookassa, create_payment, post_notification
):
    payment = create_payment(alice)
    provider_id = payment.yookassa_payment_id
    yookassa.succeed(provider_id)
    post_notification(yookassa.notification("payment.succeeded", provider_id))
    # A late waiting_for_capture, then an API that (wrongly) reports canceled: both harmless.
    yookassa.set_status(provider_id, "waiting_for_capture")
    post_notification(yookassa.notification("payment.waiting_for_capture", provider_id))
    yookassa.cancel(provider_id)
    post_notification(yookassa.notification("payment.canceled", provider_id))

    payment.refresh_from_db()
    assert payment.status == Payment.Status.SUCCEEDED
    assert balance(alice) == Decimal("500.00")
    assert LedgerEntry.objects.count() == 1


def test_a_canceled_payment_is_never_credited_afterwards(alice, yookassa, create_payment, post_notification):
    payment = create_payment(alice)
    yookassa.cancel(payment.yookassa_payment_id)
    post_notification(yookassa.notification("payment.canceled", payment.yookassa_payment_id))
    yookassa.succeed(payment.yookassa_payment_id)
    post_notification(yookassa.notification("payment.succeeded", payment.yookassa_payment_id))

    assert Payment.objects.get().status == Payment.Status.CANCELED
    assert balance(alice) == 0


def test_an_unreachable_api_answers_5xx_so_yookassa_retries(
    alice, yookassa, create_payment, post_notification, settings
):
    payment = create_payment(alice)
    yookassa.succeed(payment.yookassa_payment_id)
    settings.YOOKASSA_API_URL = "http://127.0.0.1:9/v3"  # nothing listens on the discard port

    response = post_notification(yookassa.notification("payment.succeeded", payment.yookassa_payment_id))

    assert response.status_code == 502
    assert PaymentNotification.objects.get().outcome == PaymentNotification.Outcome.FAILED
    assert balance(alice) == 0


def test_the_webhook_accepts_only_post(client):
    response = client.get("/api/payment/webhook", REMOTE_ADDR="185.71.76.10")
    assert response.status_code == 405
    assert response["Content-Type"] == "application/json"


def test_a_repeated_notification_for_a_succeeded_payment_costs_no_yookassa_round_trip(
    alice, yookassa, create_payment, post_notification
):
    payment = create_payment(alice, "500.00")
    yookassa.succeed(payment.yookassa_payment_id)
    body = yookassa.notification("payment.succeeded", payment.yookassa_payment_id)
    post_notification(body)
    fetches = f"/v3/payments/{payment.yookassa_payment_id}"
    assert len(yookassa.requests_to(fetches, "GET")) == 1

    responses = [post_notification(body) for _ in range(3)]

    assert [r.status_code for r in responses] == [200, 200, 200]
    assert len(yookassa.requests_to(fetches, "GET")) == 1
    assert LedgerEntry.objects.count() == 1
    assert balance(alice) == Decimal("500.00")
    repeats = PaymentNotification.objects.order_by("received_at", "id")[1:]
    assert [(n.outcome, n.error) for n in repeats] == [
        (PaymentNotification.Outcome.IGNORED, "already succeeded")
    ] * 3


def test_calls_to_yookassa_reuse_one_connection(alice, yookassa, create_payment, post_notification):
    first, second = create_payment(alice), create_payment(alice)
    for payment in (first, second):
        yookassa.succeed(payment.yookassa_payment_id)
        post_notification(yookassa.notification("payment.succeeded", payment.yookassa_payment_id))

    peers = {request.peer for request in yookassa.requests}
    assert len(yookassa.requests) == 4 and len(peers) == 1


def test_a_repeat_for_a_finished_payment_is_stored_in_one_write_without_a_re_fetch(
    alice, yookassa, create_payment, post_notification
):
    # A third of YooKassa's deliveries are repeats; each used to cost an INSERT and an UPDATE
    # (two commits) for a row whose outcome was known before it was written.
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    payment = create_payment(alice, "300.00")
    yookassa.succeed(payment.yookassa_payment_id)
    body = yookassa.notification("payment.succeeded", payment.yookassa_payment_id)
    assert post_notification(body).json() == {"status": "processed"}
    fetches = len(yookassa.requests_to(f"/v3/payments/{payment.yookassa_payment_id}", "GET"))

    with CaptureQueriesContext(connection) as queries:
        response = post_notification(body)

    assert response.status_code == 200
    assert response.json() == {"status": "ignored"}
    writes = [
        q["sql"] for q in queries.captured_queries if q["sql"].startswith(("INSERT", "UPDATE", "DELETE"))
    ]
    assert len(writes) == 1 and writes[0].startswith('INSERT INTO "payments_paymentnotification"')
    assert len(yookassa.requests_to(f"/v3/payments/{payment.yookassa_payment_id}", "GET")) == fetches
    repeat = PaymentNotification.objects.order_by("-received_at", "-id").first()
    assert (repeat.outcome, repeat.error) == (PaymentNotification.Outcome.IGNORED, "already succeeded")
    assert LedgerEntry.objects.filter(wallet_id=alice.pk).count() == 1
    assert balance(alice) == Decimal("300.00")
