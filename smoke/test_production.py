"""What must hold the day the site goes live, checked through Caddy's public port (see conftest)."""

from __future__ import annotations

import json
import re
import shutil
import signal
import socket
import subprocess
import time
import uuid
from decimal import Decimal

import httpx
from websockets.sync.client import connect

from smoke.conftest import ROOT, SITE_DOMAIN, YOOKASSA_IP, api_headers, compose, sign_in, wait_until

FORGER_IP = "127.0.0.2"


def pending_payment(stack) -> str:
    """YooKassa's id of the one payment created and not yet paid."""
    (payment_id,) = [pid for pid, p in stack.yookassa.payments.items() if p["status"] == "pending"]
    return payment_id


def top_up(stack, user, amount: int) -> str:
    """Pays `amount` as a person would: the top-up API, then YooKassa's notification through
    Caddy from YooKassa's address. Returns YooKassa's payment id."""
    created = user.post("/api/payment/create", json={"amount": amount}, headers=api_headers(stack, user))
    assert created.status_code == 200, created.text
    payment_id = pending_payment(stack)
    stack.yookassa.succeed(payment_id)
    with stack.client(local_address=YOOKASSA_IP) as yookassa:
        notification = stack.yookassa.notification("payment.succeeded", payment_id)
        assert yookassa.post("/api/payment/webhook", json=notification).status_code == 200
    return payment_id


