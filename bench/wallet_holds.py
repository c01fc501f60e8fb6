"""Concurrent hold/settle throughput on one wallet, against PostgreSQL.

Every paid request reserves money (`hold_place`) and then charges the actual cost
(`hold_settle`); on one busy wallet these serialise on its row. This measures how many such
hold + settle pairs per second the real services sustain from many threads, their latency,
and then checks the ledger: balance == sum(entries), nothing left held, every pair recorded.

Run it against a scratch PostgreSQL database: it adds users named `bench_<run>_<n>` and, the
ledger being append-only (a trigger refuses DELETE), leaves their rows behind.

    createdb -h 127.0.0.1 -U postgres h_bench
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/h_bench .venv/bin/python manage.py migrate
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/h_bench .venv/bin/python bench/wallet_holds.py \
        --threads 8 --pairs 250

`--wallets N` spreads the same load over N wallets (the uncontended comparison). Without
REDIS_URL the live-balance push after each commit goes to the in-memory channel layer; set
REDIS_URL to include a Redis round trip per change, as in production.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import threading
import time
import uuid
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django

django.setup()

from django.db import connection  # noqa: E402
from django.db.models import Sum  # noqa: E402

from accounts.models import User  # noqa: E402
from wallets.models import Hold, LedgerEntry, Wallet  # noqa: E402
from wallets.services import hold_place, hold_settle, wallet_credit  # noqa: E402

HOLD = Decimal("10.00")


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--pairs", type=int, default=250, help="hold + settle pairs per thread")
    parser.add_argument("--wallets", type=int, default=1)
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        print("Set DATABASE_URL to a PostgreSQL database (see the top of this file).", file=sys.stderr)
        return 2

    run = uuid.uuid4().hex[:8]
    users = [User.objects.create_user(casdoor_id=f"bench_{run}_{i}") for i in range(args.wallets)]
    funds = HOLD * args.threads * args.pairs
    for user in users:
        wallet_credit(user=user, amount=funds, reference=f"bench:{run}:{user.pk}:seed")

    holds: list[float] = []
    settles: list[float] = []
    charged: dict[int, Decimal] = {user.pk: Decimal(0) for user in users}
    lock = threading.Lock()
    barrier = threading.Barrier(args.threads + 1)

    def worker(n: int) -> None:
        rng = random.Random(n)
        mine_hold, mine_settle = [], []
        mine_charged: dict[int, Decimal] = dict.fromkeys(charged, Decimal(0))
        barrier.wait()
        try:
            for i in range(args.pairs):
                user_id = users[(n + i) % len(users)].pk
                reference = f"bench:{run}:{n}:{i}"
                cost = Decimal(rng.randint(1, 1000)) / 100
                started = time.perf_counter()
                hold_place(user=user_id, amount=HOLD, reference=reference)
                placed = time.perf_counter()
                hold_settle(reference=reference, amount=cost)
                mine_hold.append(placed - started)
                mine_settle.append(time.perf_counter() - placed)
                mine_charged[user_id] += cost
        finally:
            connection.close()
        with lock:
            holds.extend(mine_hold)
            settles.extend(mine_settle)
            for user_id, amount in mine_charged.items():
                charged[user_id] += amount

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(args.threads)]
    for thread in threads:
        thread.start()
    barrier.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started

    pairs = len(holds)
    pair_latency = [h + s for h, s in zip(holds, settles, strict=True)]
    print(f"{args.threads} threads x {args.pairs} hold+settle pairs on {args.wallets} wallet(s)")
    print(
        f"  {pairs} pairs in {elapsed:.2f} s: {pairs / elapsed:.0f} pairs/s ({2 * pairs / elapsed:.0f} ops/s)"
    )
    for name, values in (("hold", holds), ("settle", settles), ("pair", pair_latency)):
        print(
            f"  {name:<6} p50 {statistics.median(values) * 1000:6.2f} ms"
            f"   p99 {percentile(values, 0.99) * 1000:6.2f} ms"
        )

    problems = []
    for user in users:
        wallet = Wallet.objects.get(pk=user.pk)
        entries = LedgerEntry.objects.filter(wallet=wallet)
        total = entries.aggregate(total=Sum("amount"))["total"]
        if wallet.balance != total:
            problems.append(f"wallet {user.pk}: balance {wallet.balance} != sum(entries) {total}")
        if wallet.balance != funds - charged[user.pk]:
            problems.append(
                f"wallet {user.pk}: balance {wallet.balance} != {funds} - charged {charged[user.pk]}"
            )
        if wallet.held != 0 or Hold.objects.filter(wallet=wallet, status=Hold.Status.OPEN).exists():
            problems.append(f"wallet {user.pk}: {wallet.held} still held")
    settled = Hold.objects.filter(wallet__user__in=users, status=Hold.Status.SETTLED).count()
    if settled != args.threads * args.pairs:
        problems.append(f"{settled} settled holds, expected {args.threads * args.pairs}")
    print(
        "  ledger: "
        + ("OK (balance == sum(entries), nothing held, every pair settled)" if not problems else "BROKEN")
    )
    for problem in problems:
        print("   ", problem)

    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
