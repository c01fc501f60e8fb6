"""The chat relay's overhead: the fake OpenRouter read directly vs through POST /api/chats/send.

Same run, same fake upstream (OpenRouter's SSE as tests/fakes/openrouter.py speaks it, served
from asyncio in its own process: a token every `--pace` seconds, usage in the last event), same
client code. Our endpoint runs under uvicorn
(uvloop + httptools, DEBUG off) as a subprocess on PostgreSQL + Redis with billing on: every
stream places a hold, settles it and records the messages. Printed per concurrency level:

- time to the first content line (TTFT) and total time, p50 and p99, direct and via us, and
  what we add;
- the gap between consecutive content chunks (p50, p99) and what we add;
- uvicorn's CPU time (user + system, from /proc) per streamed request.

For scale, the same load also goes through a bare Django relay (bench/bare_relay.py: one async
view, startproject's middleware, httpx, no session, no database, no billing) under the same
uvicorn settings: the "bare" columns are what Django alone adds on this machine.

"N concurrent streams" is a closed loop: N clients each stream `--rounds` replies back to
back, their first request spread over one stream's length, so N streams are in flight at
once in steady state. Each client is its own user (one wallet each, as in real traffic).

Run against a scratch PostgreSQL database and a spare Redis database:

    createdb -h 127.0.0.1 -U postgres h_bench_chat
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/h_bench_chat REDIS_URL=redis://127.0.0.1:6379/14 \\
        .venv/bin/python bench/chat_relay.py --streams 1,100

It migrates the database first, adds users `bench_chat_<run>_<n>` and leaves their rows.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import secrets
import socket
import subprocess
import sys
import time
import uuid
from decimal import Decimal
from pathlib import Path
from statistics import median

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from tests.helpers import free_port, wait_for_port  # noqa: E402

MODEL_ID = "bench/relay"
API_KEY = "bench-openrouter-key"


# The fake upstream, run as `chat_relay.py --serve-fake PORT TOKENS PACE` in its own process.
# tests/fakes/openrouter.py's server has one thread per stream; at 100 streams its threads would
# be the bottleneck, so the bench serves its bytes (comment line, one `data:` event per token,
# usage in the last event, `[DONE]`, X-Generation-Id), built by its functions, from asyncio.
def serve_fake(port: int, tokens: int, pace: float, first_delay: float = 0.0) -> None:
    import itertools

    from tests.fakes.openrouter import DONE, PROCESSING, chunk, final_event, sse, token_event, usage

    ids = itertools.count(1)

    def event(data: dict) -> bytes:
        return chunk(sse(data))

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = int(
                    next(
                        (
                            line.split(b":")[1]
                            for line in head.split(b"\r\n")
                            if line.lower().startswith(b"content-length:")
                        ),
                        b"0",
                    )
                )
                body = json.loads(await reader.readexactly(length)) if length else {}
                generation_id = f"gen-{next(ids)}"
                # "tokens=N" as the last message asks for a reply of N chunks (the per-chunk mode).
                asked = str((body.get("messages") or [{}])[-1].get("content", ""))
                wanted = int(asked[7:]) if asked.startswith("tokens=") else tokens
                count = min(wanted, body.get("max_tokens") or wanted)
                writer.write(
                    b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
                    b"Transfer-Encoding: chunked\r\nX-Generation-Id: "
                    + generation_id.encode()
                    + b"\r\n\r\n"
                    + chunk(PROCESSING)
                )
                if first_delay:
                    # The model "thinks" first: OpenRouter sends its comment line meanwhile.
                    await writer.drain()
                    await asyncio.sleep(first_delay)
                    writer.write(chunk(PROCESSING))
                for i in range(count):
                    writer.write(event(token_event(generation_id, body.get("model"), f"tok{i} ")))
                    await writer.drain()
                    await asyncio.sleep(pace)
                final = final_event(generation_id, "stop", usage(20, count))
                writer.write(event(final) + chunk(DONE) + chunk(b""))
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            writer.close()

    async def main() -> None:
        server = await asyncio.start_server(handle, "127.0.0.1", port, backlog=1024)
        for sock in server.sockets:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        await server.serve_forever()

    import uvloop

    uvloop.run(main())


# Setup: users with money and sessions, the model, in the database uvicorn will use.
def prepare(users: int) -> list[dict[str, str]]:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from importlib import import_module

    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.utils.crypto import get_random_string

    from accounts.middleware import mark_signed_in
    from accounts.models import User
    from catalog.models import AIModel
    from wallets.services import wallet_create, wallet_credit

    AIModel.objects.update_or_create(
        model_id=MODEL_ID,
        defaults={"name": "Bench", "group": "Bench", "cost_input": Decimal("1"), "cost_output": Decimal("2")},
    )
    run = uuid.uuid4().hex[:8]
    cookies = []
    for n in range(users):
        user = User.objects.create_user(casdoor_id=f"bench_chat_{run}_{n}")
        wallet_create(user=user)
        wallet_credit(user=user, amount=Decimal("10000"), reference=f"bench:chat:{run}:{n}")
        store = import_module(settings.SESSION_ENGINE).SessionStore()
        store[SESSION_KEY] = str(user.pk)
        store[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0]
        store[HASH_SESSION_KEY] = user.get_session_auth_hash()
        # As a real sign-in leaves it: the lifetime stamps set, so a reply does not rewrite the
        # session (that happens once per SESSION_TOUCH_INTERVAL).
        mark_signed_in(store)
        store.save()
        token = get_random_string(32)
        cookies.append({settings.SESSION_COOKIE_NAME: store.session_key, settings.CSRF_COOKIE_NAME: token})
    return cookies


# Measuring one stream ---------------------------------------------------------------------------
class Stream:
    def __init__(self) -> None:
        self.start = time.perf_counter()
        self.first: float | None = None
        self.chunks: list[float] = []
        self.end = 0.0
        self.ok = False

    def chunk(self) -> None:
        now = time.perf_counter()
        self.first = self.first or now
        self.chunks.append(now)


class Connection:
    """A bare HTTP/1.1 keep-alive client on asyncio streams: the bench's own cost per chunk
    stays far below what it measures (httpx would add more than the relay at 100 streams)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def post(self, path: str, body: dict, headers: dict[str, str]) -> int:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
            self.writer.get_extra_info("socket").setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        data = json.dumps(body).encode()
        head = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
        self.writer.write(
            f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{self.port}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(data)}\r\n{head}\r\n".encode()
            + data
        )
        status = int((await self.reader.readuntil(b"\r\n\r\n")).split(b" ", 2)[1])
        return status

    async def lines(self):
        """The chunked body's lines, each as soon as it is complete."""
        pending = b""
        while True:
            size = int((await self.reader.readuntil(b"\r\n")).strip(), 16)
            if size == 0:
                await self.reader.readuntil(b"\r\n")
                break
            pending += (await self.reader.readexactly(size + 2))[:-2]
            *complete, pending = pending.split(b"\n")
            for line in complete:
                yield line
        if pending:
            yield pending


