"""config.cache: the Redis cache's asyncio client under a burst (1,000 open chat streams save
their progress, or start, at the same moment)."""

import asyncio

import pytest
from django.conf import settings
from django.core.cache import cache

pytestmark = pytest.mark.skipif(
    settings.CACHES["default"]["BACKEND"] != "config.cache.RedisCache", reason="needs Redis (set REDIS_URL)"
)


def test_a_burst_of_async_commands_beyond_the_pool_waits_instead_of_failing():
    burst = settings.REDIS_ASYNC_MAX_CONNECTIONS * 6

    async def write_then_read() -> list:
        await asyncio.gather(*(cache.aset(f"burst:{i}", i, timeout=60) for i in range(burst)))
        return await asyncio.gather(*(cache.aget(f"burst:{i}") for i in range(burst)))

    assert asyncio.run(write_then_read()) == list(range(burst))
