"""Reading the old FastAPI system's PostgreSQL database (SQLAlchemy tables).

Rows come back as dicts of whatever columns the table has, so extra columns are ignored and
missing optional ones read as absent; each table is read in primary-key order through a
server-side cursor, so a large table streams instead of loading whole.
"""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
from psycopg import sql
from psycopg.rows import dict_row

# Old table → the column that orders and identifies its rows.
TABLES = {
    "wallets": "casdoor_id",
    "payments": "yookassa_payment_id",
    "chats": "id",
    "messages": "id",
    "user_sessions": "session_id",
}


class LegacySource:
    def __init__(self, url: str):
        self.connection = psycopg.connect(url, row_factory=dict_row, autocommit=False)
        # A repeatable snapshot: counts, sums and rows all describe the same moment.
        self.connection.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")

    def close(self) -> None:
        self.connection.rollback()
        self.connection.close()

    def has_table(self, table: str) -> bool:
        row = self.connection.execute("SELECT to_regclass(%s) IS NOT NULL AS present", [table]).fetchone()
        return bool(row["present"])

    def columns(self, table: str) -> set[str]:
        rows = self.connection.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = %s", [table]
        ).fetchall()
        return {row["column_name"] for row in rows}

    def count(self, table: str) -> int:
        query = sql.SQL("SELECT count(*) AS n FROM {}").format(sql.Identifier(table))
        return self.connection.execute(query).fetchone()["n"]

    def total_balance(self):
        return self.connection.execute("SELECT coalesce(sum(balance), 0) AS total FROM wallets").fetchone()[
            "total"
        ]

    def rows(self, table: str, batch_size: int = 500) -> Iterator[dict]:
        order = TABLES[table] if TABLES[table] in self.columns(table) else None
        query = sql.SQL("SELECT * FROM {}").format(sql.Identifier(table))
        if order:
            query += sql.SQL(" ORDER BY {}").format(sql.Identifier(order))
        with self.connection.cursor(name=f"legacy_{table}") as cursor:
            cursor.itersize = batch_size
            cursor.execute(query)
            yield from cursor
