"""Writes Casdoor's init data (its `initDataFile`) from our settings.

docker compose runs this once before Casdoor starts (service `casdoor-config`), so a fresh stack
has the organization, the application whose client id and secret the app calls Casdoor with,
and an admin password of the operator's choosing instead of Casdoor's default "123". Casdoor
applies the file at every start (`initDataNewOnly` false): the objects it lists are re-created
from `.env`, which makes `.env` their single source. Users of the organization are not in the
file and are never touched.
"""

import json
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError


def init_data(*, org: str, app_name: str, client_id: str, client_secret: str, admin_password: str) -> dict:
    """Casdoor's init data: field names are those of Casdoor's Organization, Application and
    User objects (object/*.go)."""
    data: dict = {
        "applications": [
            {
                "owner": "admin",
                "name": app_name,
                "displayName": app_name,
                "organization": org,
                "cert": "cert-built-in",
                "enablePassword": True,
                "enableSignUp": False,
                "clientId": client_id,
                "clientSecret": client_secret,
                "grantTypes": ["client_credentials"],
                "redirectUris": [],
                "tokenFormat": "JWT",
                "expireInHours": 168,
            }
        ],
        # Casdoor creates built-in/admin with the password "123" before it reads this file;
        # listing the user here replaces it with the operator's password at every start.
        "users": [
            {
                "owner": "built-in",
                "name": "admin",
                "type": "normal-user",
                "password": admin_password,
                "displayName": "Admin",
                "isAdmin": True,
                "signupApplication": "app-built-in",
            }
        ],
    }
    if org != "built-in":
        # Casdoor's own organization exists already and must not be re-created from here.
        data["organizations"] = [
            {
                "owner": "admin",
                "name": org,
                "displayName": settings.SITE_NAME,
                "websiteUrl": settings.SITE_URL,
                # Without a type Casdoor would store passwords as plain text.
                "passwordType": "bcrypt",
                "defaultApplication": app_name,
                "countryCodes": ["RU"],
                "languages": ["ru", "en"],
            }
        ]
    return data


class Command(BaseCommand):
    help = "Writes Casdoor's init_data.json (organization, application, admin password) from settings."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--output", type=Path, required=True, help="Where to write the JSON file.")

    def handle(self, *args, output: Path, **options) -> None:
        admin_password = settings.CASDOOR_ADMIN_PASSWORD
        missing = [
            name
            for name, value in (
                ("CASDOOR_CLIENT_ID", settings.CASDOOR_CLIENT_ID),
                ("CASDOOR_CLIENT_SECRET", settings.CASDOOR_CLIENT_SECRET),
                ("CASDOOR_ADMIN_PASSWORD", admin_password),
            )
            if not value or any(word in value.lower() for word in settings.PLACEHOLDERS)
        ]
        if missing:
            raise CommandError(f"Set {', '.join(missing)} in .env (the example's placeholders are refused).")
        data = init_data(
            org=settings.CASDOOR_ORG,
            app_name=settings.CASDOOR_APP_NAME,
            client_id=settings.CASDOOR_CLIENT_ID,
            client_secret=settings.CASDOOR_CLIENT_SECRET,
            admin_password=admin_password,
        )
        output.write_text(json.dumps(data, ensure_ascii=False, indent=2), encoding="utf-8")
        output.chmod(0o600)
        self.stdout.write(f"Casdoor init data written to {output}.")
