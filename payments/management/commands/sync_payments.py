from datetime import timedelta

from django.core.management.base import BaseCommand

from payments import services


class Command(BaseCommand):
    help = "Ask YooKassa about unfinished payments and pending refunds, and apply the answers."

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--older-than",
            type=int,
            default=None,
            help="Only payments created at least this many seconds ago (default PAYMENTS_SYNC_AFTER_SECONDS).",
        )

    def handle(self, *args, older_than: int | None, **options) -> None:
        finished = services.payments_sync(
            older_than=timedelta(seconds=older_than) if older_than is not None else None
        )
        self.stdout.write(f"{finished} payment(s) reached a final state.")
