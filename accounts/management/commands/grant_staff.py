"""`manage.py grant_staff you@example.ru [--superuser]`: lets that account into admin.

Admin has no password form of its own: staff sign in as everyone does (an emailed code or a
provider), so the first admin signs in once and is then granted staff here."""

from django.core.management.base import BaseCommand, CommandError

from accounts import services


class Command(BaseCommand):
    help = "Lets the account with this email into admin (signed in by the site's own sign-in)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("email")
        parser.add_argument("--superuser", action="store_true", help="with every permission")

    def handle(self, *args, email: str, superuser: bool, **options) -> None:
        try:
            user = services.user_staff_grant(email=email, superuser=superuser)
        except services.UserNotFound:
            raise CommandError(
                f"No single account uses {email}: sign in with it on the site first."
            ) from None
        self.stdout.write(
            f"{user.casdoor_id} ({user.email}) is staff{' and superuser' if user.is_superuser else ''}."
        )
