"""The set-based path (PostgreSQL): an old table staged with COPY, compared by key and signature
in one query, imported with a few `INSERT … SELECT` / `UPDATE … FROM` statements per chunk.

For each old table, in one transaction:

1. Stage. The old table's SELECT (legacy.source) is piped as raw COPY blocks into a temporary
   table here; nothing is parsed in Python. A table whose rows are large (messages) is staged
   in two passes once it has been imported before: keys and signatures first, then only the
   rows that are new or changed, asked for by key.
2. Compare. One join of the staged keys with `ImportedRow` counts what is new, changed and
   unchanged (and what the old table no longer has).
3. Apply, chunk by chunk (a range of staged rows per savepoint): the statements below import
   the new rows that pass the checks and bring the changed ones up to date, and record each in
   `ImportedRow` in the same statement that made it. A chunk whose statements fail is retried
   in halves, down to a few dozen rows.
4. Leftovers. Every staged row still new or changed (it failed a check, or its chunk failed)
   goes through the per-row path (legacy.rows), one savepoint each: it is imported there or
   refused with its key and the reason.

The money rule is the per-row path's: each wallet's `legacy:` entries add up to the old balance,
and the wallet's balance moves in the same statement that writes the entry
(`UPDATE … RETURNING` feeding the `INSERT`), so `balance == sum(entries)` holds throughout. The
live-balance push and the Casdoor mirror are not sent per wallet: Casdoor already holds the
old balances (the old system mirrored them); the runbook re-sends them all once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import psycopg
from allauth.account.models import EmailAddress
from allauth.socialaccount.models import SocialAccount
from django.contrib.auth.hashers import UNUSABLE_PASSWORD_PREFIX
from django.db import connection, transaction
from psycopg import sql
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from accounts.models import User
from chats.models import Chat, Message
from legacy.models import ImportedRow, LegacySession
from legacy.report import TableReport
from legacy.rows import IMPORTED_PAYMENT, LEGACY_REFERENCE, OPENING_BALANCE, SOCIAL_PROVIDERS, rows_import
from legacy.source import LegacySource
from legacy.tables import Table
from payments.models import Payment
from wallets.models import LedgerEntry, Wallet

# A failed chunk is split until it is this small; its rows then go one by one.
SMALLEST_CHUNK = 64
# Keys asked for at a time when a delta fetches only the rows it needs.
KEYS_PER_FETCH = 10_000
LEFTOVERS_PER_FETCH = 500

MODELS = {
    "imported": ImportedRow,
    "legacy_session": LegacySession,
    "user": User,
    "wallet": Wallet,
    "entry": LedgerEntry,
    "payment": Payment,
    "chat": Chat,
    "message": Message,
    "social": SocialAccount,
    "email": EmailAddress,
}

PARAMS = {
    # A whole number of kopecks that fits our money columns (14 digits, 2 after the point).
    "money": r"^[0-9]{1,12}(\.[0-9]{1,2})?$",
    "legacy_prefix": LEGACY_REFERENCE,
    "opening_balance": OPENING_BALANCE,
    "unusable_password": UNUSABLE_PASSWORD_PREFIX,
    "providers": list(SOCIAL_PROVIDERS),
    "statuses": list(Payment.Status.values),
    "final": list(Payment.FINAL),
    "roles": list(Message.Role.values),
    "complete": Message.Status.COMPLETE,
    "adjustment": LedgerEntry.Kind.ADJUSTMENT,
    "imported_payment": Jsonb(IMPORTED_PAYMENT),
    "empty_object": Jsonb({}),
    "empty_list": Jsonb([]),
    "payment_id_length": Payment._meta.get_field("yookassa_payment_id").max_length,
    "currency_length": Payment._meta.get_field("currency").max_length,
}

# Fragments the statements below name in braces (Stage.query fills them in). `s` is a staged
# row, `r` its ImportedRow if an earlier run recorded one.
FRAGMENTS = {
    "staged": """{stage} s LEFT JOIN {imported} r ON r."table" = %(table)s AND r.legacy_key = s.{key}""",
    "in_chunk": "s.ord >= %(lo)s AND s.ord < %(hi)s",
    "new": "r.id IS NULL AND s.{key} <> ''",
    "changed": "r.id IS NOT NULL AND r.signature IS DISTINCT FROM s.signature",
    # NULL unless the text is a whole number of kopecks (casting anything else would fail).
    "balance": "CASE WHEN coalesce(s.balance, '0') ~ %(money)s THEN coalesce(s.balance, '0')::numeric END",
    "amount": "CASE WHEN coalesce(s.amount, '0') ~ %(money)s THEN coalesce(s.amount, '0')::numeric END",
    # Follows `WITH created AS (INSERT … RETURNING … AS object_id, … AS joined)`: records each
    # row the insert made, found again in the stage by the table's JOINED column.
    "record_created": """
        INSERT INTO {imported} ("table", legacy_key, object_id, signature, imported_at)
        SELECT %(table)s, s.{key}, created.object_id, s.signature, now()
        FROM created JOIN {stage} s ON s.{joined} = created.joined AND s.ord >= %(lo)s AND s.ord < %(hi)s""",
}
JOINED = {
    "payments": "yookassa_payment_id",
    "chats": "new_id",
    "messages": "new_id",
    "user_sessions": "session_hash",
}

WALLETS = [
    # New people: a user (unless one signed up here already under that casdoor_id) and a wallet.
    """
    INSERT INTO {user} (password, is_superuser, casdoor_id, name, email, avatar, phone, is_staff,
                        is_active, date_joined, casdoor_sync_error)
    SELECT %(unusable_password)s || left(md5(random()::text) || md5(random()::text), 40), false,
           s.casdoor_id, coalesce(s.name, ''), coalesce(s.email, ''), coalesce(s.avatar, ''),
           coalesce(s.phone, ''), false, true, now(), ''
    FROM {staged} WHERE {in_chunk} AND {new} AND {balance} >= 0
    ON CONFLICT (casdoor_id) DO NOTHING""",
    """
    INSERT INTO {wallet} (user_id, balance, held, updated_at)
    SELECT u.id, 0, 0, now()
    FROM {staged} JOIN {user} u ON u.casdoor_id = s.casdoor_id
    WHERE {in_chunk} AND {new} AND {balance} >= 0
    ON CONFLICT (user_id) DO NOTHING""",
    # Changed people: the old system's profile.
    """
    UPDATE {user} u SET email = coalesce(s.email, ''), name = coalesce(s.name, ''),
                        avatar = coalesce(s.avatar, ''), phone = coalesce(s.phone, '')
    FROM {staged}
    WHERE u.casdoor_id = s.casdoor_id AND {in_chunk} AND {changed} AND {balance} >= 0""",
    # The way they signed in to the old system, so their next sign-in finds them.
    """
    INSERT INTO {social} (provider, uid, user_id, extra_data, last_login, date_joined)
    SELECT split_part(s.casdoor_id, '_', 1), substr(s.casdoor_id, strpos(s.casdoor_id, '_') + 1), u.id,
           %(empty_object)s, now(), now()
    FROM {staged} JOIN {user} u ON u.casdoor_id = s.casdoor_id
    WHERE {in_chunk} AND ({new} OR {changed}) AND {balance} >= 0
      AND split_part(s.casdoor_id, '_', 1) = ANY(%(providers)s) AND strpos(s.casdoor_id, '_') > 0
      AND substr(s.casdoor_id, strpos(s.casdoor_id, '_') + 1) <> ''
    ON CONFLICT DO NOTHING""",
    # An emailed-code account's address, verified unless another account verified it first.
    """
    INSERT INTO {email} (user_id, email, verified, "primary")
    SELECT u.id, lower(s.email),
           row_number() OVER (PARTITION BY lower(s.email) ORDER BY s.ord) = 1
           AND NOT EXISTS (SELECT 1 FROM {email} a WHERE a.email = lower(s.email) AND a.verified),
           NOT EXISTS (SELECT 1 FROM {email} a WHERE a.user_id = u.id AND a."primary")
    FROM {staged} JOIN {user} u ON u.casdoor_id = s.casdoor_id
    WHERE {in_chunk} AND ({new} OR {changed}) AND {balance} >= 0
      AND split_part(s.casdoor_id, '_', 1) = 'email' AND s.email <> ''
    ON CONFLICT DO NOTHING""",
    # Balances: each wallet's legacy entries brought to the old balance. The wallet moves in
    # the statement that writes its entry; a fall below what is held here leaves the row over.
    """
    WITH wanted AS (
        SELECT u.id AS user_id, s.casdoor_id, {balance} AS balance
        FROM {staged} JOIN {user} u ON u.casdoor_id = s.casdoor_id
        WHERE {in_chunk} AND ({new} OR {changed}) AND {balance} >= 0
    ), legacy AS (
        SELECT w.user_id, w.casdoor_id, w.balance - coalesce(sum(e.amount), 0) AS delta,
               count(e.id) AS entries
        FROM wanted w LEFT JOIN {entry} e ON e.wallet_id = w.user_id AND starts_with(e.reference, %(legacy_prefix)s)
        GROUP BY w.user_id, w.casdoor_id, w.balance
    ), moved AS (
        UPDATE {wallet} w SET balance = w.balance + l.delta, updated_at = now()
        FROM legacy l
        WHERE w.user_id = l.user_id AND l.delta <> 0 AND w.balance + l.delta >= w.held
        RETURNING w.user_id, w.balance, l.delta, l.casdoor_id, l.entries
    )
    INSERT INTO {entry} (wallet_id, amount, kind, reference, balance_after, description, metadata,
                         created_at)
    SELECT user_id, delta, %(adjustment)s,
           %(legacy_prefix)s || casdoor_id || CASE WHEN entries = 0 THEN '' ELSE ':' || entries END,
           balance, %(opening_balance)s, %(empty_object)s, now()
    FROM moved""",
    # Recorded once the legacy entries add up to the old balance.
    """
    WITH wanted AS MATERIALIZED (
        SELECT s.casdoor_id, s.signature, u.id AS user_id, {balance} AS balance
        FROM {staged} JOIN {user} u ON u.casdoor_id = s.casdoor_id
        WHERE {in_chunk} AND ({new} OR {changed}) AND {balance} >= 0
    )
    INSERT INTO {imported} ("table", legacy_key, object_id, signature, imported_at)
    SELECT %(table)s, w.casdoor_id, w.user_id::text, w.signature, now()
    FROM wanted w
    WHERE w.balance = (SELECT coalesce(sum(e.amount), 0) FROM {entry} e WHERE e.wallet_id = w.user_id
                       AND starts_with(e.reference, %(legacy_prefix)s))
    ON CONFLICT ("table", legacy_key) DO UPDATE SET signature = EXCLUDED.signature""",
]

PAYMENTS = [
    """
    WITH created AS (
        INSERT INTO {payment} (id, user_id, yookassa_payment_id, amount, currency, status, description,
                               provider_object, error, created_at, updated_at)
        SELECT gen_random_uuid(), u.id, s.yookassa_payment_id, {amount}, s.currency, s.status,
               coalesce(s.description, ''), %(imported_payment)s, '', coalesce(s.created_at, now()),
               coalesce(s.updated_at, now())
        FROM {staged} JOIN {user} u ON u.casdoor_id = s.owner
        WHERE {in_chunk} AND {new} AND s.status = ANY(%(statuses)s) AND {amount} > 0
          AND length(s.yookassa_payment_id) <= %(payment_id_length)s
          AND length(s.currency) <= %(currency_length)s
        ON CONFLICT DO NOTHING
        RETURNING id::text AS object_id, yookassa_payment_id AS joined
    ) {record_created}""",
    # A status the old system moved on to, unless ours is final already; nothing is credited.
    """
    UPDATE {payment} p SET status = s.status
    FROM {staged}
    WHERE p.id = r.object_id::uuid AND {in_chunk} AND {changed} AND s.status = ANY(%(statuses)s)
      AND p.status <> ALL(%(final)s) AND p.status <> s.status""",
]

CHATS = [
    """
    WITH created AS (
        INSERT INTO {chat} (id, user_id, model, title, created_at, updated_at)
        SELECT s.new_id, u.id, coalesce(s.model, ''), coalesce(s.title, ''), coalesce(s.created_at, now()),
               coalesce(s.updated_at, s.created_at, now())
        FROM {staged} JOIN {user} u ON u.casdoor_id = s.owner
        WHERE {in_chunk} AND {new}
        RETURNING id::text AS object_id, id AS joined
    ) {record_created}""",
    """
    UPDATE {chat} c SET model = coalesce(s.model, ''), title = coalesce(s.title, '')
    FROM {staged}
    WHERE c.id = r.object_id::bigint AND {in_chunk} AND {changed}""",
]

MESSAGES = [
    """
    WITH created AS (
        INSERT INTO {message} (id, chat_id, role, content, image_url, image_urls, attachment_url, model,
                               tokens_in, tokens_out, cost, status, error, created_at)
        SELECT s.new_id, c.id, s.role, coalesce(s.content, ''), coalesce(s.image_url, ''), %(empty_list)s,
               coalesce(s.attachment_url, ''), coalesce(s.model, ''), 0, 0, 0, %(complete)s, '',
               coalesce(s.created_at, now())
        FROM {staged}
             JOIN {imported} rc ON rc."table" = 'chats' AND rc.legacy_key = s.chat_id
             JOIN {chat} c ON c.id = rc.object_id::bigint
        WHERE {in_chunk} AND {new} AND s.role = ANY(%(roles)s)
        RETURNING id::text AS object_id, id AS joined
    ) {record_created}""",
    """
    UPDATE {message} m SET role = s.role, content = coalesce(s.content, ''),
                           image_url = coalesce(s.image_url, ''),
                           attachment_url = coalesce(s.attachment_url, ''), model = coalesce(s.model, '')
    FROM {staged}
    WHERE m.id = r.object_id::bigint AND {in_chunk} AND {changed} AND s.role = ANY(%(roles)s)""",
]

USER_SESSIONS = [
    """
    WITH created AS (
        INSERT INTO {legacy_session} (session_hash, user_id, created_at)
        SELECT s.session_hash, u.id, coalesce(s.created_at, now())
        FROM {staged} JOIN {user} u ON u.casdoor_id = s.owner
        WHERE {in_chunk} AND {new}
        ON CONFLICT DO NOTHING
        RETURNING session_hash AS object_id, session_hash AS joined
    ) {record_created}""",
    # A session already used here stays gone: only a stored one changes owner.
    """
    UPDATE {legacy_session} ls SET user_id = u.id
    FROM {staged} JOIN {user} u ON u.casdoor_id = s.owner
    WHERE ls.session_hash = s.session_hash AND {in_chunk} AND {changed}""",
]
# Signed out of the old system since an earlier run: not honoured here either.
SESSIONS_FORGET_GONE = """
DELETE FROM {legacy_session} ls WHERE NOT EXISTS (SELECT 1 FROM {stage} s WHERE s.session_hash = ls.session_hash)"""

# Changed rows whose statements ran to the end take their new signature (wallets record theirs
# in their last statement, once the balance is brought).
RECORD_CHANGED = """
UPDATE {imported} r SET signature = s.signature
FROM {stage} s
WHERE r."table" = %(table)s AND r.legacy_key = s.{key} AND {in_chunk}
  AND r.signature IS DISTINCT FROM s.signature AND {settled}"""

# Per table: its statements, and which of its changed rows they settle.
STATEMENTS = {
    "wallets": (WALLETS, None),
    "payments": (PAYMENTS, "s.status = ANY(%(statuses)s)"),
    "chats": (CHATS, "true"),
    "messages": (MESSAGES, "s.role = ANY(%(roles)s)"),
    "user_sessions": (USER_SESSIONS, "EXISTS (SELECT 1 FROM {user} u WHERE u.casdoor_id = s.owner)"),
}
# Tables whose new rows get their id here before the insert, to record which row became which.
NEW_IDS = {"chats": Chat, "messages": Message}

COMPARE = """
SELECT count(*) AS read, count(*) FILTER (WHERE r.id IS NULL) AS new,
       count(*) FILTER (WHERE r.id IS NOT NULL AND r.signature IS DISTINCT FROM s.signature) AS changed
