"""A legacy database in PostgreSQL shaped like the old FastAPI system's (SQLAlchemy tables,
as `../shared/seed/copilot-instructions.md` describes them), created and dropped per test."""

from __future__ import annotations

import os
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import psycopg
import pytest

SERVER = os.environ.get("LEGACY_TEST_SERVER", "postgres://postgres@127.0.0.1:5432/postgres")

SCHEMA = """
CREATE TABLE wallets (
    id serial PRIMARY KEY,
    casdoor_id varchar UNIQUE NOT NULL,
    email varchar, name varchar, avatar varchar,
    balance numeric(12, 2) NOT NULL DEFAULT 0,
    created_at timestamptz DEFAULT now(),
    referral_code varchar  -- a column our import does not know: ignored
);  -- no `phone` column: an optional column may be missing
CREATE TABLE user_sessions (session_id varchar PRIMARY KEY, token varchar NOT NULL);
CREATE TABLE payments (
    id serial PRIMARY KEY,
    yookassa_payment_id varchar UNIQUE NOT NULL,
    user_id varchar NOT NULL,  -- a casdoor_id, not a foreign key
    amount numeric(12, 2) NOT NULL,
    status varchar NOT NULL DEFAULT 'pending',
    created_at timestamptz DEFAULT now()
);
CREATE TABLE chats (
    id serial PRIMARY KEY,
    user_casdoor_id varchar NOT NULL REFERENCES wallets (casdoor_id),
    model varchar NOT NULL, title varchar,
    created_at timestamptz DEFAULT now()
);
CREATE TABLE messages (
    id serial PRIMARY KEY,
    chat_id integer NOT NULL REFERENCES chats (id),
    role varchar NOT NULL, content text,
    image_url varchar, attachment_url varchar,
    created_at timestamptz DEFAULT now()
);
"""

PROVIDERS = ["vk", "google", "yandex", "telegram", "email"]
STATUSES = ["pending", "waiting_for_capture", "succeeded", "canceled"]


class LegacyDatabase:
    def __init__(self, url: str):
        self.url = url

    def execute(self, query: str, params=None) -> None:
        with psycopg.connect(self.url, autocommit=True) as conn:
            conn.execute(query, params)

    def fill(self, users: int = 300) -> dict:
        """Writes `users` users with balances, payments in every status, chats with messages,
        two sign-in sessions and one malformed payment (its user does not exist). Returns what
        it wrote."""
        start = datetime(2025, 6, 1, tzinfo=UTC)
        wrote = {"balance": Decimal(0), "users": [], "payments": {}, "messages": 0, "sessions": {}}
        with psycopg.connect(self.url, autocommit=False) as conn:
            for i in range(users):
                provider = PROVIDERS[i % len(PROVIDERS)]
                casdoor_id = f"{provider}_{100000 + i}"
                balance = Decimal(i * 37 % 5000) + Decimal(i % 100) / 100
                email = f"user{i}@example.com" if provider in ("google", "yandex", "email") else None
                conn.execute(
                    "INSERT INTO wallets (casdoor_id, email, name, avatar, balance, referral_code)"
                    " VALUES (%s, %s, %s, %s, %s, %s)",
                    [casdoor_id, email, f"User {i}", f"https://cdn.example.com/{i}.png", balance, f"R{i}"],
                )
                wrote["balance"] += balance
                wrote["users"].append(casdoor_id)
                status = STATUSES[i % len(STATUSES)]
                payment_id = f"2f{i:06d}-000f-5000-9000-{i:012d}"
                conn.execute(
                    "INSERT INTO payments (yookassa_payment_id, user_id, amount, status, created_at)"
                    " VALUES (%s, %s, %s, %s, %s)",
                    [payment_id, casdoor_id, Decimal(100 + i), status, start + timedelta(hours=i)],
                )
                wrote["payments"][payment_id] = status
                if i % 3 == 0:
                    chat_id = conn.execute(
                        "INSERT INTO chats (user_casdoor_id, model, title, created_at)"
                        " VALUES (%s, 'openai/gpt-4o', %s, %s) RETURNING id",
                        [casdoor_id, f"Chat {i}", start + timedelta(days=1, minutes=i)],
                    ).fetchone()[0]
                    for n in range(4):
                        conn.execute(
                            "INSERT INTO messages (chat_id, role, content, image_url, created_at)"
                            " VALUES (%s, %s, %s, %s, %s)",
                            [
                                chat_id,
                                "user" if n % 2 == 0 else "assistant",
                                f"message {n} of chat {i}",
                                f"https://s3.example.com/b/{i}-{n}.png" if n == 0 else None,
                                start + timedelta(days=1, minutes=i, seconds=n),
                            ],
                        )
                        wrote["messages"] += 1
            # The old sign-in cookies: a UUID each, `token` naming the casdoor_id.
            for casdoor_id in ("vk_100000", "email_100004"):
                session_id = str(uuid.uuid4())
                conn.execute("INSERT INTO user_sessions VALUES (%s, %s)", [session_id, casdoor_id])
                wrote["sessions"][session_id] = casdoor_id
            conn.execute(
                "INSERT INTO payments (yookassa_payment_id, user_id, amount, status)"
                " VALUES ('malformed-1', 'vk_nobody', 100, 'succeeded')"
            )
        return wrote


@pytest.fixture
def legacy_db_factory():
    """Makes legacy databases (empty, or copies of one) and drops them all after the test."""
    made: list[str] = []

    def make(copy_of: LegacyDatabase | None = None) -> LegacyDatabase:
        name = f"legacy_{uuid.uuid4().hex[:10]}"
        template = f' TEMPLATE "{copy_of.url.rsplit("/", 1)[1]}"' if copy_of else ""
        try:
            with psycopg.connect(SERVER, autocommit=True, connect_timeout=3) as conn:
                conn.execute(f'CREATE DATABASE "{name}"{template}')
        except psycopg.OperationalError as exc:
            pytest.skip(f"no PostgreSQL server for the legacy database: {exc}")
        made.append(name)
        database = LegacyDatabase(SERVER.rsplit("/", 1)[0] + f"/{name}")
        if copy_of is None:
            database.execute(SCHEMA)
        return database

    yield make
    with psycopg.connect(SERVER, autocommit=True) as conn:
        for name in made:
            conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


@pytest.fixture
def legacy_db(legacy_db_factory):
    return legacy_db_factory()
