from django.core.management.base import BaseCommand

from accounts import services


class Command(BaseCommand):
    help = "Deletes expired sessions and their usersessions rows (Celery beat runs it daily)."

    def handle(self, *args, **options) -> None:
        removed = services.sessions_cleanup()
        self.stdout.write(f"Removed {removed} expired sessions.")