FROM {staged}"""
# The staged rows still new or changed, all at once (a hash join; a LIMIT would tempt the planner
# into a nested loop over ImportedRow).
TODO = """
CREATE TEMPORARY TABLE {todo} AS
SELECT s.ord FROM {staged} WHERE r.id IS NULL OR r.signature IS DISTINCT FROM s.signature"""
TODO_PAGE = """
SELECT s.* FROM {stage} s JOIN {todo} t ON t.ord = s.ord WHERE s.ord > %(after)s ORDER BY s.ord LIMIT %(limit)s"""


class Stage:
    """A temporary table here holding one old table's staged rows (`ord` numbers them)."""

    def __init__(self, cursor, table: Table, *, keys_only: bool = False):
        self.cursor = cursor
        self.table = table
        self.name = f"legacy_{'keys' if keys_only else 'stage'}_{table.name}"
        self.columns = (
            [table.key, "old_key", "signature"]
            if keys_only
            else [column.name for column in table.columns] + ["signature"]
        )
        types = {column.name: column.type for column in table.columns} | {"signature": "uuid"}
        definitions = [sql.SQL("ord bigint GENERATED ALWAYS AS IDENTITY")]
        model = NEW_IDS.get(table.name)
        if model is not None and not keys_only:
            cursor.execute("SELECT pg_get_serial_sequence(%s, 'id') AS name", [model._meta.db_table])
            sequence = cursor.fetchone()["name"]
            definitions.append(sql.SQL("new_id bigint DEFAULT nextval({})").format(sql.Literal(sequence)))
        definitions += [
            sql.SQL("{} {}").format(sql.Identifier(name), sql.SQL(types.get(name, "text")))
            for name in self.columns
        ]
        cursor.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(sql.Identifier(self.name)))
        cursor.execute(
            sql.SQL("CREATE TEMPORARY TABLE {} ({})").format(
                sql.Identifier(self.name), sql.SQL(", ").join(definitions)
            )
        )

    def fill(self, source: LegacySource, query) -> None:
        statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
            sql.Identifier(self.name), sql.SQL(", ").join(map(sql.Identifier, self.columns))
        )
        with self.cursor.copy(statement) as copy:
            source.copy(query, copy.write)

    def ready(self) -> None:
        """Indexed by `ord` (chunks are ranges of it) and analysed (autovacuum never looks at
        temporary tables, and the planner needs the row count)."""
        self.cursor.execute(sql.SQL("CREATE INDEX ON {} (ord)").format(sql.Identifier(self.name)))
        self.cursor.execute(sql.SQL("ANALYZE {}").format(sql.Identifier(self.name)))

    def query(self, text: str, **more) -> sql.Composed:
        """`text` with its braces filled in: our tables' names, this stage's, the fragments."""
        names = {name: sql.Identifier(model._meta.db_table) for name, model in MODELS.items()}
        names |= {
            "stage": sql.Identifier(self.name),
            "key": sql.Identifier(self.table.key),
            "joined": sql.Identifier(JOINED.get(self.table.name, self.table.key)),
        }
        fragments = {name: sql.SQL(fragment).format(**names) for name, fragment in FRAGMENTS.items()}
        return sql.SQL(text).format(**names, **fragments, **more)

    def execute(self, text: str, params: dict | None = None, **more):
        self.cursor.execute(self.query(text, **more), {**PARAMS, "table": self.table.name, **(params or {})})
        return self.cursor

    def last_ord(self) -> int:
        self.cursor.execute(
            sql.SQL("SELECT coalesce(max(ord), 0) AS last FROM {}").format(sql.Identifier(self.name))
        )
        return self.cursor.fetchone()["last"]

    def drop(self) -> None:
        self.cursor.execute(sql.SQL("DROP TABLE {}").format(sql.Identifier(self.name)))

    def todo(self, limit: int) -> Iterator[list[dict]]:
        """The staged rows still new or changed, found once, then read a page at a time."""
        todo = sql.Identifier(f"{self.name}_todo")
        self.execute(TODO, todo=todo)
        after = 0
        while rows := self.execute(TODO_PAGE, {"after": after, "limit": limit}, todo=todo).fetchall():
            yield rows
            after = rows[-1]["ord"]
        self.cursor.execute(sql.SQL("DROP TABLE {}").format(todo))

    def analyze_ours(self) -> None:
        """Fresh statistics for our tables the statements join: the planner must not take a
        table filled earlier in this run (even this transaction) for an empty one."""
        for model in (ImportedRow, User, Chat):
            self.cursor.execute(sql.SQL("ANALYZE {}").format(sql.Identifier(model._meta.db_table)))