def test_the_compose_file_is_valid_with_the_example_environment_copied(tmp_path):
    for name in ("docker-compose.yml", "Caddyfile"):
        shutil.copy(ROOT / name, tmp_path / name)
    shutil.copy(ROOT / ".env.example", tmp_path / ".env")
    done = subprocess.run(["docker-compose", "config", "-q"], cwd=tmp_path, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_caddy_accepts_the_caddyfile_as_production_runs_it():
    done = subprocess.run(
        ["caddy", "adapt", "--config", str(ROOT / "Caddyfile"), "--adapter", "caddyfile"],
        env={"SITE_DOMAIN": "lk.example.ru", "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    assert '"lk.example.ru"' in done.stdout


def test_health_answers_through_caddy_and_to_the_containers_own_check(stack):
    with stack.client() as client:
        health = client.get("/healthz")
    assert health.status_code == 200
    assert health.json() == {"status": "ok", "database": "up", "cache": "up", "broker": "up"}
    # docker-compose.yml's health check for the app, run against this app's port.
    check = compose()["services"]["app"]["healthcheck"]["test"][1:]
    check = [part.replace(":8081/", f":{stack.app_port}/") for part in check]
    assert subprocess.run(check, capture_output=True).returncode == 0


def test_a_page_and_its_hashed_static_files_are_served_compressed(stack):
    with stack.client() as client:
        page = client.get("/", headers={"Accept-Encoding": "gzip"})
        assert page.status_code == 200
        assert page.headers["content-type"].startswith("text/html")
        assert page.headers.get("content-encoding") == "gzip"
        assert "Strict-Transport-Security" in page.headers
        stylesheet = re.search(r'href="(/static/dist/app\.[0-9a-f]{12}\.css)"', page.text)
        assert stylesheet, "the page does not link the hashed stylesheet (no manifest?)"
        css = client.get(stylesheet.group(1), headers={"Accept-Encoding": "gzip"})
    assert css.status_code == 200
    assert css.headers["content-type"].startswith("text/css")
    assert "immutable" in css.headers["cache-control"]


def test_uploads_serve_nothing_but_media_files(stack):
    (stack.media_root / "secret.txt").write_text("operator's notes")
    with stack.client() as client:
        for path in (
            "/uploads/config/settings.py",
            "/uploads/manage.py",
            "/uploads/db.sqlite3",
            "/uploads/secret.txt",
            "/uploads/../manage.py",
            "/uploads/%2e%2e/config/settings.py",
            f"/uploads/uploads/2026/12/{uuid.uuid4()}.py",
        ):
            answer = client.get(path)
            assert answer.status_code == 404, path
            assert b"SECRET_KEY" not in answer.content


def test_an_old_address_leads_to_its_new_home(stack):
    with stack.client() as client:
        answer = client.get("/login/vk-direct")
    assert answer.status_code == 301
    assert answer.headers["location"] == "/accounts/vk/login/"


def test_oversized_bodies_are_refused_before_they_are_read(stack):
    with stack.client() as client:
        webhook = client.post(
            "/api/payment/webhook",
            content=b"{" + b" " * 2_000_000 + b"}",
            headers={"Content-Type": "application/json"},
        )
        upload = client.post("/api/upload", files={"file": ("big.png", b"\0" * 12_000_000, "image/png")})
        # Without a length (chunked): counted as it arrives, refused past the limit.
        chunked = client.post("/healthz", content=iter([b"x" * 65536] * 40))
    assert webhook.status_code == 413
    assert upload.status_code == 413
    assert chunked.status_code == 413
    # The app holds the same limit when reached without Caddy: a gibibyte announced, a few
    # bytes sent, the answer at once.
    with socket.create_connection(("127.0.0.1", stack.app_port), timeout=10) as direct:
        direct.sendall(
            b"POST /api/payment/webhook HTTP/1.1\r\nHost: localhost\r\nX-Forwarded-Proto: https\r\n"
            b"Content-Length: 1073741824\r\n\r\n{"
        )
        answer = b""
        while not answer.endswith(b"}") and (chunk := direct.recv(65536)):
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 413 ")
    assert answer.endswith('{"detail": "Слишком большой запрос."}'.encode())


def test_a_sign_in_code_is_mailed_by_the_worker_and_the_person_lands_in_casdoor(stack):
    with stack.client(follow_redirects=False) as client:
        confirmed = sign_in(stack, client, "first@example.ru")
        session_cookie = next(cookie for cookie in client.cookies.jar if cookie.name == "sessionid")
        profile = client.get("/profile/")
    assert confirmed.headers["location"] == "/profile/"
    assert session_cookie.secure
    assert session_cookie.has_nonstandard_attr("HttpOnly")
    assert profile.status_code == 200
    assert "first@example.ru" in profile.text
    # The worker mirrored the new account into Casdoor.
    wait_until(
        lambda: any(user.get("email") == "first@example.ru" for user in stack.casdoor.users.values()),
        timeout=30,
        what="the Casdoor mirror",
    )


def test_a_top_up_is_credited_once_by_yookassas_webhook_through_caddy(stack, user):
    created = user.post("/api/payment/create", json={"amount": 500}, headers=api_headers(stack, user))
    assert created.status_code == 200, created.text
    payment_id = pending_payment(stack)
    stack.yookassa.succeed(payment_id)
    notification = stack.yookassa.notification("payment.succeeded", payment_id)

    # Straight to the app from elsewhere, claiming YooKassa's address: refused.
    with httpx.Client(transport=httpx.HTTPTransport(local_address=FORGER_IP)) as forger:
        forged = forger.post(
            f"{stack.app_url}/api/payment/webhook",
            json=notification,
            headers={"X-Forwarded-For": YOOKASSA_IP, "X-Forwarded-Proto": "https"},
        )
    assert forged.status_code == 403

    # From YooKassa's address, through Caddy, twice (YooKassa re-sends until it gets 200).
    with stack.client(local_address=YOOKASSA_IP) as yookassa:
        for _ in range(2):
            assert yookassa.post("/api/payment/webhook", json=notification).status_code == 200
    wallet = user.get("/api/wallet").json()
    assert Decimal(wallet["balance"]) == Decimal("500.00")
    with stack.database() as database:
        entries = database.execute(
            "SELECT amount FROM wallets_ledgerentry WHERE reference = %s", [f"yookassa:{payment_id}"]
        ).fetchall()
    assert entries == [(Decimal("500.00"),)]


def test_a_chat_reply_streams_through_caddy_line_by_line(stack, user):
    top_up(stack, user, 100)
    stack.openrouter.tokens = [f"word{i} " for i in range(20)]
    stack.openrouter.pace = 0.1
    models = user.get("/api/chats/models").json()
    model = models[0]["models"][0]["id"]
    started = time.monotonic()
    first_content = None
    lines = []
    with user.stream(
        "POST",
        "/api/chats/send",
        json={"message": "Привет", "model": model},
        headers={**api_headers(stack, user), "Accept-Encoding": "gzip"},
    ) as reply:
        assert reply.status_code == 200
        assert reply.headers["content-type"] == "application/x-ndjson"
        assert "content-encoding" not in reply.headers
        for line in reply.iter_lines():
            lines.append(json.loads(line))
            if lines[-1]["type"] == "content" and first_content is None:
                first_content = time.monotonic() - started
    total = time.monotonic() - started
    assert [line["type"] for line in lines][:2] == ["meta", "content"]
    assert lines[-1]["type"] == "balance"
    assert "".join(line["text"] for line in lines if line["type"] == "content") == stack.openrouter.text
    # The upstream takes 2 s; buffering anywhere would deliver the first line at the end.
    assert first_content < total - 1.0, (first_content, total)


def test_the_balance_socket_works_through_caddy(stack, user):
    context = stack.tls_context()
    cookies = "; ".join(f"{name}={value}" for name, value in user.cookies.items())
    with connect(
        f"wss://{SITE_DOMAIN}:{stack.https_port}/ws/balance/",
        ssl=context,
        origin=stack.public_url,
        additional_headers={"Cookie": cookies},
        open_timeout=10,
    ) as socket:
        before = json.loads(socket.recv(timeout=10))
        top_up(stack, user, 300)
        after = json.loads(socket.recv(timeout=10))
    assert Decimal(after["balance"]) == Decimal(before["balance"]) + 300


def test_a_generation_stored_by_the_media_worker_is_served_by_the_app(stack, user):
    top_up(stack, user, 100)
    models = user.get("/api/chats/models").json()
    image_model = next(
        model["id"] for group in models for model in group["models"] if model["id"].startswith("fal-ai/flux")
    )
    started = user.post(
        "/api/media/generate", json={"model": image_model, "prompt": "кот"}, headers=api_headers(stack, user)
    )
    assert started.status_code == 202, started.text
    url = f"/api/media/generations/{started.json()['id']}"
    done = wait_until(
        lambda: (answer := user.get(url).json())["status"] == "completed" and answer,
        timeout=60,
        what="the generation",
    )
    (file_url,) = done["result_urls"]
    assert file_url.startswith("/uploads/generations/")
    image = user.get(file_url)
    assert image.status_code == 200
    assert image.headers["content-type"] == "image/png"
    # The worker-media process did the polling, and re-enqueued itself rather than waiting.
    received = re.compile(r"Task media\.tasks\.generation_poll\[[0-9a-f-]+\] received")
    assert len(received.findall(stack.log("worker-media"))) >= 2
    assert not received.search(stack.log("worker"))


# Last: it stops the app.
def test_the_app_stops_within_its_grace_period_and_bills_the_open_reply(stack, user):
    top_up(stack, user, 100)
    stack.openrouter.tokens = [f"w{i} " for i in range(400)]
    stack.openrouter.pace = 0.1
    model = user.get("/api/chats/models").json()[0]["models"][0]["id"]
    context = stack.tls_context()
    cookies = "; ".join(f"{name}={value}" for name, value in user.cookies.items())
    with (
        connect(
            f"wss://{SITE_DOMAIN}:{stack.https_port}/ws/balance/",
            ssl=context,
            origin=stack.public_url,
            additional_headers={"Cookie": cookies},
        ) as socket,
        user.stream(
            "POST",
            "/api/chats/send",
            json={"message": "Длинный ответ", "model": model},
            headers=api_headers(stack, user),
        ) as reply,
    ):
        socket.recv(timeout=10)  # the open balance socket, which once kept a stopping server alive
        lines = reply.iter_lines()
        chat_id = json.loads(next(lines))["chat_id"]
        next(lines)
        app = stack.processes["app"]
        stopping = time.monotonic()
        app.send_signal(signal.SIGTERM)
        app.wait(timeout=40)
        stopped_after = time.monotonic() - stopping
    grace = compose()["services"]["app"]["stop_grace_period"]
    assert stopped_after < int(grace.rstrip("s")), stopped_after
    with stack.database() as database:
        message_id, status, content = database.execute(
            "SELECT id, status, content FROM chats_message WHERE chat_id = %s AND role = 'assistant'",
            [chat_id],
        ).fetchone()
        # The reply was recorded with what it relayed; the worker (still running) settles its
        # hold from OpenRouter's record of the generation.
        assert status == "partial"
        assert content.startswith("w0 w1 ")
        reference = f"msg:{message_id}"
        hold_state = wait_until(
            lambda: (
                (
                    row := database.execute(
                        "SELECT status FROM wallets_hold WHERE reference = %s", [reference]
                    ).fetchone()
                )
                and row[0] != "open"
                and row[0]
            ),
            timeout=30,
            what="the reply's hold closed",
        )
        charges = database.execute(
            "SELECT amount FROM wallets_ledgerentry WHERE reference = %s AND kind = 'charge'", [reference]
        ).fetchall()
    assert hold_state == "settled"
    assert len(charges) == 1 and charges[0][0] < 0