def _has(line: bytes, key: bytes, value: bytes) -> bool:
    """`"key": "value"` in a JSON line, with or without a space after the colon."""
    return b'"%s":"%s' % (key, value) in line or b'"%s": "%s' % (key, value) in line


async def direct(connection: Connection, cookies: dict, message: str = "Hi") -> Stream:
    stream = Stream()
    body = {
        "model": MODEL_ID,
        "messages": [{"role": "user", "content": message}],
        "stream": True,
        "max_tokens": 4096,
    }
    await connection.post("/api/v1/chat/completions", body, {"Authorization": f"Bearer {API_KEY}"})
    async for line in connection.lines():
        if _has(line, b"content", b"tok"):
            stream.chunk()
        stream.ok = stream.ok or b"[DONE]" in line
    stream.end = time.perf_counter()
    return stream


async def relayed(connection: Connection, cookies: dict, message: str = "Hi") -> Stream:
    from django.conf import settings

    stream = Stream()
    headers = {
        "X-CSRFToken": cookies[settings.CSRF_COOKIE_NAME],
        "Cookie": "; ".join(f"{name}={value}" for name, value in cookies.items()),
    }
    status = await connection.post("/api/chats/send", {"model": MODEL_ID, "message": message}, headers)
    if status != 200:
        raise RuntimeError(f"/api/chats/send answered {status}")
    async for line in connection.lines():
        if _has(line, b"type", b"content"):
            stream.chunk()
        stream.ok = stream.ok or _has(line, b"type", b"balance")
    stream.end = time.perf_counter()
    return stream


