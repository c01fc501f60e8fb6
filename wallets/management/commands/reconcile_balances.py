"""`manage.py reconcile_balances [--push-casdoor] [--skip-casdoor]`

Checks every wallet against its ledger and holds (and Casdoor's mirror when reachable), prints
the mismatches as a table and exits 1 when there is any. Safe to run at any time: it only
reads, except `--push-casdoor`, which first re-sends every balance to Casdoor.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from accounts import casdoor
from wallets import casdoor_mirror, reconciliation
from wallets.models import Wallet


class Command(BaseCommand):
    help = (
        "Check every wallet: balance = sum(entries), held = sum(open holds), no expired open hold, Casdoor."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--push-casdoor", action="store_true", help="re-send every balance to Casdoor first"
        )
        parser.add_argument("--skip-casdoor", action="store_true", help="do not compare with Casdoor")

    def handle(self, *args, push_casdoor: bool, skip_casdoor: bool, **options) -> None:
        if push_casdoor:
            self._push()
        result = reconciliation.balances_reconcile(now=timezone.now(), check_casdoor=not skip_casdoor)
        if result.casdoor_skipped and not skip_casdoor:
            self.stdout.write(f"Casdoor not compared: {result.casdoor_skipped}")
        if not result.mismatches:
            self.stdout.write(self.style.SUCCESS(f"{result.wallets} wallets checked, no mismatches."))
            return
        rows = [("user", "check", "expected", "actual")] + [
            (m.user, m.check, str(m.expected), str(m.actual)) for m in result.mismatches
        ]
        widths = [max(len(row[i]) for row in rows) for i in range(4)]
        for row in rows:
            self.stdout.write("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)))
        raise CommandError(f"{len(result.mismatches)} mismatches in {result.wallets} wallets.", returncode=1)

    def _push(self) -> None:
        if not casdoor.is_configured():
            raise CommandError(
                "--push-casdoor: Casdoor is not configured (CASDOOR_INTERNAL_URL, client id/secret)."
            )
        failed = 0
        user_ids = list(Wallet.objects.order_by("pk").values_list("pk", flat=True))
        for user_id in user_ids:
            try:
                casdoor_mirror.balance_push(user_id=user_id)
            except casdoor.CasdoorError as error:  # PushInProgress included
                failed += 1
                self.stderr.write(f"user {user_id}: {error}")
        self.stdout.write(f"Pushed {len(user_ids) - failed} of {len(user_ids)} balances to Casdoor.")