def table_import(
    *,
    source: LegacySource,
    table: Table,
    result: TableReport,
    chunk_size: int,
    progress: Callable[[str], None],
) -> None:
    """Imports one old table through the set-based path, in the caller's transaction."""
    connection.ensure_connection()
    with connection.connection.cursor(row_factory=dict_row) as cursor:
        already = ImportedRow.objects.filter(table=table.name).count()
        stage = Stage(cursor, table)
        stage.analyze_ours()
        keys = None
        with result.step("stage"):
            if table.keys_first and already:
                keys = Stage(cursor, table, keys_only=True)
                keys.fill(source, source.select(table, keys_only=True))
                keys.ready()
            else:
                stage.fill(source, source.select(table))
                stage.ready()
        with result.step("compare"):
            counts = (keys or stage).execute(COMPARE).fetchone()
        progress(f"{table.name}: {counts['read']} rows, {counts['new']} new, {counts['changed']} changed")
        if keys is not None:
            with result.step("stage"):
                _stage_needed(source=source, table=table, keys=keys, stage=stage, counts=counts)
                keys.drop()
        with result.step("apply"):
            for lo in range(1, stage.last_ord() + 1, chunk_size):
                _apply(stage=stage, lo=lo, hi=lo + chunk_size, result=result)
        with result.step("one by one"):
            outcomes = rows_import(table=table, rows=_leftovers(stage), result=result)
        if table.name == "user_sessions":
            stage.execute(SESSIONS_FORGET_GONE)
        stage.drop()
    result.read = counts["read"]
    result.new = counts["new"] - outcomes["refused new"]
    result.changed = counts["changed"] - outcomes["refused changed"]
    result.unchanged = counts["read"] - counts["new"] - counts["changed"]
    result.gone = already - (counts["read"] - counts["new"])


