"""`manage.py casdoor_init_data` writes the file Casdoor reads at start (docker compose's
`casdoor-config` service), so a fresh stack has the application the app talks to."""

import json

import pytest
from django.core.management import CommandError, call_command


@pytest.fixture
def casdoor_settings(settings):
    settings.CASDOOR_ORG = "balance"
    settings.CASDOOR_APP_NAME = "Myservice"
    settings.CASDOOR_CLIENT_ID = "a1b2c3"
    settings.CASDOOR_CLIENT_SECRET = "s3cr3t-value"
    settings.CASDOOR_ADMIN_PASSWORD = "admin-pass-0987"
    return settings


def test_the_init_data_creates_the_organization_the_application_and_sets_the_admin_password(
    casdoor_settings, tmp_path
):
    output = tmp_path / "init_data.json"
    call_command("casdoor_init_data", "--output", str(output))

    data = json.loads(output.read_text())
    (organization,) = data["organizations"]
    assert organization["owner"] == "admin"
    assert organization["name"] == "balance"
    assert organization["passwordType"] == "bcrypt"
    (application,) = data["applications"]
    assert application["name"] == "Myservice"
    assert application["organization"] == "balance"
    assert (application["clientId"], application["clientSecret"]) == ("a1b2c3", "s3cr3t-value")
    (admin,) = data["users"]
    assert (admin["owner"], admin["name"], admin["password"]) == ("built-in", "admin", "admin-pass-0987")
    # Only Casdoor (the same uid) reads it: the secret is not world-readable.
    assert output.stat().st_mode & 0o077 == 0


def test_casdoors_own_organization_is_not_recreated(casdoor_settings, tmp_path):
    casdoor_settings.CASDOOR_ORG = "built-in"
    output = tmp_path / "init_data.json"
    call_command("casdoor_init_data", "--output", str(output))
    data = json.loads(output.read_text())
    assert "organizations" not in data
    assert data["applications"][0]["organization"] == "built-in"


@pytest.mark.parametrize("name", ["CASDOOR_CLIENT_SECRET", "CASDOOR_ADMIN_PASSWORD", "CASDOOR_CLIENT_ID"])
@pytest.mark.parametrize("value", ["", "change-me"])
def test_missing_or_placeholder_credentials_are_refused(casdoor_settings, tmp_path, name, value):
    setattr(casdoor_settings, name, value)
    with pytest.raises(CommandError, match=name):
        call_command("casdoor_init_data", "--output", str(tmp_path / "init_data.json"))
    assert not (tmp_path / "init_data.json").exists()
