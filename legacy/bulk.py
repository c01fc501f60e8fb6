"""The set-based path (PostgreSQL): an old table staged with COPY, compared by key and signature
in one join, imported with a few `INSERT … SELECT` / `UPDATE … FROM` statements per chunk.

For each old table, in one transaction:

1. Stage. The old table's SELECT (legacy.source) is piped as raw COPY blocks into a temporary
   table here; nothing is parsed in Python. A table whose rows are large (messages) is staged
   in two passes once it has been imported before: keys and signatures first, then only the
   rows that are new or changed, asked for by key.
2. Plan. One hash join of the staged keys with `ImportedRow` writes the rows that are new or
   changed (with what they became here) to a second temporary table, numbered; the counts of
   new, changed and unchanged come from it. Later statements join this plan, never
   `ImportedRow` itself, which grows as the run goes and whose statistics would lag behind.
3. Apply, chunk by chunk (a range of the plan per savepoint): the statements below import the
   new rows that pass the checks and bring the changed ones up to date, and record each in
   `ImportedRow` in the same statement that made it. A table a later statement joins is
   analysed as soon as it has grown, so the planner never takes it for empty. A chunk whose
   statements fail is retried in halves, down to a few dozen rows.
4. Leftovers. Every planned row still not recorded (it failed a check, or its chunk failed)
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
from dataclasses import dataclass

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
# row, `p` its line in the plan: `p.object_id` is what an earlier run made of it, NULL if new.
FRAGMENTS = {
    # The stage is read by its `ord` range too: the plan's order is the stage's, and without it
    # each chunk would scan the whole stage.
    "chunk": """{stage} s JOIN {plan} p
                ON p.ord = s.ord AND p.n >= %(lo)s AND p.n < %(hi)s AND s.ord BETWEEN %(first)s AND %(last)s""",
    "new": "p.object_id IS NULL AND s.{key} <> ''",
    "changed": "p.object_id IS NOT NULL",
    # NULL unless the text is a whole number of kopecks (casting anything else would fail).
    "balance": "CASE WHEN coalesce(s.balance, '0') ~ %(money)s THEN coalesce(s.balance, '0')::numeric END",
    "amount": "CASE WHEN coalesce(s.amount, '0') ~ %(money)s THEN coalesce(s.amount, '0')::numeric END",
    # Follows `WITH created AS (INSERT … RETURNING … AS object_id, … AS joined)`: records each
    # row the insert made, found again in the chunk by the table's JOINED column.
    "record_created": """
        INSERT INTO {imported} ("table", legacy_key, object_id, signature, imported_at)
        SELECT %(table)s, s.{key}, created.object_id, s.signature, now()
        FROM created JOIN {chunk} ON s.{joined} = created.joined""",
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
    FROM {chunk} WHERE {new} AND {balance} >= 0
    ON CONFLICT (casdoor_id) DO NOTHING""",
    "ANALYZE {user}",
    """
    INSERT INTO {wallet} (user_id, balance, held, updated_at)
    SELECT u.id, 0, 0, now()
    FROM {chunk} JOIN {user} u ON u.casdoor_id = s.casdoor_id
    WHERE {new} AND {balance} >= 0
    ON CONFLICT (user_id) DO NOTHING""",
    "ANALYZE {wallet}",
    # Changed people: what the old system's profile says (an empty field keeps ours).
    """
    UPDATE {user} u SET email = coalesce(nullif(s.email, ''), u.email), name = coalesce(nullif(s.name, ''), u.name),
                        avatar = coalesce(nullif(s.avatar, ''), u.avatar),
                        phone = coalesce(nullif(s.phone, ''), u.phone)
    FROM {chunk}
    WHERE u.casdoor_id = s.casdoor_id AND {changed} AND {balance} >= 0""",
    # The way they signed in to the old system, so their next sign-in finds them.
    """
    INSERT INTO {social} (provider, uid, user_id, extra_data, last_login, date_joined)
    SELECT split_part(s.casdoor_id, '_', 1), substr(s.casdoor_id, strpos(s.casdoor_id, '_') + 1), u.id,
           %(empty_object)s, now(), now()
    FROM {chunk} JOIN {user} u ON u.casdoor_id = s.casdoor_id
    WHERE {balance} >= 0 AND split_part(s.casdoor_id, '_', 1) = ANY(%(providers)s)
      AND strpos(s.casdoor_id, '_') > 0 AND substr(s.casdoor_id, strpos(s.casdoor_id, '_') + 1) <> ''
    ON CONFLICT DO NOTHING""",
    # An emailed-code account's address, verified unless another account verified it first.
    """
    INSERT INTO {email} (user_id, email, verified, "primary")
    SELECT u.id, lower(s.email),
           row_number() OVER (PARTITION BY lower(s.email) ORDER BY s.ord) = 1
           AND NOT EXISTS (SELECT 1 FROM {email} a WHERE a.email = lower(s.email) AND a.verified),
           NOT EXISTS (SELECT 1 FROM {email} a WHERE a.user_id = u.id AND a."primary")
    FROM {chunk} JOIN {user} u ON u.casdoor_id = s.casdoor_id
    WHERE {balance} >= 0 AND split_part(s.casdoor_id, '_', 1) = 'email' AND s.email <> ''
    ON CONFLICT DO NOTHING""",
    "ANALYZE {entry}",
    # Balances: each wallet's legacy entries brought to the old balance, and the row recorded,
    # in one statement. The wallet moves in the statement that writes its entry (its new balance
    # is the entry's balance_after); a fall below what is held here moves nothing and leaves the
    # row unrecorded, for the per-row path to refuse. starts_with(), unlike LIKE, keeps the
    # planner off the reference index (every legacy entry) in favour of the wallet's.
    """
    WITH wanted AS (
        SELECT u.id AS user_id, s.casdoor_id, s.signature, {balance} AS balance
        FROM {chunk} JOIN {user} u ON u.casdoor_id = s.casdoor_id
        WHERE {balance} >= 0
    ), legacy AS (
        SELECT w.user_id, w.casdoor_id, w.signature, w.balance - coalesce(sum(e.amount), 0) AS delta,
               count(e.id) AS entries
        FROM wanted w
             LEFT JOIN {entry} e ON e.wallet_id = w.user_id AND starts_with(e.reference, %(legacy_prefix)s)
        GROUP BY w.user_id, w.casdoor_id, w.signature, w.balance
    ), moved AS (
        UPDATE {wallet} w SET balance = w.balance + l.delta, updated_at = now()
        FROM legacy l
        WHERE w.user_id = l.user_id AND l.delta <> 0 AND w.balance + l.delta >= w.held
        RETURNING w.user_id, w.balance, l.delta, l.casdoor_id, l.entries
    ), written AS (
        INSERT INTO {entry} (wallet_id, amount, kind, reference, balance_after, description, metadata,
                             created_at)
        SELECT user_id, delta, %(adjustment)s,
               %(legacy_prefix)s || casdoor_id || CASE WHEN entries = 0 THEN '' ELSE ':' || entries END,
               balance, %(opening_balance)s, %(empty_object)s, now()
        FROM moved
        RETURNING wallet_id
    )
    INSERT INTO {imported} ("table", legacy_key, object_id, signature, imported_at)
    SELECT %(table)s, l.casdoor_id, l.user_id::text, l.signature, now()
    FROM legacy l
    WHERE l.delta = 0 OR l.user_id IN (SELECT wallet_id FROM written)
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
        FROM {chunk} JOIN {user} u ON u.casdoor_id = s.owner
        WHERE {new} AND s.status = ANY(%(statuses)s) AND {amount} > 0
          AND length(s.yookassa_payment_id) <= %(payment_id_length)s
          AND length(s.currency) <= %(currency_length)s
        ON CONFLICT DO NOTHING
        RETURNING id::text AS object_id, yookassa_payment_id AS joined
    ) {record_created}""",
    # A status the old system moved on to, unless ours is final already; nothing is credited.
    """
    UPDATE {payment} pay SET status = s.status
    FROM {chunk}
    WHERE pay.id = p.object_id::uuid AND {changed} AND s.status = ANY(%(statuses)s)
      AND pay.status <> ALL(%(final)s) AND pay.status <> s.status""",
]

