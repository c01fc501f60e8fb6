"""The production topology, run natively from the files a deploy uses (`make smoke`).

No Docker engine runs here, so this starts what `docker compose up` would, as processes:

- Debian's `caddy` running the project's Caddyfile, with CADDY_TLS=internal (a local
  certificate authority instead of Let's Encrypt) and its own ports;
- the app exactly as the Dockerfile starts it (`bin/serve`, its flags and defaults, two uvicorn
  workers, DEBUG=false), after `bin/collectstatic` and `manage.py migrate` as the image build and
  the `migrate` service run them;
- Celery's `worker`, `worker-media` and `beat`, with the commands docker-compose.yml gives them,
  on Redis (not eager);
- a fresh PostgreSQL database and a Redis database on the machine's servers (DATABASE_URL and
  REDIS_URL name the servers; the smoke uses its own database on each);
- the fakes from tests/fakes/ as the outside world (YooKassa, OpenRouter, Casdoor, Fal, SMTP).

The app's environment is `.env.example` as an operator copies it, plus only what an operator
must fill in (secrets, the site's address, the keys) and what compose sets (database, Redis,
Casdoor's internal URL, TRUSTED_PROXIES, MEDIA_ROOT), with the external services' base URLs
pointed at the fakes. Caddy reaches the app from 127.0.0.1, which is therefore the trusted
proxy, as Caddy's fixed address is in compose; a "forger" talks to the app straight from
127.0.0.2, and "YooKassa" from 185.71.76.10, an address of its published range added to the
loopback interface for the run. The site's name, lk.smoke.test, is added to /etc/hosts for the
run (the smoke test needs root).
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import signal
import ssl
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import httpx
import psycopg
import pytest
import redis
import yaml

from tests.fakes import casdoor as casdoor_fake
from tests.fakes.fal import FAL_KEY, FakeFal, FalHandler
from tests.fakes.openrouter import API_KEY as OPENROUTER_KEY
from tests.fakes.openrouter import FakeOpenRouter, OpenRouterHandler
from tests.fakes.server import FakeServer
from tests.fakes.smtp import FakeSMTP
from tests.fakes.yookassa import SECRET_KEY as YOOKASSA_SECRET
from tests.fakes.yookassa import SHOP_ID, YOOKASSA_IP, FakeYooKassa, YooKassaHandler
from tests.helpers import CODE_LINE, free_port

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
FORGER_IP = "127.0.0.2"
REDIS_DB = 15
# The site's public name: not a loopback name the app accepts anyway, so a host check that
# forgot SITE_URL's host fails here. /etc/hosts points it at 127.0.0.1 for the run.
SITE_DOMAIN = "lk.smoke.test"
HOSTS_LINE = f"127.0.0.1 {SITE_DOMAIN}  # make smoke\n"


def read_env_file(path: Path) -> dict[str, str]:
    """KEY=VALUE lines as docker compose's env_file reads them (no quotes in ours)."""
    values = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            name, _, value = line.partition("=")
            values[name.strip()] = value
    return values


def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))


def natively(command: list[str]) -> list[str]:
    """A compose command with the image's programs replaced by this virtualenv's."""
    programs = {"python": str(VENV_BIN / "python"), "celery": str(VENV_BIN / "celery")}
    return [programs.get(command[0], command[0]), *command[1:]]


@dataclass
class Stack:
    env: dict[str, str]
    app_port: int
    https_port: int
    ca_file: Path
    media_root: Path
    database_url: str
    yookassa: FakeYooKassa
    openrouter: FakeOpenRouter
    casdoor: FakeServer
    fal: FakeFal
    smtp: FakeSMTP
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)
    logs: dict[str, Path] = field(default_factory=dict)

    @property
    def public_url(self) -> str:
        return f"https://{SITE_DOMAIN}:{self.https_port}"

    @property
    def app_url(self) -> str:
        return f"http://127.0.0.1:{self.app_port}"

    def client(self, *, local_address: str | None = None, **kwargs) -> httpx.Client:
        """An HTTPS client of the public site that trusts Caddy's local authority."""
        transport = httpx.HTTPTransport(verify=self.tls_context(), local_address=local_address)
        return httpx.Client(base_url=self.public_url, transport=transport, timeout=30, **kwargs)

    def tls_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.ca_file))

    def database(self) -> psycopg.Connection:
        return psycopg.connect(self.database_url, autocommit=True)

    def log(self, name: str) -> str:
        return self.logs[name].read_text(encoding="utf-8", errors="replace")


