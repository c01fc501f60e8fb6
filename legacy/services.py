"""Moving the old FastAPI system's data here, and honouring its sign-ins once.

`legacy_import` reads each old table (legacy.tables) and imports it, on PostgreSQL through the
set-based path (legacy.bulk: COPY, staging tables, `INSERT … SELECT`), on SQLite row by row
(legacy.rows); both apply the same rules. It is safe to repeat: a row is compared with what
the last run saw by its signature, so a rehearsal days before the switch and a final run at it
both work, and the final one reads what changed without visiting each row in Python.

Each table is imported in its own transaction (on SQLite, a transaction per batch of rows): a
crash is resumed by running again. A dry run does all of it in one transaction and rolls it
back, so its counts and timings are the real run's.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, nullcontext
from datetime import timedelta
from decimal import Decimal
from itertools import islice

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Sum
from django.utils import timezone

from legacy import bulk
from legacy.models import ImportedRow, LegacySession
from legacy.report import Report, TableReport
from legacy.rows import LEGACY_REFERENCE, rows_import
from legacy.source import LegacySource
from legacy.tables import TABLES, USER_SESSIONS, Table
from wallets.models import LedgerEntry

# pg_advisory_lock key held by a run (on PostgreSQL): two runs at once would race each other.
RUN_LOCK = 1_800_018


class _DryRun(Exception):
    """Raised at the end of a dry run to roll back everything it wrote."""


class AlreadyRunning(Exception):
    """Another import_legacy holds the run lock on this database."""


@contextmanager
def _one_run_at_a_time() -> Iterator[None]:
    if connection.vendor != "postgresql":
        # SQLite lets one writer in at a time anyway.
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [RUN_LOCK])
        if not cursor.fetchone()[0]:
            raise AlreadyRunning("another import_legacy is running against this database")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [RUN_LOCK])


def legacy_import(
    *,
    source: LegacySource,
    dry_run: bool = False,
    set_based: bool | None = None,
    batch_size: int = 500,
    chunk_size: int = 100_000,
    progress: Callable[[str], None] = lambda line: None,
) -> Report:
    """Imports every old table; returns what it did (or, dry, would do).

    Args:
        source: the old database, opened on one snapshot.
        dry_run: do everything, then roll it back.
        set_based: the set-based path; by default when our database is PostgreSQL.
        batch_size: rows per transaction on the per-row path.
        chunk_size: staged rows per savepoint on the set-based path.
        progress: called with a line of text as steps finish.
    """
    if set_based is None:
        set_based = connection.vendor == "postgresql"
    report = Report(
        dry_run=dry_run,
        path="set-based (COPY into staging tables, INSERT … SELECT)" if set_based else "row by row",
        old_balance_total=source.total_balance(),
    )
    started = time.perf_counter()
    try:
        with _one_run_at_a_time(), transaction.atomic() if dry_run else nullcontext():
            for table in TABLES:
                result = TableReport(table.name, present=source.has_table(table.name))
                report.tables.append(result)
                if not result.present:
                    continue
                with result.step("total"):
                    if set_based:
                        with transaction.atomic():
                            bulk.table_import(
                                source=source,
                                table=table,
                                result=result,
                                chunk_size=chunk_size,
                                progress=progress,
                            )
                    else:
                        _table_import_by_rows(
                            source=source, table=table, result=result, batch_size=batch_size
                        )
                progress(f"{table.name}: done in {result.seconds['total']:.2f} s")
            report.opening_balance_total = imported_opening_total()
            report.seconds = time.perf_counter() - started
            if dry_run:
                raise _DryRun
    except _DryRun:
        pass
    return report


def _batches(rows: Iterable[dict], size: int) -> Iterator[list[dict]]:
    rows = iter(rows)
    while batch := list(islice(rows, size)):
        yield batch


def _table_import_by_rows(
    *, source: LegacySource, table: Table, result: TableReport, batch_size: int
) -> None:
    already = ImportedRow.objects.filter(table=table.name).count()
    seen_sessions: set[str] = set()
    with result.step("one by one"):
        for batch in _batches(source.rows(table, batch_size), batch_size):
            if table is USER_SESSIONS:
                seen_sessions.update(row["session_hash"] for row in batch)
            with transaction.atomic():
                outcomes = rows_import(table=table, rows=batch, result=result)
            result.new += outcomes["new"]
            result.changed += outcomes["changed"]
            result.unchanged += outcomes["unchanged"]
            result.read += len(batch)
            result.gone -= outcomes["changed"] + outcomes["unchanged"] + outcomes["refused changed"]
    result.gone += already
    if table is USER_SESSIONS:
        # Signed out of the old system since an earlier run: not honoured here either.
        stored = LegacySession.objects.values_list("session_hash", flat=True).iterator()
        gone = [session_hash for session_hash in stored if session_hash not in seen_sessions]
        for start in range(0, len(gone), batch_size):
            LegacySession.objects.filter(session_hash__in=gone[start : start + batch_size]).delete()


def imported_opening_total() -> Decimal:
    """The sum of every entry the import wrote: what the old balances add up to here."""
    total = LedgerEntry.objects.filter(reference__startswith=LEGACY_REFERENCE).aggregate(total=Sum("amount"))
    # SQLite sums decimals as floats; our amounts are whole kopecks.
    return (total["total"] or Decimal(0)).quantize(Decimal("0.01"))


# Sign-ins from the old system ---------------------------------------------------------------------
def legacy_session_hash(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


def legacy_session_claim(*, session_id: str) -> LegacySession | None:
    """The stored old session behind a `session_id` cookie, taken once: the record is deleted
    by the request that claims it, whatever its age. Returns it only if it is younger than the
    absolute session lifetime and its owner may sign in.
    """
    session_hash = legacy_session_hash(session_id)
    stored = LegacySession.objects.filter(session_hash=session_hash).select_related("user").first()
    if stored is None:
        return None
    # Of two requests carrying the same cookie, only the one whose DELETE removed the row goes on.
    deleted, _ = LegacySession.objects.filter(session_hash=session_hash).delete()
    if deleted != 1:
        return None
    cutoff = timezone.now() - timedelta(seconds=settings.SESSION_ABSOLUTE_LIFETIME)
    if stored.created_at <= cutoff or not stored.user.is_active:
        return None
    return stored