CHATS = [
    """
    WITH created AS (
        INSERT INTO {chat} (id, user_id, model, title, created_at, updated_at)
        SELECT s.new_id, u.id, coalesce(s.model, ''), coalesce(s.title, ''), coalesce(s.created_at, now()),
               coalesce(s.updated_at, s.created_at, now())
        FROM {chunk} JOIN {user} u ON u.casdoor_id = s.owner
        WHERE {new}
        RETURNING id::text AS object_id, id AS joined
    ) {record_created}""",
    """
    UPDATE {chat} c SET model = coalesce(s.model, ''), title = coalesce(s.title, '')
    FROM {chunk}
    WHERE c.id = p.object_id::bigint AND {changed}""",
]

MESSAGES = [
    """
    WITH created AS (
        INSERT INTO {message} (id, chat_id, role, content, image_url, image_urls, attachment_url, model,
                               tokens_in, tokens_out, cost, status, error, created_at)
        SELECT s.new_id, c.id, s.role, coalesce(s.content, ''), coalesce(s.image_url, ''), %(empty_list)s,
               coalesce(s.attachment_url, ''), coalesce(s.model, ''), 0, 0, 0, %(complete)s, '',
               coalesce(s.created_at, now())
        FROM {chunk} JOIN {chat_map} c ON c.legacy_key = s.chat_id
        WHERE {new} AND s.role = ANY(%(roles)s)
        RETURNING id::text AS object_id, id AS joined
    ) {record_created}""",
    """
    UPDATE {message} m SET role = s.role, content = coalesce(s.content, ''),
                           image_url = coalesce(s.image_url, ''),
                           attachment_url = coalesce(s.attachment_url, ''), model = coalesce(s.model, '')
    FROM {chunk}
    WHERE m.id = p.object_id::bigint AND {changed} AND s.role = ANY(%(roles)s)""",
]

