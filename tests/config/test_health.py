import json

import pytest
from django.test import Client

from tests.helpers import run_python


@pytest.mark.django_db
def test_healthz_reports_every_part_up(client: Client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "up", "cache": "up", "broker": "up"}


def healthz_in_a_process_with(**environ: str) -> tuple[int, dict]:
    """Asks /healthz of a fresh Django process configured by `environ` (a real outage: nothing
    in it is patched)."""
    script = (
        "import django, json; django.setup();"
        "from django.test import Client;"
        "r = Client().get('/healthz');"
        "print(json.dumps([r.status_code, r.json()]))"
    )
    done = run_python("-c", script, DEBUG="true", **environ)
    assert done.returncode == 0, done.stderr
    status, body = json.loads(done.stdout.strip().splitlines()[-1])
    return status, body


def test_healthz_answers_503_when_the_database_is_unreachable_and_reveals_no_secrets():
    # The pool gives up after DB_POOL_TIMEOUT (10 s by default); one second says the same.
    status, body = healthz_in_a_process_with(
        DATABASE_URL="postgres://postgres:s3cret@127.0.0.1:1/nothing", DB_POOL_TIMEOUT="1"
    )
    assert status == 503
    assert body["database"] == "down"
    assert body["status"] == "fail"
    assert "s3cret" not in json.dumps(body)


def test_healthz_answers_503_when_the_broker_is_unreachable():
    status, body = healthz_in_a_process_with(REDIS_URL="redis://127.0.0.1:1/0")
    assert status == 503
    assert body["broker"] == "down"
    assert body["cache"] == "down"
