"""The old system's `session_id` cookie, after the import: it signs its owner in exactly once."""

import threading
import time
from datetime import timedelta
from io import StringIO
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.core.management import call_command
from django.db import connection
from django.test import Client, override_settings
from django.utils import timezone

from accounts.middleware import STARTED_KEY
from accounts.models import User
from legacy.models import LegacySession

pytestmark = pytest.mark.django_db(transaction=True)

# Our own host: the cookie is read only there.
HOST = urlsplit(settings.SITE_URL).netloc


def import_legacy(legacy_db) -> None:
    call_command("import_legacy", "--source", legacy_db.url, stdout=StringIO(), stderr=StringIO())


def old_browser(session_id: str, host: str = HOST) -> Client:
    """A browser that was signed in to the old system: it still carries its cookie."""
    browser = Client(HTTP_HOST=host)
    browser.cookies["session_id"] = session_id
    return browser


def signed_in_as(browser: Client) -> User | None:
    user_id = browser.session.get(SESSION_KEY)
    return User.objects.get(pk=user_id) if user_id else None


@pytest.fixture
def old_session(legacy_db):
    """An imported old system whose user vk_100000 was signed in with this session id."""
    wrote = legacy_db.fill(users=10)
    import_legacy(legacy_db)
    return next(key for key, owner in wrote["sessions"].items() if owner == "vk_100000")


def test_an_old_session_cookie_signs_its_owner_in_exactly_once(old_session):
    browser = old_browser(old_session)

    response = browser.get("/profile/")

    assert response.status_code == 200
    assert signed_in_as(browser).casdoor_id == "vk_100000"
    # The old cookie is deleted in the same response, and the record with it.
    deleted = response.cookies["session_id"]
    assert (deleted.value, deleted["max-age"], deleted["path"]) == ("", 0, "/")
    assert not LegacySession.objects.filter(user__casdoor_id="vk_100000").exists()
    # The new session keeps the user signed in without the old cookie.
    assert browser.get("/profile/").status_code == 200
    # Another browser replaying the same cookie gets nothing.
    replay = old_browser(old_session)
    assert replay.get("/profile/").status_code == 302
    assert signed_in_as(replay) is None


def test_an_expired_old_session_signs_nobody_in(legacy_db):
    legacy_db.fill(users=10)
    # This old table knows when each session began; one began longer ago than we keep sessions.
    legacy_db.execute("ALTER TABLE user_sessions ADD COLUMN created_at timestamptz DEFAULT now()")
    legacy_db.execute(
        "INSERT INTO user_sessions VALUES ('0b9f2c1e-5d43-4a8e-9c55-6f1d2e3a4b5c', 'vk_100000',"
        " now() - make_interval(secs => %s))",
        [settings.SESSION_ABSOLUTE_LIFETIME + 60],
    )
    import_legacy(legacy_db)
    browser = old_browser("0b9f2c1e-5d43-4a8e-9c55-6f1d2e3a4b5c")

    response = browser.get("/profile/")

    assert response.status_code == 302
    assert signed_in_as(browser) is None
    assert response.cookies["session_id"].value == ""


def test_a_forged_old_session_cookie_signs_nobody_in(old_session):
    forged = old_session[:-4] + ("0000" if not old_session.endswith("0000") else "1111")
    browser = old_browser(forged)

    response = browser.get("/profile/")

    assert response.status_code == 302
    assert signed_in_as(browser) is None
    assert response.cookies["session_id"].value == ""
    # The real owner's session is still there for the real cookie.
    assert LegacySession.objects.filter(user__casdoor_id="vk_100000").exists()