USER_SESSIONS = [
    """
    WITH created AS (
        INSERT INTO {legacy_session} (session_hash, user_id, created_at)
        SELECT s.session_hash, u.id, coalesce(s.created_at, now())
        FROM {chunk} JOIN {user} u ON u.casdoor_id = s.owner
        WHERE {new}
        ON CONFLICT DO NOTHING
        RETURNING session_hash AS object_id, session_hash AS joined
    ) {record_created}""",
    # A session already used here stays gone: only a stored one changes owner.
    """
    UPDATE {legacy_session} ls SET user_id = u.id
    FROM {chunk} JOIN {user} u ON u.casdoor_id = s.owner
    WHERE ls.session_hash = s.session_hash AND {changed}""",
]

# Changed rows whose statements ran to the end take their new signature (wallets record theirs
# in their last statement, once the balance is brought).
RECORD_CHANGED = """
UPDATE {imported} r SET signature = s.signature
FROM {chunk}
WHERE r."table" = %(table)s AND r.legacy_key = s.{key} AND {changed} AND {settled}"""


@dataclass(frozen=True)
class Steps:
    """A table's statements: `chunk` runs per chunk (in a savepoint) and settles the changed rows
    that `settled` selects; `before` and `after` run once around the chunks."""

    chunk: list[str]
    settled: str | None = None
    before: tuple[str, ...] = ()
    after: tuple[str, ...] = ()


STEPS = {
    "wallets": Steps(WALLETS),
    "payments": Steps(PAYMENTS, settled="s.status = ANY(%(statuses)s)"),
    "chats": Steps(CHATS, settled="true"),
    "messages": Steps(
        MESSAGES,
        settled="s.role = ANY(%(roles)s)",
        # Which chat here each old chat became, once: a hash join per chunk instead of two
        # index lookups per message.
        before=(
            """CREATE TEMPORARY TABLE {chat_map} AS
            SELECT r.legacy_key, c.id FROM {imported} r JOIN {chat} c ON c.id = r.object_id::bigint
            WHERE r."table" = 'chats'""",
            "CREATE UNIQUE INDEX ON {chat_map} (legacy_key)",
            "ANALYZE {chat_map}",
        ),
        after=("DROP TABLE {chat_map}",),
    ),
    "user_sessions": Steps(
        USER_SESSIONS,
        settled="EXISTS (SELECT 1 FROM {user} u WHERE u.casdoor_id = s.owner)",
        # Signed out of the old system since an earlier run: not honoured here either.
        after=(
            """DELETE FROM {legacy_session} ls
            WHERE NOT EXISTS (SELECT 1 FROM {stage} s WHERE s.session_hash = ls.session_hash)""",
        ),
    ),
}
# Tables whose new rows get their id here before the insert, to record which row became which.
NEW_IDS = {"chats": Chat, "messages": Message}

