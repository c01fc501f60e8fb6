"""Webhook throughput: YooKassa notifications per second through the real view, on PostgreSQL.

Run (PostgreSQL required; a throw-away database `bench_<name>` is created and dropped):

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/h_payments REDIS_URL=redis://127.0.0.1:6379/3 \
        .venv/bin/python bench/webhook_throughput.py --payments 200 --duplicates 3 --threads 8

Each of `--payments` users gets a pending top-up created through the real service and the fake
YooKassa (tests/fakes/yookassa.py), which then reports it succeeded. Every notification is
delivered `--duplicates` times, shuffled, from `--threads` threads through Django's full
request stack (middleware, the webhook view, a re-fetch of the payment from the fake API,
`payment_apply`). A second round replays all of them again (every payment already credited).
At the end it checks one ledger entry and the exact amount per payment.

`--serve N` measures the deployed shape instead: the app served by `bin/serve` (uvicorn,
`APP_WORKERS` workers, DEBUG off) as a subprocess, the fake YooKassa in a process of its own
(forked after the set-up, with its payments), and the notifications POSTed over HTTP by N
concurrent aiohttp senders from 127.0.0.1 (set as YOOKASSA_WEBHOOK_IPS). Latency is then the
ack as YooKassa would see it. `--threads` applies to the in-process mode only.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import random
import secrets
import statistics
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import override_settings  # noqa: E402

from accounts.models import User  # noqa: E402
from config.celery import app as celery_app  # noqa: E402
from payments import services  # noqa: E402
from payments.models import Payment, PaymentNotification  # noqa: E402
from tests.fakes.server import FakeServer  # noqa: E402
from tests.fakes.yookassa import SECRET_KEY, SHOP_ID, YOOKASSA_IP, FakeYooKassa, YooKassaHandler  # noqa: E402
from tests.helpers import free_port, wait_for_port  # noqa: E402
from wallets.models import LedgerEntry, Wallet  # noqa: E402


def deliver_all(bodies: list[str], threads: int) -> tuple[float, list[float], list[int]]:
    latencies: list[float] = []
    codes: list[int] = []
    lock = threading.Lock()
    local = threading.local()

    def deliver(body: str) -> None:
        client = getattr(local, "client", None) or Client()
        local.client = client
        started = time.perf_counter()
        response = client.post(
            "/api/payment/webhook", data=body, content_type="application/json", REMOTE_ADDR=YOOKASSA_IP
        )
        # The test client keeps the connection after a request; a server hands it back to the pool.
        connection.close()
        elapsed = time.perf_counter() - started
        with lock:
            latencies.append(elapsed)
            codes.append(response.status_code)

    started = time.perf_counter()
    if threads == 1:
        # In this thread, so that `python -m cProfile` sees the work.
        for body in bodies:
            deliver(body)
    else:
        with ThreadPoolExecutor(threads) as pool:
            list(pool.map(deliver, bodies))
    return time.perf_counter() - started, latencies, codes


def serve_fake(fake: FakeYooKassa, ports, stop, counts) -> None:
    """The fake YooKassa in a process of its own (forked: it keeps the payments set up)."""
    server = FakeServer(YooKassaHandler).start()
    server.yookassa = fake
    ports.put(int(server.url.rsplit(":", 1)[1]))
    stop.wait()
    counts.put(len(server.requests))
    server.stop()


async def post_all(url: str, bodies: list[str], senders: int) -> tuple[float, list[float], list[int]]:
    import aiohttp

    latencies: list[float] = []
    codes: list[int] = []
    queue = list(reversed(bodies))
    headers = {"Content-Type": "application/json"}

    async def sender(session: aiohttp.ClientSession) -> None:
        while queue:
            body = queue.pop()
            started = time.perf_counter()
            async with session.post(url, data=body.encode(), headers=headers) as response:
                await response.read()
            latencies.append(time.perf_counter() - started)
            codes.append(response.status)

    connector = aiohttp.TCPConnector(limit=senders)
    async with aiohttp.ClientSession(connector=connector) as session:
        # Warm every worker (imports, URLconf, pools): malformed bodies, stored and answered 400.
        await asyncio.gather(*(session.post(url, data=b"{}", headers=headers) for _ in range(4 * senders)))
        started = time.perf_counter()
        await asyncio.gather(*(sender(session) for _ in range(senders)))
    return time.perf_counter() - started, latencies, codes


def deliver_served(bodies: list[str], fake: FakeYooKassa, test_db: str, senders: int) -> int:
    """Both rounds against `bin/serve` and the fake in its own process; returns its re-fetches."""
    context = multiprocessing.get_context("fork")
    ports, counts, stop = context.Queue(), context.Queue(), context.Event()
    fake_process = context.Process(target=serve_fake, args=(fake, ports, stop, counts), daemon=True)
    fake_process.start()
    fake_url = f"http://127.0.0.1:{ports.get(timeout=30)}/v3"
    app_port = free_port()
    database_url = urlsplit(os.environ["DATABASE_URL"])._replace(path=f"/{test_db}").geturl()
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "SITE_URL": "https://bench.localhost",
        "SECURE_SSL_REDIRECT": "false",
        "LOG_LEVEL": "WARNING",
        "APP_HOST": "127.0.0.1",
        "APP_PORT": str(app_port),
        "APP_WORKERS": os.environ.get("APP_WORKERS", "2"),
        "UVICORN": str(Path(sys.executable).parent / "uvicorn"),
        "YOOKASSA_API_URL": fake_url,
        "YOOKASSA_SHOP_ID": SHOP_ID,
        "YOOKASSA_SECRET_KEY": SECRET_KEY,
        "YOOKASSA_WEBHOOK_IPS": "127.0.0.1/32",
    }
    root = Path(__file__).resolve().parent.parent
    app = subprocess.Popen(
        [str(root / "bin" / "serve")], cwd=root, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT
    )
    try:
        wait_for_port(app_port)
        url = f"http://127.0.0.1:{app_port}/api/payment/webhook"
        report("first round (credits + duplicates)", *asyncio.run(post_all(url, bodies, senders)))
        report("replay round (all duplicates)", *asyncio.run(post_all(url, bodies, senders)))
    finally:
        app.terminate()
        app.wait(30)
        stop.set()
        fetches = counts.get(timeout=30)
        fake_process.join(30)
    return fetches


def report(title: str, total: float, latencies: list[float], codes: list[int]) -> None:
    latencies = sorted(latencies)
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
    print(
        f"{title}: {len(latencies)} notifications in {total:.2f} s = {len(latencies) / total:.0f}/s; "
        f"latency p50 {statistics.median(latencies) * 1000:.1f} ms, p99 {p99 * 1000:.1f} ms; "
        f"statuses {sorted(set(codes))}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--payments", type=int, default=200)
    parser.add_argument("--duplicates", type=int, default=3)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument(
        "--serve",
        type=int,
        metavar="SENDERS",
        help="POST over HTTP to bin/serve (APP_WORKERS, default 2) from this many concurrent senders",
    )
    parser.add_argument(
        "--duplicate-share",
        type=float,
        help="instead of --duplicates: each payment notified once, plus this share of all "
        "deliveries as repeats of random ones (0.3: 30 %% duplicates, as the issue measures)",
    )
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        print("Set DATABASE_URL to a PostgreSQL database: this bench measures PostgreSQL.", file=sys.stderr)
        return 2
    # As in the tests: Celery tasks queued after a credit (the Casdoor mirror) run inline.
    celery_app.conf.task_always_eager = True

    server = FakeServer(YooKassaHandler).start()
    fake = FakeYooKassa(server)
    server.yookassa = fake
    # A database of its own, so the bench never collides with a test run on the same server.
    settings.DATABASES["default"].setdefault("TEST", {})["NAME"] = (
        f"bench_{settings.DATABASES['default']['NAME']}"
    )
    test_db = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        with override_settings(
            YOOKASSA_API_URL=fake.url,
            YOOKASSA_SHOP_ID=SHOP_ID,
            YOOKASSA_SECRET_KEY=SECRET_KEY,
            ALLOWED_HOSTS=["testserver"],
        ):
            amounts = {}
            bodies = []
            for number in range(args.payments):
                user = User.objects.create_user(f"email_bench{number}", email=f"bench{number}@example.com")
                amount = Decimal(random.randrange(100, 5000))
                payment = services.payment_create(user=user, amount=amount)
                fake.succeed(payment.yookassa_payment_id)
                amounts[user.pk] = amount
                body = json.dumps(fake.notification("payment.succeeded", payment.yookassa_payment_id))
                bodies += [body] * (1 if args.duplicate_share is not None else args.duplicates)
            if args.duplicate_share is not None:
                repeats = round(len(bodies) * args.duplicate_share / (1 - args.duplicate_share))
                bodies += random.choices(bodies, k=repeats)
            random.shuffle(bodies)
            connection.close()

            deliveries = (
                f"{len(bodies)} deliveries ({len(bodies) - args.payments} duplicates)"
                if args.duplicate_share is not None
                else f"{args.duplicates} deliveries each"
            )
            how = (
                f"{args.serve} HTTP senders to bin/serve ({os.environ.get('APP_WORKERS', '2')} workers)"
                if args.serve
                else f"{args.threads} threads"
            )
            print(
                f"{args.payments} payments, {deliveries}, {how}, PostgreSQL {connection.pg_version // 10000}"
            )
            fetches_before = len(fake.server.requests)
            if args.serve:
                connection.close_pool()
                server.stop()
                fetches = deliver_served(bodies, fake, test_db, args.serve)
            else:
                report("first round (credits + duplicates)", *deliver_all(bodies, args.threads))
                report("replay round (all duplicates)", *deliver_all(bodies, args.threads))
                fetches = len(fake.server.requests) - fetches_before

            entries = LedgerEntry.objects.filter(reference__startswith="yookassa:").count()
            wrong = [pk for pk, amount in amounts.items() if Wallet.objects.get(pk=pk).balance != amount]
            succeeded = Payment.objects.filter(status=Payment.Status.SUCCEEDED).count()
            # Each is stored: processed, or (a payment already succeeded) ignored without a re-fetch.
            stored = PaymentNotification.objects.filter(
                outcome__in=[PaymentNotification.Outcome.PROCESSED, PaymentNotification.Outcome.IGNORED]
            ).count()
            print(
                f"check: {entries} ledger entries for {args.payments} payments, {succeeded} succeeded, "
                f"{stored} notifications stored, {fetches} re-fetches from YooKassa, "
                f"{len(wrong)} wallets with a wrong balance"
            )
            ok = entries == args.payments == succeeded and not wrong and stored == 2 * len(bodies)
            print("OK: one credit per payment" if ok else "FAILED: credits do not match payments")
            return 0 if ok else 1
    finally:
        # The pool keeps the worker threads' connections open; PostgreSQL drops no database in use.
        connection.close_pool()
        connection.creation.destroy_test_db(test_db, verbosity=0)
        server.stop()


if __name__ == "__main__":
    sys.exit(main())
