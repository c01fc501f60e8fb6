"""Reading the old FastAPI system's PostgreSQL database (SQLAlchemy tables).

Every read goes through one SELECT per table (`LegacySource.select`), built from legacy.tables:
the columns we import, normalised, plus the row's signature. It is read either row by row
through a server-side cursor (the per-row path) or as raw `COPY ... TO STDOUT` blocks that
the set-based path pipes straight into a `COPY ... FROM STDIN` on our database, so no row is
parsed in Python and memory stays flat whatever the size.

All reads share one REPEATABLE READ READ ONLY transaction: counts, sums and rows describe the
same moment. Old timestamps without a zone are read as UTC (SQLAlchemy's `utcnow`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from decimal import Decimal

import psycopg
from psycopg import sql
from psycopg.rows import dict_row

from legacy.tables import Column, Table


class LegacySource:
    def __init__(self, url: str):
        self.connection = psycopg.connect(url, row_factory=dict_row, autocommit=False)
        self.connection.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        self.connection.execute("SET TIME ZONE 'UTC'")
        self.connection.execute("SET DateStyle = 'ISO'")
        self.connection.execute("SET client_encoding = 'UTF8'")
        self._columns: dict[str, dict[str, str]] = {}

    def close(self) -> None:
        self.connection.rollback()
        self.connection.close()

    def has_table(self, table: str) -> bool:
        return bool(self.columns(table))

    def columns(self, table: str) -> dict[str, str]:
        """The old table's columns and their types (empty when the table does not exist)."""
        if table not in self._columns:
            rows = self.connection.execute(
                "SELECT a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type"
                " FROM pg_attribute a WHERE a.attrelid = to_regclass(%s) AND a.attnum > 0"
                " AND NOT a.attisdropped",
                [table],
            ).fetchall()
            self._columns[table] = {row["name"]: row["type"] for row in rows}
        return self._columns[table]

    def count(self, table: str) -> int:
        query = sql.SQL("SELECT count(*) AS n FROM {}").format(sql.Identifier(table))
        return self.connection.execute(query).fetchone()["n"]

    def total_balance(self) -> Decimal:
        row = self.connection.execute("SELECT coalesce(sum(balance), 0) AS total FROM wallets").fetchone()
        return Decimal(row["total"])

    # The one SELECT per table -------------------------------------------------------------------
    def _value(self, table: Table, column: Column) -> sql.Composable:
        present = [name for name in column.old_names if name in self.columns(table.name)]
        cast = sql.SQL(column.type)
        values = [sql.SQL("{}::{}").format(sql.Identifier(name), cast) for name in present]
        if not values:
            value: sql.Composable = sql.SQL("NULL::{}").format(cast)
        elif len(values) == 1:
            value = values[0]
        else:
            value = sql.SQL("coalesce({})").format(sql.SQL(", ").join(values))
        if column.trim:
            value = sql.SQL("btrim({})").format(value)
        if column.expression:
            value = sql.SQL(column.expression).format(value)
        if column.default is not None:
            value = sql.SQL("coalesce(nullif({}, ''), {})").format(value, sql.Literal(column.default))
        if column.limit:
            value = sql.SQL("left({}, {})").format(value, sql.Literal(column.limit))
        return value

    def _order(self, table: Table) -> str:
        """The old column behind our key: rows are read in its order (message ids here follow
        the old ids, which order messages written in the same instant)."""
        present = [name for name in table.key_column.old_names if name in self.columns(table.name)]
        if not present:
            raise psycopg.ProgrammingError(f"{table.name} has no {table.key_column.old_names[0]} column")
        return present[0]

    def select(
        self, table: Table, *, keys: Sequence[str] | None = None, keys_only: bool = False
    ) -> sql.Composed:
        """Every column of `table`, normalised, and `signature`: the md5 of those values.

        Args:
            keys: only the rows whose old key column, as text, is one of these.
            keys_only: only our key, `old_key` (the old key column as text, to ask for the row
                again) and `signature`.
        """
        order = self._order(table)
        old_type = self.columns(table.name)[order]
        names = sql.SQL(", ").join(sql.Identifier(column.name) for column in table.columns)
        inner = sql.SQL("SELECT {values}, {order} AS legacy_order FROM {table}").format(
            values=sql.SQL(", ").join(
                sql.SQL("{} AS {}").format(self._value(table, column), sql.Identifier(column.name))
                for column in table.columns
            ),
            order=sql.Identifier(order),
            table=sql.Identifier(table.name),
        )
        if keys is not None:
            inner += sql.SQL(" WHERE {} = ANY(CAST({} AS text[])::{}[])").format(
                sql.Identifier(order), sql.Literal(list(keys)), sql.SQL(old_type)
            )
        output = (
            sql.SQL("{}, legacy_order::text AS old_key").format(sql.Identifier(table.key))
            if keys_only
            else names
        )
        return sql.SQL(
            "SELECT {output}, md5(ROW({names})::text)::uuid AS signature FROM ({inner}) AS row_values"
            " ORDER BY legacy_order"
        ).format(output=output, names=names, inner=inner)

    # Reading --------------------------------------------------------------------------------
    def rows(self, table: Table, batch_size: int = 500) -> Iterator[dict]:
        with self.connection.cursor(name=f"legacy_{table.name}") as cursor:
            cursor.itersize = batch_size
            cursor.execute(self.select(table))
            yield from cursor

    def copy(self, query: sql.Composed, write: Callable[[bytes], None]) -> None:
        """Streams `query`'s rows in COPY's text format to `write`, block by block."""
        with (
            self.connection.cursor() as cursor,
            cursor.copy(sql.SQL("COPY ({}) TO STDOUT").format(query)) as copy,
        ):
            for block in copy:
                write(block)