# The staged rows that are new or changed, numbered for chunks, with what they became here.
PLAN = """
CREATE TEMPORARY TABLE {plan} AS
SELECT row_number() OVER (ORDER BY s.ord) AS n, s.ord, r.object_id
FROM {stage} s LEFT JOIN {imported} r ON r."table" = %(table)s AND r.legacy_key = s.{key}
WHERE r.id IS NULL OR r.signature IS DISTINCT FROM s.signature"""
PLAN_COUNTS = """
SELECT (SELECT count(*) FROM {stage}) AS read, count(*) FILTER (WHERE object_id IS NULL) AS new,
       count(*) FILTER (WHERE object_id IS NOT NULL) AS changed, coalesce(max(n), 0) AS last
FROM {plan}"""
# The stage's `ord` range of a chunk of the plan (numbered in `ord` order), by the index on `n`.
CHUNK_ORDS = """
SELECT (SELECT ord FROM {plan} WHERE n = %(lo)s) AS first,
       (SELECT ord FROM {plan} WHERE n = least(%(hi)s - 1, (SELECT max(n) FROM {plan}))) AS last"""
# Planned rows still not recorded with their current signature, once the statements have run.
TODO = """
CREATE TEMPORARY TABLE {todo} AS
SELECT p.n FROM {plan} p JOIN {stage} s ON s.ord = p.ord
     LEFT JOIN {imported} r ON r."table" = %(table)s AND r.legacy_key = s.{key}
WHERE r.id IS NULL OR r.signature IS DISTINCT FROM s.signature"""
TODO_PAGE = """
SELECT p.n, s.* FROM {todo} t JOIN {plan} p ON p.n = t.n JOIN {stage} s ON s.ord = p.ord
WHERE t.n > %(after)s ORDER BY t.n LIMIT %(limit)s"""


class Stage:
    """A temporary table here holding one old table's staged rows (`ord` numbers them), and the
    plan made from it."""

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
        self._drop(self.name, self.plan_name, self.todo_name)
        cursor.execute(
            sql.SQL("CREATE TEMPORARY TABLE {} ({})").format(
                sql.Identifier(self.name), sql.SQL(", ").join(definitions)
            )
        )

    @property
    def plan_name(self) -> str:
        return f"{self.name}_plan"

    @property
    def todo_name(self) -> str:
        return f"{self.name}_todo"

    def fill(self, source: LegacySource, query) -> None:
        statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
            sql.Identifier(self.name), sql.SQL(", ").join(map(sql.Identifier, self.columns))
        )
        with self.cursor.copy(statement) as copy:
            source.copy(query, copy.write)

    def plan(self) -> dict:
        """Writes the plan and returns its counts: `read`, `new`, `changed`, `last` (its size)."""
        self.execute("CREATE INDEX ON {stage} (ord)")
        # Autovacuum never looks at temporary tables, and the planner needs their sizes.
        self.execute("ANALYZE {stage}")
        self.execute(PLAN)
        self.execute("CREATE UNIQUE INDEX ON {plan} (n)")
        self.execute("CREATE UNIQUE INDEX ON {plan} (ord)")
        self.execute("ANALYZE {plan}")
        return self.execute(PLAN_COUNTS).fetchone()

    def todo(self, limit: int) -> Iterator[list[dict]]:
        """The planned rows still not recorded, found once, then read a page at a time."""
        self.execute("ANALYZE {imported}")
        self.execute(TODO)
        after = 0
        while rows := self.execute(TODO_PAGE, {"after": after, "limit": limit}).fetchall():
            yield rows
            after = rows[-1]["n"]
        self._drop(self.todo_name)

    def query(self, text: str, **more) -> sql.Composed:
        """`text` with its braces filled in: our tables' names, this stage's, the fragments."""
        names = {name: sql.Identifier(model._meta.db_table) for name, model in MODELS.items()}
        names |= {
            "stage": sql.Identifier(self.name),
            "plan": sql.Identifier(self.plan_name),
            "todo": sql.Identifier(self.todo_name),
            "chat_map": sql.Identifier("legacy_chat_map"),
            "key": sql.Identifier(self.table.key),
            "joined": sql.Identifier(JOINED.get(self.table.name, self.table.key)),
        }
        fragments = {"chunk": sql.SQL(FRAGMENTS["chunk"]).format(**names)}
        fragments |= {
            name: sql.SQL(fragment).format(**names, **fragments) for name, fragment in FRAGMENTS.items()
        }
        return sql.SQL(text).format(**names, **fragments, **more)

    def execute(self, text: str, params: dict | None = None, **more):
        self.cursor.execute(self.query(text, **more), {**PARAMS, "table": self.table.name, **(params or {})})
        return self.cursor

    def drop(self) -> None:
        self._drop(self.name, self.plan_name, self.todo_name)

    def _drop(self, *names: str) -> None:
        for name in names:
            self.cursor.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(sql.Identifier(name)))


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
        # Our tables as earlier steps (and runs) left them: the plans below must know their sizes.
        for model in (ImportedRow, User, Chat):
            cursor.execute(sql.SQL("ANALYZE {}").format(sql.Identifier(model._meta.db_table)))
        # A delta over large rows reads keys and signatures first (`keys`), then the rows it needs.
        keys = Stage(cursor, table, keys_only=True) if table.keys_first and already else None
        with result.step("stage"):
            (keys or stage).fill(source, source.select(table, keys_only=keys is not None))
        with result.step("compare"):
            counts = (keys or stage).plan()
        progress(f"{table.name}: {counts['read']} rows, {counts['new']} new, {counts['changed']} changed")
        planned = counts
        if keys is not None:
            with result.step("stage"):
                _stage_needed(source=source, table=table, keys=keys, stage=stage, counts=counts)
                keys.drop()
            with result.step("compare"):
                planned = stage.plan()
        steps = STEPS[table.name]
        with result.step("apply"):
            for statement in steps.before:
                stage.execute(statement)
            for lo in range(1, planned["last"] + 1, chunk_size):
                _apply(stage=stage, lo=lo, hi=lo + chunk_size, result=result)
            for statement in steps.after:
                stage.execute(statement)
        with result.step("one by one"):
            outcomes = rows_import(
                table=table, rows=_leftovers(stage, planned=planned, already=already), result=result
            )
        stage.drop()
    result.read = counts["read"]
    result.new = counts["new"] - outcomes["refused new"]
    result.changed = counts["changed"] - outcomes["refused changed"]
    result.unchanged = counts["read"] - counts["new"] - counts["changed"]
    result.gone = already - (counts["read"] - counts["new"])