def _stage_needed(*, source: LegacySource, table: Table, keys: Stage, stage: Stage, counts: dict) -> None:
    """Stages the rows a delta needs: asked for by key when they are few, all when many."""
    needed = counts["new"] + counts["changed"]
    if needed > counts["read"] // 4:
        stage.fill(source, source.select(table))
    else:
        for page in keys.todo(KEYS_PER_FETCH):
            stage.fill(source, source.select(table, keys=[row["old_key"] for row in page]))
    stage.ready()


def _apply(*, stage: Stage, lo: int, hi: int, result: TableReport) -> None:
    """One chunk's statements in a savepoint; a failed chunk is retried in halves, and the rows
    of a failed small one are left to the per-row path (which says what is wrong with them)."""
    statements, settled = STATEMENTS[stage.table.name]
    try:
        with transaction.atomic():
            for statement in statements:
                stage.execute(statement, {"lo": lo, "hi": hi})
            if settled:
                stage.execute(RECORD_CHANGED, {"lo": lo, "hi": hi}, settled=stage.query(settled))
    except psycopg.Error as exc:
        if hi - lo <= SMALLEST_CHUNK:
            return
        note = f"rows {lo}–{hi - 1} failed together ({type(exc).__name__}: {str(exc).splitlines()[0]}); retried in halves"
        result.notes.append(note)
        middle = (lo + hi) // 2
        _apply(stage=stage, lo=lo, hi=middle, result=result)
        _apply(stage=stage, lo=middle, hi=hi, result=result)


def _leftovers(stage: Stage) -> Iterator[dict]:
    for page in stage.todo(LEFTOVERS_PER_FETCH):
        yield from page
