import asyncio
import threading
import warnings
from decimal import Decimal

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings as django_settings

from config.asgi import application
from tests.helpers import session_key_for
from wallets.services import hold_place, hold_settle, wallet_credit

pytestmark = pytest.mark.django_db(transaction=True)

LAYERS = {"memory": {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}}
if django_settings.REDIS_URL:
    LAYERS["redis"] = django_settings.CHANNEL_LAYERS  # the production configuration, as it is


@pytest.fixture(params=sorted(LAYERS))
def channel_layer(request, settings) -> str:
    """Each test runs with the in-memory layer and, when REDIS_URL is set, with channels-redis."""
    settings.CHANNEL_LAYERS = LAYERS[request.param]
    return request.param


@pytest.fixture
def alice_cookie(alice) -> bytes:
    return f"{django_settings.SESSION_COOKIE_NAME}={session_key_for(alice)}".encode()


async def open_socket(cookie: bytes | None) -> tuple[WebsocketCommunicator, bool]:
    headers = [(b"origin", b"http://testserver")]
    if cookie:
        headers.append((b"cookie", cookie))
    communicator = WebsocketCommunicator(application, "/ws/balance/", headers=headers)
    connected, _ = await communicator.connect(timeout=5)
    return communicator, connected


credit = database_sync_to_async(wallet_credit)


def run(scenario) -> None:
    """Runs an async scenario on a fresh event loop in its own thread.

    Not pytest-asyncio: once a browser test has run, Playwright's sync API keeps an event loop
    running in the main thread for the rest of the session, and no other loop can start there.
    """
    failure: list[BaseException] = []

    def target() -> None:
        loop = asyncio.new_event_loop()
        try:
            loop.run_until_complete(scenario())
        except BaseException as error:
            failure.append(error)
        finally:
            _close(loop)

    thread = threading.Thread(target=target)
    thread.start()
    thread.join()
    if failure:
        raise failure[0]


def _close(loop: asyncio.AbstractEventLoop, *, grace: float = 10) -> None:
    """asyncio.run's clean-up with a bound: what the scenario left running is cancelled and given
    `grace` seconds. Once, under heavy load, a task left by a refused socket on the Redis layer
    did not end after its cancellation and asyncio.run waited for it until the test timed out;
    such a task is now reported as a warning instead of hanging the run."""
    pending = [task for task in asyncio.all_tasks(loop) if not task.done()]
    for task in pending:
        task.cancel()
    if pending:
        _, stuck = loop.run_until_complete(asyncio.wait(pending, timeout=grace))
        if stuck:
            warnings.warn(f"tasks still running {grace} s after their cancellation: {stuck!r}", stacklevel=1)
    loop.run_until_complete(loop.shutdown_asyncgens())
    loop.close()


def test_the_socket_sends_the_current_balance_then_each_committed_change(channel_layer, alice, alice_cookie):
    async def scenario() -> None:
        await credit(user=alice.pk, amount=Decimal("10"), reference="yookassa:0")
        socket, connected = await open_socket(alice_cookie)
        assert connected
        assert await socket.receive_json_from(timeout=5) == {
            "balance": "10.00",
            "held": "0.00",
            "available": "10.00",
        }

        await credit(user=alice.pk, amount=Decimal("150.50"), reference="yookassa:1")

        assert await socket.receive_json_from(timeout=5) == {
            "balance": "160.50",
            "held": "0.00",
            "available": "160.50",
        }
        await socket.disconnect()

    run(scenario)


def test_a_settle_pushes_the_charge_and_the_released_hold(channel_layer, alice, alice_cookie):
    async def scenario() -> None:
        await credit(user=alice.pk, amount=Decimal("100"), reference="yookassa:1")
        await database_sync_to_async(hold_place)(user=alice.pk, amount=Decimal("30"), reference="msg:1")
        socket, _ = await open_socket(alice_cookie)
        assert await socket.receive_json_from(timeout=5) == {
            "balance": "100.00",
            "held": "30.00",
            "available": "70.00",
        }

        await database_sync_to_async(hold_settle)(reference="msg:1", amount=Decimal("12.5"))

        assert await socket.receive_json_from(timeout=5) == {
            "balance": "87.50",
            "held": "0.00",
            "available": "87.50",
        }
        await socket.disconnect()

    run(scenario)


def test_an_anonymous_connection_is_refused(channel_layer, db):
    async def scenario() -> None:
        _, connected = await open_socket(None)
        assert not connected

    run(scenario)


def test_a_forged_session_cookie_is_refused(channel_layer, alice):
    async def scenario() -> None:
        _, connected = await open_socket(f"{django_settings.SESSION_COOKIE_NAME}=forged".encode())
        assert not connected

    run(scenario)


def test_another_users_changes_never_reach_alices_socket(channel_layer, alice, alice_cookie, bob):
    async def scenario() -> None:
        socket, _ = await open_socket(alice_cookie)
        await socket.receive_json_from(timeout=5)

        await credit(user=bob.pk, amount=Decimal("500"), reference="yookassa:bob")

        assert await socket.receive_nothing(timeout=0.5)
        await socket.disconnect()

    run(scenario)


@pytest.mark.skipif(
    not django_settings.REDIS_URL, reason="the Redis channel layer's blocking wait needs REDIS_URL"
)
def test_a_socket_idle_past_the_layers_blocking_wait_still_gets_pushes(alice, alice_cookie):
    """channels-redis waits for a socket's messages with BZPOPMIN of up to 5 s. redis-py 8 aborts
    any read after its default socket_timeout, also 5 s: every idle socket was torn down."""
    from channels_redis.core import RedisChannelLayer

    async def scenario() -> None:
        socket, _ = await open_socket(alice_cookie)
        await socket.receive_json_from(timeout=5)

        await asyncio.sleep(RedisChannelLayer.brpop_timeout * 2 + 1)
        await credit(user=alice.pk, amount=Decimal("42"), reference="yookassa:idle")

        assert await socket.receive_json_from(timeout=5) == {
            "balance": "42.00",
            "held": "0.00",
            "available": "42.00",
        }
        await socket.disconnect()

    run(scenario)