def _leftovers(stage: Stage, *, planned: dict, already: int) -> Iterator[dict]:
    """The planned rows the statements did not record. When every new row was recorded and
    none had changed (a first import that went well), there are none, and the join that would
    look for them is skipped."""
    recorded = ImportedRow.objects.filter(table=stage.table.name).count() - already
    if planned["changed"] == 0 and recorded == planned["new"]:
        return
    for page in stage.todo(LEFTOVERS_PER_FETCH):
        yield from page


def _stage_needed(*, source: LegacySource, table: Table, keys: Stage, stage: Stage, counts: dict) -> None:
    """Stages the rows a delta needs: asked for by key when they are few, all when many."""
    if counts["new"] + counts["changed"] > counts["read"] // 4:
        stage.fill(source, source.select(table))
        return
    for page in keys.todo(KEYS_PER_FETCH):
        stage.fill(source, source.select(table, keys=[row["old_key"] for row in page]))


def _apply(*, stage: Stage, lo: int, hi: int, result: TableReport) -> None:
    """One chunk's statements in a savepoint; a failed chunk is retried in halves, and the rows
    of a failed small one are left to the per-row path (which says what is wrong with them)."""
    steps = STEPS[stage.table.name]
    chunk = {"lo": lo, "hi": hi, **stage.execute(CHUNK_ORDS, {"lo": lo, "hi": hi}).fetchone()}
    try:
        with transaction.atomic():
            for statement in steps.chunk:
                stage.execute(statement, chunk)
            if steps.settled:
                stage.execute(RECORD_CHANGED, chunk, settled=stage.query(steps.settled))
    except psycopg.Error as exc:
        if hi - lo <= SMALLEST_CHUNK:
            return
        first_line = str(exc).splitlines()[0]
        result.notes.append(
            f"plan rows {lo}–{hi - 1} failed together ({type(exc).__name__}: {first_line}); retried in halves"
        )
        middle = (lo + hi) // 2
        _apply(stage=stage, lo=lo, hi=middle, result=result)
        _apply(stage=stage, lo=middle, hi=hi, result=result)
