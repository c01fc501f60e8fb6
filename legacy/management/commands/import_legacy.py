"""python manage.py import_legacy --source postgres://… [--dry-run] [--batch-size N]

Imports the old system's users (`wallets`), payments, chats and messages. Safe to run again:
what was imported is skipped, so a rehearsal days before the switch and a final run at it
both work. Each table is imported in batches, each batch in its own transaction, each row in
its own savepoint: a bad row is reported and skipped, and a crash is resumed by re-running.
"""

from __future__ import annotations

from collections import Counter
from contextlib import nullcontext
from decimal import Decimal

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from legacy.services import IMPORTERS, BadRow, Imported, Outcome, imported_opening_total
from legacy.source import LegacySource


class DryRunRollback(Exception):
    """Raised at the end of a dry run to roll back everything it wrote."""


class Command(BaseCommand):
    help = "Import users, balances, payments and chats from the old FastAPI system's database."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--source", required=True, help="postgres://… URL of the old database")
        parser.add_argument("--dry-run", action="store_true", help="show what would change, write nothing")
        parser.add_argument("--batch-size", type=int, default=500)

    def handle(self, *args, source: str, dry_run: bool, batch_size: int, **options) -> None:
        try:
            legacy = LegacySource(source)
        except Exception as exc:
            raise CommandError(f"Cannot open the old database: {exc}") from exc
        self.counts: dict[str, Counter] = {}
        self.failures: list[str] = []
        try:
            if not legacy.has_table("wallets"):
                raise CommandError("The old database has no `wallets` table: is --source right?")
            old_total = legacy.total_balance()
            try:
                # A dry run writes inside one transaction and rolls it back at the end.
                with transaction.atomic() if dry_run else nullcontext():
                    # Loaded once: each table's importer records into it as it goes, and later
                    # tables (messages) look up what earlier ones (chats) became.
                    imported = Imported.load()
                    for table in IMPORTERS:
                        self.import_table(legacy, table, imported, batch_size)
                    new_total = imported_opening_total()
                    if dry_run:
                        self.report(legacy, old_total, new_total, dry_run)
                        raise DryRunRollback
            except DryRunRollback:
                return
            self.report(legacy, old_total, new_total, dry_run)
        finally:
            legacy.close()

    def import_table(self, legacy: LegacySource, table: str, imported: Imported, batch_size: int) -> None:
        counts = self.counts.setdefault(table, Counter())
        if not legacy.has_table(table):
            self.stderr.write(f"{table}: not in the old database, skipped")
            return
        total = legacy.count(table)
        importer = IMPORTERS[table]
        batch: list[dict] = []

        def flush() -> None:
            with transaction.atomic():
                for row in batch:
                    counts["read"] += 1
                    try:
                        with transaction.atomic():
                            counts[importer(row=row, imported=imported)] += 1
                    except BadRow as exc:
                        self.fail(table, row, str(exc), counts)
                    except Exception as exc:
                        self.fail(table, row, f"{type(exc).__name__}: {exc}", counts)
            self.progress(table, counts["read"], total)
            batch.clear()

        for row in legacy.rows(table, batch_size):
            batch.append(row)
            if len(batch) >= batch_size:
                flush()
        if batch:
            flush()
        self.progress(table, counts["read"], total, finished=True)

    def fail(self, table: str, row: dict, reason: str, counts: Counter) -> None:
        counts["failed"] += 1
        key = row.get({"wallets": "casdoor_id", "payments": "yookassa_payment_id"}.get(table, "id"))
        self.failures.append(f"{table} {key!r}: {reason}")

    def progress(self, table: str, done: int, total: int, *, finished: bool = False) -> None:
        width = 30
        filled = min(width, width * done // total) if total else width
        line = f"\r{table:<10} [{'#' * filled}{'.' * (width - filled)}] {done}/{total}"
        self.stderr.write(line, ending="\n" if finished else "")
        self.stderr.flush()

    def report(self, legacy: LegacySource, old_total: Decimal, new_total: Decimal, dry_run: bool) -> None:
        header = f"{'table':<14}{'read':>8}{'created':>9}{'updated':>9}{'skipped':>9}{'failed':>8}"
        lines = ["", "Dry run: nothing was written." if dry_run else "Import finished.", header]
        for table, counts in self.counts.items():
            lines.append(
                f"{table:<14}{counts['read']:>8}{counts[Outcome.CREATED]:>9}{counts[Outcome.UPDATED]:>9}"
                f"{counts[Outcome.SKIPPED]:>9}{counts['failed']:>8}"
            )
        if legacy.has_table("user_sessions"):
            lines.append(
                f"user_sessions {legacy.count('user_sessions'):>8}  not imported: users sign in again"
            )
        lines.append(f"Balance in the old database: {old_total} ₽; opening balances here: {new_total} ₽.")
        lines.append(
            "Balances match." if Decimal(old_total) == new_total else "BALANCES DIFFER: see failed rows."
        )
        for failure in self.failures:
            lines.append(f"  failed: {failure}")
        self.stdout.write("\n".join(lines))
