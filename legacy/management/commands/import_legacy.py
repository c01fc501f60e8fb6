"""python manage.py import_legacy --source postgres://… [--dry-run] [--report FILE]

Imports the old system's users (`wallets`), payments, chats, messages and sign-in sessions
(legacy.services). Safe to run again: a rehearsal days before the switch and a final run at it
both work, the final one importing only what changed. Prints per table what was (or, with
`--dry-run`, would be) new, changed, unchanged and refused, the balance totals on both sides and
each step's time; `--report FILE` writes the same as JSON.
"""

from __future__ import annotations

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from legacy.services import AlreadyRunning, legacy_import
from legacy.source import LegacySource


class Command(BaseCommand):
    help = "Import users, balances, payments, chats and sessions from the old FastAPI system's database."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--source", required=True, help="postgres://… URL of the old database")
        parser.add_argument("--dry-run", action="store_true", help="do everything, then roll it back")
        parser.add_argument("--report", type=Path, help="also write the report to this file as JSON")
        parser.add_argument("--batch-size", type=int, default=500, help="rows per transaction, row by row")
        parser.add_argument(
            "--chunk-size", type=int, default=100_000, help="rows per statement on the set-based path"
        )

    def handle(
        self,
        *args,
        source: str,
        dry_run: bool,
        report: Path | None,
        batch_size: int,
        chunk_size: int,
        **options,
    ) -> None:
        try:
            legacy = LegacySource(source)
        except Exception as exc:
            raise CommandError(f"Cannot open the old database: {exc}") from exc
        try:
            if not legacy.has_table("wallets"):
                raise CommandError("The old database has no `wallets` table: is --source right?")
            result = legacy_import(
                source=legacy,
                dry_run=dry_run,
                batch_size=batch_size,
                chunk_size=chunk_size,
                progress=self.stderr.write,
            )
        except AlreadyRunning as exc:
            raise CommandError(str(exc)) from exc
        finally:
            legacy.close()
        self.stdout.write(result.as_text())
        if report:
            report.write_text(json.dumps(result.as_dict(), ensure_ascii=False, indent=2) + "\n")
