"""The switch-over window: `import_legacy` on a legacy database of a given size, first run and delta.

Builds an old FastAPI system's database with `generate_series` (the schema of
tests/legacy/conftest.py): `--users` users with balances, `--payments-per-user` payments in
every status, `--chats-per-user` chats holding `--messages-per-user` messages on average
(questions and longer answers, Cyrillic text) and one sign-in session per user. Then, `--runs`
times: a fresh target database (copied from a migrated template), the first import, and a
delta run over the unchanged old database. Last, `--runs` deltas that each follow a batch of
changes in the old database (1% of balances and payments, 0.1% new users, 1% new messages):
the final run at the switch. Each import is `manage.py import_legacy` in its own process,
timed from outside, its peak memory (max RSS) read from the kernel.

    .venv/bin/python bench/import_legacy.py --users 5000 --messages-per-user 10
    .venv/bin/python bench/import_legacy.py --users 100000 --messages-per-user 25   # 3.1M rows

It creates (and, unless `--keep`, drops) the databases `bench_legacy`, `bench_target` and
`bench_target_template` on `--server`. Prints medians with the range and the machine's load;
the step timings of the median run show where the time goes.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

# The old system's tables, as the legacy tests build them.
from tests.legacy.conftest import SCHEMA  # noqa: E402

LEGACY, TARGET, TEMPLATE = "bench_legacy", "bench_target", "bench_target_template"


# The casdoor_id of user number k, as the old system named them; dropped once the data is in.
CASDOOR_ID = """
CREATE FUNCTION bench_casdoor_id(k bigint) RETURNS text IMMUTABLE LANGUAGE sql AS
$$ SELECT (ARRAY['vk', 'google', 'yandex', 'telegram', 'email'])[1 + mod(k, 5)] || '_' || (1000000 + k) $$"""


def build_legacy(url: str, *, users: int, payments: int, chats: int, messages: int) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(SCHEMA)
        conn.execute(CASDOOR_ID)
        conn.execute(
            """INSERT INTO wallets (casdoor_id, email, name, avatar, balance, created_at, referral_code)
            SELECT bench_casdoor_id(k), CASE WHEN mod(k, 5) IN (1, 2, 4) THEN 'user' || k || '@example.com' END,
                   'Пользователь ' || k, 'https://cdn.example.com/avatars/' || k || '.png',
                   mod(k * 37, 5000) + mod(k, 100) / 100.0, timestamptz '2024-01-01' + k * interval '1 minute', 'R' || k
            FROM generate_series(1, %(users)s) k""",
            {"users": users},
        )
        conn.execute(
            """INSERT INTO payments (yookassa_payment_id, user_id, amount, status, created_at)
            SELECT md5('payment' || j)::uuid::text, bench_casdoor_id(1 + mod(j - 1, %(users)s)), 100 + mod(j, 4900),
                   (ARRAY['pending', 'waiting_for_capture', 'succeeded', 'canceled'])[1 + mod(j, 4)],
                   timestamptz '2024-01-01' + j * interval '10 seconds'
            FROM generate_series(1, %(payments)s) j""",
            {"users": users, "payments": payments},
        )
        conn.execute(
            """INSERT INTO chats (user_casdoor_id, model, title, created_at)
            SELECT bench_casdoor_id(1 + mod(c - 1, %(users)s)), 'openai/gpt-4o', 'Чат ' || c,
                   timestamptz '2024-06-01' + c * interval '1 minute'
            FROM generate_series(1, %(chats)s) c""",
            {"users": users, "chats": chats},
        )
        conn.execute(
            """INSERT INTO messages (chat_id, role, content, image_url, created_at)
            SELECT 1 + mod(m - 1, %(chats)s), CASE WHEN mod(m, 2) = 1 THEN 'user' ELSE 'assistant' END,
                   CASE WHEN mod(m, 2) = 1 THEN 'Вопрос ' || m || ': ' || repeat('как это работает? ', 1 + mod(m, 6))
                        ELSE repeat('Вот подробный ответ модели на этот вопрос. ', 2 + mod(m, 12)) END,
                   CASE WHEN mod(m, 50) = 0 THEN 'https://s3.example.com/bucket/' || m || '.png' END,
                   timestamptz '2024-06-01' + m * interval '1 second'
            FROM generate_series(1, %(messages)s) m""",
            {"chats": chats, "messages": messages},
        )
        conn.execute(
            """INSERT INTO user_sessions (session_id, token)
            SELECT md5('session' || k)::uuid::text, bench_casdoor_id(k) FROM generate_series(1, %(users)s) k""",
            {"users": users},
        )
        conn.execute("DROP FUNCTION bench_casdoor_id")
        conn.execute("VACUUM ANALYZE")


def change_legacy(url: str, *, round_: int, users: int, chats: int, messages: int) -> int:
    """What the old system does between a rehearsal and the switch; returns the rows touched."""
    new_users = max(1, users // 1000)
    new_messages = max(1, messages // 100)
    with psycopg.connect(url, autocommit=True) as conn:
        touched = conn.execute(
            "UPDATE wallets SET balance = balance + 1 WHERE mod(id, 100) = %(round)s", {"round": round_}
        ).rowcount
        touched += conn.execute(
            "UPDATE payments SET status = 'succeeded' WHERE mod(id, 100) = 4 * %(round)s AND status = 'pending'",
            {"round": round_},
        ).rowcount
        touched += conn.execute(
            """INSERT INTO wallets (casdoor_id, email, name, balance)
            SELECT 'telegram_late_' || %(round)s || '_' || k, NULL, 'Новый ' || k, 50
            FROM generate_series(1, %(n)s) k""",
            {"round": round_, "n": new_users},
        ).rowcount
        touched += conn.execute(
            """INSERT INTO messages (chat_id, role, content, created_at)
            SELECT 1 + mod(m, %(chats)s), 'user', 'Новый вопрос ' || m, now() FROM generate_series(1, %(n)s) m""",
            {"chats": chats, "n": new_messages},
        ).rowcount
    return touched


def run_import(source: str, target: str) -> dict:
    """`manage.py import_legacy` in its own process: wall time, peak RSS, its JSON report."""
    with tempfile.TemporaryDirectory() as directory:
        report, stdout, stderr = (Path(directory) / name for name in ("report.json", "stdout", "stderr"))
        env = {**os.environ, "DATABASE_URL": target}
        env.pop("REDIS_URL", None)
        started = time.perf_counter()
        with stdout.open("wb") as out, stderr.open("wb") as err:
            process = subprocess.Popen(
                [sys.executable, "manage.py", "import_legacy", "--source", source, "--report", str(report)],
                cwd=ROOT,
                env=env,
                stdout=out,
                stderr=err,
            )
            # wait4, not wait: the kernel's account of the child, peak memory included.
            _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - started
        if os.waitstatus_to_exitcode(status):
            sys.exit(f"import_legacy failed:\n{stderr.read_text()}")
        return {
            "seconds": seconds,
            "max_rss_mb": usage.ru_maxrss / 1024,
            "report": json.loads(report.read_text()),
            "text": stdout.read_text(),
            "load": os.getloadavg()[0],
        }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--server", default="postgres://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--users", type=int, default=5000)
    parser.add_argument("--payments-per-user", type=int, default=3)
    parser.add_argument("--chats-per-user", type=int, default=1)
    parser.add_argument("--messages-per-user", type=int, default=10)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--keep", action="store_true", help="keep the databases afterwards")
    args = parser.parse_args()
    sys.stdout.reconfigure(line_buffering=True)
    base = args.server.rsplit("/", 1)[0]
    sizes = {
        "users": args.users,
        "payments": args.users * args.payments_per_user,
        "chats": args.users * args.chats_per_user,
        "messages": args.users * args.messages_per_user,
    }

    with psycopg.connect(args.server, autocommit=True) as conn:
        for name in (LEGACY, TARGET, TEMPLATE):
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{name}"')
    started = time.perf_counter()
    build_legacy(f"{base}/{LEGACY}", **sizes)
    with psycopg.connect(f"{base}/{LEGACY}") as conn:
        rows = sum(
            conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]  # noqa: S608
            for table in ("wallets", "payments", "chats", "messages", "user_sessions")
        )
        content = conn.execute(
            "SELECT avg(octet_length(content))::int, pg_database_size(current_database()) FROM messages"
        )
        average_bytes, size = content.fetchone()
    print(
        f"Legacy database: {rows:,} rows ({sizes}), messages {average_bytes} bytes on average, "
        f"{size / 2**20:,.0f} MB; built in {time.perf_counter() - started:.0f} s"
    )
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v0"],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": f"{base}/{TEMPLATE}"},
        check=True,
    )

    firsts, deltas = [], []
    for run in range(1, args.runs + 1):
        with psycopg.connect(args.server, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{TARGET}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{TARGET}" TEMPLATE "{TEMPLATE}"')
        firsts.append(run_import(f"{base}/{LEGACY}", f"{base}/{TARGET}"))
        deltas.append(run_import(f"{base}/{LEGACY}", f"{base}/{TARGET}"))
        print(
            f"run {run}: first {firsts[-1]['seconds']:.1f} s, {firsts[-1]['max_rss_mb']:.0f} MB; "
            f"delta {deltas[-1]['seconds']:.1f} s, {deltas[-1]['max_rss_mb']:.0f} MB; "
            f"load {os.getloadavg()[0]:.2f}"
        )
    changed = []
    for run in range(1, args.runs + 1):
        touched = change_legacy(
            f"{base}/{LEGACY}", round_=run, **{k: sizes[k] for k in ("users", "chats", "messages")}
        )
        changed.append(run_import(f"{base}/{LEGACY}", f"{base}/{TARGET}") | {"touched": touched})
        print(f"changes {run}: {touched:,} rows touched, delta {changed[-1]['seconds']:.1f} s")

    print()
    print(f"{'run':<26}{'median s':>10}{'range s':>16}{'rows/s':>12}{'peak MB':>10}")
    for name, results in (
        ("first import", firsts),
        ("delta, nothing changed", deltas),
        ("delta after changes", changed),
    ):
        seconds = sorted(result["seconds"] for result in results)
        median = statistics.median(seconds)
        peak = max(result["max_rss_mb"] for result in results)
        print(
            f"{name:<26}{median:>10.1f}{f'{seconds[0]:.1f}–{seconds[-1]:.1f}':>16}"
            f"{rows / median:>12,.0f}{peak:>10.0f}"
        )
    loads = ", ".join(f"{result['load']:.2f}" for result in firsts + deltas + changed)
    print(f"1-minute load average after each run: {loads}")
    print(f"uptime: {subprocess.run(['uptime'], capture_output=True, text=True).stdout.strip()}")
    for name, results in (("first import", firsts), ("delta, nothing changed", deltas)):
        median_run = sorted(results, key=lambda result: result["seconds"])[len(results) // 2]
        print(f"\nSteps of the median {name} (seconds):")
        for table in median_run["report"]["tables"]:
            steps = ", ".join(f"{step} {value:.2f}" for step, value in table["seconds"].items())
            print(f"  {table['table']:<14} {table['read']:>10,} rows: {steps}")
    print("\nReport of the last delta after changes:\n" + changed[-1]["text"])

    if not args.keep:
        with psycopg.connect(args.server, autocommit=True) as conn:
            for name in (LEGACY, TARGET, TEMPLATE):
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    return 0


if __name__ == "__main__":
    sys.exit(main())
