import pytest

from tests.config.process import ROOT, run_python

PRODUCTION = {
    "DEBUG": "false",
    "SECRET_KEY": "a-production-like-secret-key-with-plenty-of-entropy-0123456789abcdef",
    "SITE_URL": "https://lk.example.ru",
}


def manage(*args: str, **environ: str):
    return run_python("manage.py", *args, **environ)


def test_production_settings_refuse_to_start_without_secret_key():
    done = manage("check", DEBUG="false", SITE_URL="https://lk.example.ru")
    assert done.returncode != 0
    assert "SECRET_KEY" in done.stderr


def test_production_settings_refuse_to_start_without_site_url():
    done = manage("check", DEBUG="false", SECRET_KEY=PRODUCTION["SECRET_KEY"])
    assert done.returncode != 0
    assert "SITE_URL" in done.stderr


def test_check_deploy_is_clean_with_production_values():
    done = manage("check", "--deploy", "--fail-level", "WARNING", **PRODUCTION)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "WARNING" not in done.stderr


def test_production_hosts_and_origins_come_from_site_url():
    script = (
        "import django; django.setup(); from django.conf import settings as s;"
        "print(s.ALLOWED_HOSTS, s.CSRF_TRUSTED_ORIGINS, s.SESSION_COOKIE_SECURE, s.SECURE_PROXY_SSL_HEADER)"
    )
    done = run_python("-c", script, **PRODUCTION)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == (
        "['lk.example.ru', '127.0.0.1', 'localhost', '[::1]'] ['https://lk.example.ru'] True"
        " ('HTTP_X_FORWARDED_PROTO', 'https')"
    )


def settings_value(expression: str, **environ: str) -> str:
    script = f"import django; django.setup(); from django.conf import settings as s; print({expression})"
    done = run_python("-c", script, **environ)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_empty_variables_mean_not_set():
    # `.env.example` lists every variable, most of them empty.
    empty = {"ALLOWED_HOSTS": "", "MEDIA_ROOT": "", "DATABASE_URL": "", "REDIS_URL": "", "SMTP_PORT": ""}
    value = settings_value(
        "s.ALLOWED_HOSTS, s.MEDIA_ROOT == s.BASE_DIR / 'uploads', s.DATABASES['default']['ENGINE'], s.EMAIL_PORT",
        **PRODUCTION,
        **empty,
        SMTP_HOST="smtp.example.ru",
    )
    assert value == "['lk.example.ru', '127.0.0.1', 'localhost', '[::1]'] True django.db.backends.sqlite3 587"


def test_allowed_hosts_adds_names_to_site_urls_host():
    value = settings_value("s.ALLOWED_HOSTS", **PRODUCTION, ALLOWED_HOSTS="www.example.ru,old.example.ru")
    assert value == "['lk.example.ru', 'www.example.ru', 'old.example.ru', '127.0.0.1', 'localhost', '[::1]']"


@pytest.mark.parametrize(
    ("environ", "named"),
    [
        ({"MEDIA_ROOT": "."}, "MEDIA_ROOT"),
        ({"MEDIA_ROOT": str(ROOT)}, "MEDIA_ROOT"),
        ({"MEDIA_ROOT": str(ROOT.parent)}, "MEDIA_ROOT"),
        ({"MEDIA_ROOT": "/"}, "MEDIA_ROOT"),
        ({"MEDIA_ROOT": str(ROOT / "config")}, "MEDIA_ROOT"),
        ({"SITE_URL": "http://lk.example.ru"}, "SITE_URL"),
        ({"SITE_DOMAIN": "other.example.ru"}, "SITE_DOMAIN"),
        ({"SECRET_KEY": "short-key"}, "SECRET_KEY"),
        ({"SECRET_KEY": "a" * 60}, "SECRET_KEY"),
        ({"SECRET_KEY": "django-insecure-" + PRODUCTION["SECRET_KEY"]}, "SECRET_KEY"),
        ({"POSTGRES_PASSWORD": "change-me"}, "POSTGRES_PASSWORD"),
        ({"CASDOOR_CLIENT_SECRET": "change-me"}, "CASDOOR_CLIENT_SECRET"),
    ],
)
def test_production_refuses_to_start_with_a_dangerous_value(environ, named):
    done = manage("check", **{**PRODUCTION, **environ})
    assert done.returncode != 0
    assert "Refusing to start" in done.stderr
    assert named in done.stderr


def test_a_media_root_holding_the_code_is_refused_in_development_too():
    done = manage("check", DEBUG="true", MEDIA_ROOT=str(ROOT))
    assert done.returncode != 0
    assert "MEDIA_ROOT" in done.stderr


@pytest.mark.parametrize("media_root", [str(ROOT / "uploads"), str(ROOT / "uploads" / "media"), "/srv/media"])
def test_a_dedicated_media_root_is_accepted(media_root):
    done = manage("check", **PRODUCTION, MEDIA_ROOT=media_root, SITE_DOMAIN="lk.example.ru")
    assert done.returncode == 0, done.stderr