def test_the_new_session_ends_when_the_old_one_would_have(legacy_db):
    legacy_db.fill(users=10)
    legacy_db.execute("ALTER TABLE user_sessions ADD COLUMN created_at timestamptz DEFAULT now()")
    legacy_db.execute(
        "INSERT INTO user_sessions VALUES ('3c2b1a09-8d7e-4f6a-b5c4-d3e2f1a0b9c8', 'vk_100000',"
        " now() - interval '30 days')"
    )
    import_legacy(legacy_db)
    browser = old_browser("3c2b1a09-8d7e-4f6a-b5c4-d3e2f1a0b9c8")

    browser.get("/profile/")

    session = browser.session
    assert session[STARTED_KEY] == pytest.approx(time.time() - 30 * 24 * 3600, abs=60)
    remaining = settings.SESSION_ABSOLUTE_LIFETIME - 30 * 24 * 3600
    assert session.get_expiry_age() <= min(settings.SESSION_COOKIE_AGE, remaining)


def test_the_cookie_is_read_only_on_our_own_host(old_session):
    elsewhere = old_browser(old_session, host="testserver")

    response = elsewhere.get("/profile/")

    assert response.status_code == 302
    assert "session_id" not in response.cookies
    assert LegacySession.objects.filter(user__casdoor_id="vk_100000").exists()


@override_settings(SITE_URL="https://lk.example.ru", ALLOWED_HOSTS=["lk.example.ru"])
def test_in_production_the_cookie_is_read_only_over_https(old_session):
    browser = old_browser(old_session, host="lk.example.ru")

    plain = browser.get("/profile/")
    assert plain.status_code == 302
    assert LegacySession.objects.filter(user__casdoor_id="vk_100000").exists()

    secure = browser.get("/profile/", secure=True)

    assert secure.status_code == 200
    assert signed_in_as(browser).casdoor_id == "vk_100000"
    assert secure.cookies["session_id"]["secure"] is True


def test_a_post_does_not_use_the_cookie(old_session):
    browser = old_browser(old_session)

    browser.post("/accounts/logout/")

    assert signed_in_as(browser) is None
    assert LegacySession.objects.filter(user__casdoor_id="vk_100000").exists()


def test_someone_already_signed_in_stays_who_they_are_and_the_old_session_is_dropped(old_session):
    other = User.objects.get(casdoor_id="google_100001")
    browser = old_browser(old_session)
    browser.force_login(other)

    response = browser.get("/profile/")

    assert response.status_code == 200
    assert signed_in_as(browser) == other
    assert not LegacySession.objects.filter(user__casdoor_id="vk_100000").exists()


def test_a_disabled_user_is_not_signed_in(old_session):
    User.objects.filter(casdoor_id="vk_100000").update(is_active=False)
    browser = old_browser(old_session)

    assert browser.get("/profile/").status_code == 302
    assert signed_in_as(browser) is None


def test_a_session_used_here_is_not_brought_back_by_a_later_import(legacy_db, old_session):
    old_browser(old_session).get("/profile/")

    import_legacy(legacy_db)

    replay = old_browser(old_session)
    assert replay.get("/profile/").status_code == 302
    assert signed_in_as(replay) is None


def test_a_session_signed_out_of_the_old_system_before_the_final_run_is_not_honoured(legacy_db, old_session):
    legacy_db.execute("DELETE FROM user_sessions WHERE token = 'vk_100000'")

    import_legacy(legacy_db)

    browser = old_browser(old_session)
    assert browser.get("/profile/").status_code == 302
    assert signed_in_as(browser) is None


@pytest.mark.postgres
def test_two_requests_racing_with_the_same_cookie_sign_in_once(old_session):
    browsers = [old_browser(old_session) for _ in range(4)]
    start = threading.Barrier(len(browsers))
    answers: list[int] = []

    def load(browser: Client) -> None:
        start.wait()
        try:
            answers.append(browser.get("/profile/").status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=load, args=(browser,)) for browser in browsers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(answers) == [200, 302, 302, 302]
    assert [signed_in_as(browser) is not None for browser in browsers].count(True) == 1


def test_old_sessions_are_counted_from_when_the_import_first_saw_them_if_the_old_table_does_not_say(
    old_session,
):
    stored = LegacySession.objects.get(user__casdoor_id="vk_100000")

    assert timezone.now() - timedelta(minutes=5) < stored.created_at <= timezone.now()
