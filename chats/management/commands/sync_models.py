from django.core.management.base import BaseCommand, CommandError

from catalog import services
from chats import openrouter


class Command(BaseCommand):
    """The catalog takes the prices; chats owns the OpenRouter client that reads them."""

    help = "Updates chat models' prices and context lengths from OpenRouter's /models."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--dry-run", action="store_true", help="Show the changes without saving them.")

    def handle(self, *args, dry_run: bool = False, **options) -> None:
        try:
            offered = openrouter.list_models()
        except openrouter.OpenRouterError as exc:
            raise CommandError(str(exc)) from exc
        report = services.catalog_sync(offered=offered, dry_run=dry_run)
        for line in report.changes:
            self.stdout.write(line)
        for model_id in report.missing:
            self.stdout.write(self.style.WARNING(f"{model_id}: not offered by OpenRouter any more"))
        verb = "would change" if dry_run else "changed"
        self.stdout.write(
            self.style.SUCCESS(f"{len(report.changes)} models {verb}, {report.unchanged} unchanged.")
        )