def wait_until(predicate, *, timeout: float, what: str, interval: float = 0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(Exception):
            if result := predicate():
                return result
        time.sleep(interval)
    raise AssertionError(f"{what}: not within {timeout} s")


def compose_environment(*, database_url: str, redis_url: str, casdoor_url: str, media_root: Path) -> dict:
    """The environment docker-compose.yml gives the app's containers, translated to this run:
    its services' names become the local servers, Caddy's fixed address becomes 127.0.0.1 (where
    Caddy connects from here) and the uploads volume a temporary directory. A variable compose
    stops setting is missing here too."""
    services = compose()["services"]
    caddy_address = services["caddy"]["networks"]["default"]["ipv4_address"]
    native = {
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "CASDOOR_INTERNAL_URL": casdoor_url,
        "MEDIA_ROOT": str(media_root),
    }
    environment = {}
    for name, value in services["app"]["environment"].items():
        if name == "TRUSTED_PROXIES":
            value = ",".join("127.0.0.1" if item == caddy_address else item for item in value.split(","))
        environment[name] = native.get(name, value)
    return environment


def _server_url(url: str, path: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, path, "", ""))


@pytest.fixture(scope="session")
def stack(tmp_path_factory) -> Iterator[Stack]:
    tmp = tmp_path_factory.mktemp("smoke")
    database_server = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres")
    redis_server = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
    database_name = f"smoke_{os.getpid()}"
    database_url = _server_url(database_server, f"/{database_name}")
    redis_url = _server_url(redis_server, f"/{REDIS_DB}")
    with psycopg.connect(database_server, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{database_name}"')
        admin.execute(f'CREATE DATABASE "{database_name}"')
    redis.Redis.from_url(redis_url).flushdb()
    subprocess.run(["ip", "addr", "add", f"{YOOKASSA_IP}/32", "dev", "lo"], check=False, capture_output=True)
    hosts = Path("/etc/hosts")
    if HOSTS_LINE not in hosts.read_text():
        with hosts.open("a") as file:
            file.write(HOSTS_LINE)

    yookassa_server = FakeServer(YooKassaHandler).start()
    yookassa_server.yookassa = yookassa = FakeYooKassa(yookassa_server)
    openrouter_server = FakeServer(OpenRouterHandler).start()
    openrouter_server.openrouter = openrouter = FakeOpenRouter(openrouter_server)
    casdoor = FakeServer(casdoor_fake.CasdoorHandler).start()
    casdoor.users, casdoor.down = {}, 0
    fal_server = FakeServer(FalHandler).start()
    fal_server.fal = fal = FakeFal(fal_server)
    smtp = FakeSMTP().start()

    app_port, http_port, https_port = free_port(), free_port(), free_port()
    media_root = tmp / "uploads"
    media_root.mkdir()
    env = {
        # A clean process environment: what the container would have.
        "PATH": os.environ["PATH"],
        "HOME": str(tmp),
        "LANG": "C.UTF-8",
        **read_env_file(ROOT / ".env.example"),
        # What an operator must fill in.
        "SECRET_KEY": secrets.token_urlsafe(50),
        "SITE_URL": f"https://{SITE_DOMAIN}:{https_port}",
        "SITE_DOMAIN": SITE_DOMAIN,
        "POSTGRES_PASSWORD": secrets.token_urlsafe(16),
        "CASDOOR_CLIENT_ID": casdoor_fake.CLIENT_ID,
        "CASDOOR_CLIENT_SECRET": casdoor_fake.CLIENT_SECRET,
        "CASDOOR_ADMIN_PASSWORD": secrets.token_urlsafe(16),
        "YOOKASSA_SHOP_ID": SHOP_ID,
        "YOOKASSA_SECRET_KEY": YOOKASSA_SECRET,
        "OPENROUTER_API_KEY": OPENROUTER_KEY,
        "FAL_KEY": FAL_KEY,
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": str(smtp.port),
        "SMTP_USE_TLS": "false",
        # What docker-compose.yml sets for the app, each in its native form (below).
        **compose_environment(
            database_url=database_url, redis_url=redis_url, casdoor_url=casdoor.url, media_root=media_root
        ),
        # The outside world is the fakes.
        "YOOKASSA_API_URL": yookassa.url,
        "OPENROUTER_BASE_URL": openrouter.base_url,
        "FAL_QUEUE_URL": fal.url,
        "FAL_FILE_HOSTS": fal.url,
        "MEDIA_POLL_INTERVAL_SECONDS": "0.5",
        # Where bin/serve finds uvicorn outside the image.
        "UVICORN": str(VENV_BIN / "uvicorn"),
        "APP_PORT": str(app_port),
    }
    stack = Stack(
        env=env,
        app_port=app_port,
        https_port=https_port,
        ca_file=tmp / "caddy-data" / "caddy" / "pki" / "authorities" / "local" / "root.crt",
        media_root=media_root,
        database_url=database_url,
        yookassa=yookassa,
        openrouter=openrouter,
        casdoor=casdoor,
        fal=fal,
        smtp=smtp,
    )
    services = compose()["services"]

    def run_once(name: str, command: list[str], **extra_env: str) -> None:
        done = subprocess.run(
            command, cwd=ROOT, env={**env, **extra_env}, capture_output=True, text=True, timeout=300
        )
        assert done.returncode == 0, f"{name} failed:\n{done.stdout}\n{done.stderr}"

    def start(name: str, command: list[str], **extra_env: str) -> None:
        log = tmp / f"{name}.log"
        stack.logs[name] = log
        stack.processes[name] = subprocess.Popen(
            command,
            cwd=ROOT,
            env={**env, **extra_env},
            stdout=log.open("wb"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    try:
        # The image build's static step, then the one-shot services.
        run_once("collectstatic", ["bin/collectstatic"], PYTHON=str(VENV_BIN / "python"))
        run_once("migrate", natively(services["migrate"]["command"]))
        casdoor_command = natively(services["casdoor-config"]["command"])
        run_once("casdoor-config", [*casdoor_command[:-1], str(tmp / "init_data.json")])

        start("app", [str(ROOT / "bin" / "serve")])
        for name in ("worker", "worker-media", "beat"):
            command = natively(services[name]["command"])
            if name == "beat":
                command = [*command[:-1], str(tmp / "celerybeat-schedule")]
            start(name, [*command, f"--hostname={name}@smoke"] if name != "beat" else command)
        start(
            "caddy",
            ["caddy", "run", "--config", str(ROOT / "Caddyfile"), "--adapter", "caddyfile"],
            SITE_DOMAIN=SITE_DOMAIN,
            APP_UPSTREAM=f"127.0.0.1:{app_port}",
            CADDY_TLS="internal",
            CADDY_HTTP_PORT=str(http_port),
            CADDY_HTTPS_PORT=str(https_port),
            XDG_DATA_HOME=str(tmp / "caddy-data"),
            XDG_CONFIG_HOME=str(tmp / "caddy-config"),
        )
        wait_until(lambda: httpx.get(f"{stack.app_url}/healthz").status_code == 200, timeout=60, what="app")
        wait_until(stack.ca_file.exists, timeout=30, what="Caddy's local certificate authority")
        with stack.client() as client:
            wait_until(lambda: client.get("/healthz").status_code == 200, timeout=30, what="Caddy")
        for name in ("worker", "worker-media"):
            wait_until(lambda name=name: "ready." in stack.log(name), timeout=60, what=f"{name}")
        yield stack
    finally:
        # Each step runs whatever the others did: the machine is left as it was found.
        def stop_processes() -> None:
            for process in reversed(stack.processes.values()):
                if process.poll() is None:
                    with contextlib.suppress(ProcessLookupError):
                        os.killpg(process.pid, signal.SIGTERM)
            for process in stack.processes.values():
                try:
                    process.wait(timeout=40)
                except subprocess.TimeoutExpired:
                    with contextlib.suppress(ProcessLookupError):
                        os.killpg(process.pid, signal.SIGKILL)

        def keep_logs() -> None:
            if os.environ.get("SMOKE_KEEP_LOGS"):
                kept = Path(tempfile.gettempdir()) / "smoke-logs"
                shutil.rmtree(kept, ignore_errors=True)
                shutil.copytree(tmp, kept, ignore=shutil.ignore_patterns("caddy-data", "uploads"))

        def drop_database() -> None:
            with psycopg.connect(database_server, autocommit=True) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{database_name}" WITH (FORCE)')

        for step in (
            stop_processes,
            *(server.stop for server in (yookassa_server, openrouter_server, casdoor, fal_server, smtp)),
            lambda: subprocess.run(
                ["ip", "addr", "del", f"{YOOKASSA_IP}/32", "dev", "lo"], capture_output=True
            ),
            lambda: hosts.write_text(hosts.read_text().replace(HOSTS_LINE, "")),
            drop_database,
            keep_logs,
        ):
            try:
                step()
            except Exception as error:
                print(f"smoke clean-up: {error!r}", file=sys.stderr)


@pytest.fixture(scope="session")
def user(stack) -> httpx.Client:
    """A person signed in through the public site with an emailed code (see the sign-in test)."""
    client = stack.client(follow_redirects=False)
    sign_in(stack, client, "smoke@example.ru")
    yield client
    client.close()


def csrf_token(client: httpx.Client) -> str:
    if "csrftoken" not in client.cookies:
        client.get("/accounts/login/")
    return client.cookies["csrftoken"]


def sign_in(stack: Stack, client: httpx.Client, email: str) -> httpx.Response:
    headers = {"Referer": f"{stack.public_url}/accounts/login/"}
    token = csrf_token(client)
    asked = client.post(
        "/accounts/email-code/", data={"email": email, "csrfmiddlewaretoken": token}, headers=headers
    )
    assert asked.status_code == 302, asked.text
    mail = stack.smtp.wait_for(email)
    body = mail.get_body(("plain",)).get_content()
    code = [line.strip() for line in body.splitlines() if CODE_LINE.match(line.strip())][-1]
    confirmed = client.post(
        asked.headers["Location"],
        data={"code": code, "csrfmiddlewaretoken": client.cookies["csrftoken"]},
        headers=headers,
    )
    assert confirmed.status_code == 302, confirmed.text
    return confirmed


def api_headers(stack: Stack, client: httpx.Client) -> dict:
    return {"X-CSRFToken": client.cookies["csrftoken"], "Referer": f"{stack.public_url}/"}