async def run_level(
    fetch, port: int, cookies: list[dict], concurrency: int, rounds: int, spread: float, message: str = "Hi"
) -> list[Stream]:
    async def worker(i: int) -> list[Stream]:
        await asyncio.sleep(random.uniform(0, spread) if concurrency > 1 else 0)
        connection = Connection(port)
        streams = [await fetch(connection, cookies[i], message) for _ in range(rounds)]
        connection.writer.close()
        return streams

    results = await asyncio.gather(*(worker(i) for i in range(concurrency)))
    return [stream for streams in results for stream in streams]


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))] * 1000


def summary(streams: list[Stream]) -> dict[str, float]:
    ttft = [s.first - s.start for s in streams if s.first]
    total = [s.end - s.start for s in streams]
    gaps = [b - a for s in streams for a, b in zip(s.chunks, s.chunks[1:], strict=False)]
    return {
        "ttft50": pct(ttft, 50),
        "ttft99": pct(ttft, 99),
        "total50": pct(total, 50),
        "total99": pct(total, 99),
        "gap50": pct(gaps, 50),
        "gap99": pct(gaps, 99),
        "failed": sum(not s.ok for s in streams),
    }


def cpu_seconds(pid: int) -> float:
    """User + system CPU of the process and its children (uvicorn's workers), in seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    own = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    return own + sum(cpu_seconds(int(child)) for child in children)


def rss_kb(pid: int) -> int:
    """Resident memory of the process and its children (uvicorn's workers), in KB."""
    own = next(
        int(line.split()[1])
        for line in Path(f"/proc/{pid}/status").read_text().splitlines()
        if line.startswith("VmRSS:")
    )
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    return own + sum(rss_kb(int(child)) for child in children)


class PeakMemory:
    """Samples a server's resident memory every 100 ms while a level runs; keeps the peak."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.peak = 0
        self._stop = False

    def __enter__(self) -> PeakMemory:
        import threading

        def sample() -> None:
            while not self._stop:
                self.peak = max(self.peak, rss_kb(self.pid))
                time.sleep(0.1)

        self._thread = threading.Thread(target=sample, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop = True
        self._thread.join()


def billed(cookies: list[dict]) -> tuple[int, int]:
    """(settled holds, open holds) of the bench's users: every reply must end billed."""
    from importlib import import_module

    from django.conf import settings
    from django.contrib.auth import SESSION_KEY

    from wallets.models import Hold

    store = import_module(settings.SESSION_ENGINE).SessionStore
    users = [store(session_key=c[settings.SESSION_COOKIE_NAME]).get(SESSION_KEY) for c in cookies]
    holds = Hold.objects.filter(wallet_id__in=[int(u) for u in users if u])
    return holds.filter(status=Hold.Status.SETTLED).count(), holds.filter(status=Hold.Status.OPEN).count()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--streams", default="1,100", help="concurrency levels, comma-separated")
    parser.add_argument("--rounds", type=int, default=3, help="replies each client streams per level")
    parser.add_argument("--tokens", type=int, default=40, help="content chunks per reply")
    parser.add_argument("--pace", type=float, default=0.02, help="seconds between chunks upstream")
    parser.add_argument("--workers", type=int, default=1, help="uvicorn worker processes")
    parser.add_argument("--repeat", type=int, default=1, help="runs per level (medians are printed)")
    parser.add_argument(
        "--short-tokens",
        type=int,
        default=0,
        help="also stream replies of this many chunks through us, and split our CPU into a fixed "
        "part per reply and a part per chunk (the difference over the chunks in between)",
    )
    parser.add_argument(
        "--first-delay", type=float, default=0.0, help="seconds upstream waits before the first token"
    )
    parser.add_argument(
        "--spread", type=float, help="seconds over which clients start (default: one reply's length)"
    )
    parser.add_argument("--no-bare", action="store_true", help="skip the bare Django relay")
    parser.add_argument("--app", default="config.asgi:application", help="our ASGI application")
    parser.add_argument("--db-pool", default="40", help="DB_POOL_MAX_SIZE per uvicorn worker")
    parser.add_argument(
        "--serve-fake", nargs=4, metavar=("PORT", "TOKENS", "PACE", "DELAY"), help=argparse.SUPPRESS
    )
    args = parser.parse_args()
    if args.serve_fake:
        port, tokens, pace, delay = args.serve_fake
        serve_fake(int(port), int(tokens), float(pace), float(delay))
        return
    if not os.environ.get("DATABASE_URL", "").startswith("postgres") or not os.environ.get("REDIS_URL"):
        sys.exit("Set DATABASE_URL (PostgreSQL) and REDIS_URL: see the top of this file.")
    levels = [int(n) for n in args.streams.split(",")]
    python = sys.executable
    # Sessions are signed: this process writes them and uvicorn reads them with the same key.
    os.environ["SECRET_KEY"] = secrets.token_urlsafe(50)
    subprocess.run([python, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, check=True)
    cookies = prepare(max(levels))

    fake_port, app_port = free_port(), free_port()
    fake_url = f"http://127.0.0.1:{fake_port}/api/v1"
    env = {
        **os.environ,
        "DEBUG": "false",
        # Production refuses a non-https SITE_URL; loopback hosts are allowed whatever it is.
        "SITE_URL": "https://bench.localhost",
        "SECURE_SSL_REDIRECT": "false",
        "OPENROUTER_BASE_URL": fake_url,
        "OPENROUTER_API_KEY": API_KEY,
        "LOG_LEVEL": "WARNING",
        "DB_POOL_MAX_SIZE": args.db_pool,
    }
    fake = subprocess.Popen(
        [
            python,
            __file__,
            "--serve-fake",
            str(fake_port),
            str(args.tokens),
            str(args.pace),
            str(args.first_delay),
        ],
        cwd=ROOT,
        env=env,
    )

    def uvicorn(app: str, port: int, **extra_env: str) -> subprocess.Popen:
        command = [str(Path(python).parent / "uvicorn"), app, "--port", str(port), "--loop", "uvloop"]
        command += ["--http", "httptools", "--no-access-log", "--log-level", "warning"]
        return subprocess.Popen(
            [*command, "--workers", str(args.workers)], cwd=ROOT, env={**env, **extra_env}
        )

    app = uvicorn(args.app, app_port)
    bare_port = free_port()
    bare = None if args.no_bare else uvicorn("bench.bare_relay:application", bare_port, UPSTREAM_URL=fake_url)
    try:
        for port in (fake_port, app_port) + (() if bare is None else (bare_port,)):
            wait_for_port(port)
        spread = args.spread if args.spread is not None else args.tokens * args.pace
        print(
            f"{args.tokens} chunks per reply, {args.pace * 1000:.0f} ms apart upstream; "
            f"{args.rounds} replies per client; {args.workers} uvicorn worker(s); times in ms"
        )
        # Warm up both ways (imports, URLconf, connection pools) before anything is measured.
        # Several connections at once, so that every uvicorn worker gets its share.
        warm = min(len(cookies), 4 * args.workers)
        asyncio.run(run_level(direct, fake_port, cookies, warm, 3, 0))
        asyncio.run(run_level(relayed, app_port, cookies, warm, 3, 0))
        if bare is not None:
            asyncio.run(run_level(relayed, bare_port, cookies, warm, 3, 0))
        idle_kb = rss_kb(app.pid)
        empty = dict.fromkeys(("ttft50", "ttft99", "total50", "total99", "gap50", "gap99", "failed"), 0.0)

        def measure(port: int, server: subprocess.Popen | None, level: int, message: str = "Hi"):
            if server is None:
                return empty, 0.0, 0
            cpu_before = cpu_seconds(server.pid)
            with PeakMemory(server.pid) as memory:
                streams = asyncio.run(run_level(relayed, port, cookies, level, args.rounds, spread, message))
            cpu = (cpu_seconds(server.pid) - cpu_before) / len(streams) * 1000
            return summary(streams), cpu, memory.peak

        keys = ("ttft50", "ttft99", "total50", "total99", "gap50", "gap99")
        labels = (
            "first token p50",
            "first token p99",
            "total p50",
            "total p99",
            "chunk gap p50",
            "chunk gap p99",
        )
        for level in levels:
            runs = []
            for _ in range(args.repeat):
                d = summary(asyncio.run(run_level(direct, fake_port, cookies, level, args.rounds, spread)))
                b, bare_cpu, _ = measure(bare_port, bare, level)
                settled_before = billed(cookies[:level])[0]
                r, cpu, peak_kb = measure(app_port, app, level)
                settled, still_open = billed(cookies[:level])
                short_cpu = 0.0
                if args.short_tokens:
                    short_cpu = measure(app_port, app, level, f"tokens={args.short_tokens}")[1]
                runs.append(
                    (d, b, r, bare_cpu, cpu, short_cpu, peak_kb, settled - settled_before, still_open)
                )
            print(f"\n{level} concurrent stream(s), {level * args.rounds} replies each way per run")
            if args.repeat > 1:
                print(f"  median of {args.repeat} runs; [lowest…highest] of what we add")
            print(f"  {'':18}{'direct':>9}{'bare':>9}{'via us':>9}{'bare adds':>11}{'we add':>9}")
            for key, label in zip(keys, labels, strict=True):
                d, b, r = (median([run[i][key] for run in runs]) for i in range(3))
                print(f"  {label:18}{d:9.1f}{b:9.1f}{r:9.1f}{b - d:+11.1f}{r - d:+9.1f}", end="")
                added = sorted(run[2][key] - run[0][key] for run in runs)
                print(f"  [{added[0]:+.1f}…{added[-1]:+.1f}]" if args.repeat > 1 else "")
            bare_cpu, cpu = median([run[3] for run in runs]), median([run[4] for run in runs])
            print(f"  server CPU per request: bare {bare_cpu:.1f} ms, ours {cpu:.1f} ms")
            if args.short_tokens:
                chunks = args.tokens - args.short_tokens
                per_chunk = median([(run[4] - run[5]) / chunks for run in runs])
                fixed = median([run[5] - args.short_tokens * (run[4] - run[5]) / chunks for run in runs])
                print(
                    f"  our CPU split ({args.short_tokens}- vs {args.tokens}-chunk replies): "
                    f"{per_chunk:.3f} ms per chunk, {fixed:.1f} ms fixed per reply"
                )
            per_stream = median([(run[6] - idle_kb) / level for run in runs])
            print(
                f"  our resident memory: idle {idle_kb / 1024:.0f} MB, {per_stream:.0f} KB per open stream (peak)"
            )
            print(
                f"  billed: {median([run[7] for run in runs]):.0f} settled holds per run for "
                f"{level * args.rounds} replies, {max(run[8] for run in runs)} left open"
            )
            failed = [sum(run[i]["failed"] for run in runs) for i in range(3)]
            print(f"  incomplete streams: direct {failed[0]}, bare {failed[1]}, via us {failed[2]}")
    finally:
        for process in (app, bare, fake):
            if process is None:
                continue
            process.terminate()
            process.wait(timeout=10)


if __name__ == "__main__":
    main()
