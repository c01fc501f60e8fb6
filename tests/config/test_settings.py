from tests.helpers import run_python

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
        "['lk.example.ru'] ['https://lk.example.ru'] True ('HTTP_X_FORWARDED_PROTO', 'https')"
    )
